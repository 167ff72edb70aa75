using System.Linq;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    /// <summary>
    /// Values given to the DHCP cmdlets directly are held to the tier loader's rules, with the same words (a parameter
    /// name where the loader names a line), and an ambiguous batch is refused whole before anything is sent.
    /// </summary>
    public class DhcpInputRulesTests
    {
        // The test tier's mgmt segment: 10.1.99.0/24, gateway .1; a DNS server and a DHCP server reached at .2 / .3.
        private static readonly string Tier = TierTestFiles.With(
            "  mgmt: { vlan: 99, subnet: 10.1.99.0/24, gateway: 10.1.99.1, addressing: reservation }",
            "  mgmt: { vlan: 99, subnet: 10.1.99.0/24, gateway: 10.1.99.1, addressing: reservation, dns: [10.1.99.2] }")
            .Replace("hypervisors:\n", "dhcp: { kind: dnsmasq, via: ssh://root@10.1.99.3, hostsFile: /etc/dnsmasq.d/h, pidFile: /run/dnsmasq.pid }\nhypervisors:\n");

        [Theory]
        [InlineData("10.1.99.0", "10.1.99.0 is the network address of segment 'mgmt' (10.1.99.0/24)")]
        [InlineData("10.1.99.255", "10.1.99.255 is the broadcast address of segment 'mgmt' (10.1.99.0/24)")]
        [InlineData("10.1.99.1", "10.1.99.1 is the gateway of segment 'mgmt'")]
        [InlineData("10.1.99.2", "10.1.99.2 is a DNS server of segment 'mgmt'")]
        [InlineData("10.1.99.3", "10.1.99.3 is the address of the tier's dhcp server")]
        [InlineData("192.168.7.9", "192.168.7.9 is not inside any segment of the tier")]
        public void An_address_no_host_may_have_is_refused_as_the_loader_refuses_it(string address, string why)
        {
            var tier = Load(Tier);
            var ex = Assert.Throws<DeevException>(() => DhcpFields.CheckHostAddress(tier, DhcpFields.ParseAddress(address), null));
            Assert.Equal(DhcpErrors.ReservationInvalid, ex.ErrorId);
            Assert.Equal($"-IPAddress: {why}.", ex.Message);

            // The loader says the same of a host with that address (except outside every segment, where it names the host's).
            if (why.Contains("not inside any")) return;
            var loaded = Assert.Throws<TierFileInvalidException>(() => Load(Tier.Replace("ip: 10.1.99.11", "ip: " + address)));
            Assert.Contains(loaded.Problems, p => p.Message == $"hosts.h2.ip: {why}");
        }

        [Fact]
        public void An_address_outside_the_named_segment_is_refused()
        {
            var ex = Assert.Throws<DeevException>(() => DhcpFields.CheckHostAddress(Load(Tier), DhcpFields.ParseAddress("10.1.50.20"), "mgmt"));
            Assert.Equal("-IPAddress: 10.1.50.20 is not inside segment 'mgmt' (10.1.99.0/24).", ex.Message);
            DhcpFields.CheckHostAddress(Load(Tier), DhcpFields.ParseAddress("10.1.99.20"), "mgmt");   // a host's address passes
        }

        [Theory]
        [InlineData("00:00:00:00:00:00", "all-zero")]
        [InlineData("ff-ff-ff-ff-ff-ff", "broadcast")]
        [InlineData("01:00:5e:00:00:fb", "multicast")]
        public void Macs_no_host_can_have_are_refused(string mac, string what)
        {
            var ex = Assert.Throws<DeevException>(() => DhcpFields.NormalizeMac(mac));
            Assert.Equal(DhcpErrors.ReservationInvalid, ex.ErrorId);
            Assert.Contains(what, ex.Message);
        }

        [Theory]
        [InlineData("02:DE:20:00:00:CF", "10.1.99.20", "a", "02de.2000.00cf", "10.1.99.21", "b", "MAC 02:de:20:00:00:cf twice")]
        [InlineData("02:de:20:00:00:cf", "10.1.99.20", "a", "02:de:20:00:00:d0", "10.1.99.20", "b", "address 10.1.99.20 twice")]
        [InlineData("02:de:20:00:00:cf", "10.1.99.20", "web", "02:de:20:00:00:d0", "10.1.99.21", "WEB", "name web twice")]
        public void A_batch_that_names_a_value_twice_is_refused_naming_both(string mac1, string ip1, string name1, string mac2, string ip2, string name2, string what)
        {
            var batch = new DhcpBatch(new[]
            {
                DhcpFields.Desired(mac1, DhcpFields.ParseAddress(ip1), name1, null),
                DhcpFields.Desired(mac2, DhcpFields.ParseAddress(ip2), name2, null),
            });
            var ex = Assert.Throws<DeevException>(() => DhcpPlanner.Plan(new DhcpReservation[0], new[] { DhcpPlannerTests.Net("10.1.99.0/24") }, batch, "test"));
            Assert.Equal(DhcpErrors.ReservationDuplicate, ex.ErrorId);
            Assert.Contains(what, ex.Message);
            Assert.Contains($"{ip1} {name1.ToLowerInvariant()}", ex.Message);
            Assert.Contains($"{ip2} {name2.ToLowerInvariant()}", ex.Message);
        }

        private static SiteTier Load(string text) => TierLoader.Parse("/tmp/rules.tier.yaml", text);
    }
}
