using System.Linq;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dhcp.Dnsmasq;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    public class DnsmasqHostsFileTests
    {
        [Fact]
        public void Render_then_parse_round_trips_entries_and_descriptions()
        {
            var entries = new[]
            {
                new DhcpReservation("02:de:31:00:00:c9", DhcpFields.ParseAddress("10.231.99.21"), "b"),
                new DhcpReservation("02:de:31:00:00:c8", DhcpFields.ParseAddress("10.231.99.20"), "a", "Grafana host"),
            };
            var text = DnsmasqHostsFile.Render(entries);
            Assert.StartsWith(DnsmasqHostsFile.HeaderMarker, text);
            Assert.Contains("\n02:de:31:00:00:c8,10.231.99.20,a\n", text);
            var parsed = DnsmasqHostsFile.Parse(text, "s");
            Assert.Equal(new[] { "02:de:31:00:00:c8", "02:de:31:00:00:c9" }, parsed.Entries.Select(e => e.ClientId));
            Assert.Equal("Grafana host", parsed.Entries[0].Description);
            Assert.Null(parsed.Entries[1].Description);
            Assert.Empty(parsed.Unreadable);
        }

        [Fact]
        public void Dhcp_host_values_in_other_orders_are_read()
        {
            var r = DnsmasqHostsFile.TryParseEntry("02:AA:00:00:00:01,set:pxe,handmade,10.231.99.250,12h", null, "s", "conf:3", owned: false);
            Assert.NotNull(r);
            Assert.Equal("02:aa:00:00:00:01", r!.ClientId);
            Assert.Equal("handmade", r.Name);
            Assert.Equal("10.231.99.250", r.IPAddress.ToString());
            Assert.False(r.IsOwned);
            Assert.Equal("conf:3", r.Source);
        }

        [Fact]
        public void Lines_the_module_cannot_read_are_kept()
        {
            var parsed = DnsmasqHostsFile.Parse("# x\nid:01:02,10.0.0.9\n02:de:31:00:00:c8,10.231.99.20,a\n", "s");
            Assert.Single(parsed.Entries);
            Assert.Equal("id:01:02,10.0.0.9", Assert.Single(parsed.Unreadable));
            Assert.Contains("id:01:02,10.0.0.9\n", DnsmasqHostsFile.Render(parsed.Entries, parsed.Unreadable));
        }
    }
}
