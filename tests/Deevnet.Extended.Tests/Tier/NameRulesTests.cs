using System.Linq;
using System.Net;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dhcp.Dnsmasq;
using Deevnet.Extended.Core.Dhcp.Kea;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>The name rule: what it accepts and refuses, and that the loader, the DHCP fields and server reads use it.</summary>
    public class NameRulesTests
    {
        [Theory]
        [InlineData("a")]
        [InlineData("h1")]
        [InlineData("lab-obs-01")]
        [InlineData("0")]
        [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123")] // 63
        public void Accepts(string name) => Assert.Null(NameRules.WhyNotAName(name));

        [Theory]
        [InlineData("")]
        [InlineData("-a")]
        [InlineData("a-")]
        [InlineData("Lab")]
        [InlineData("a_b")]
        [InlineData("a.b")]
        [InlineData("a b")]
        [InlineData("a\nb")]
        [InlineData("a\u001b[2Jb")]
        [InlineData("ħost")]
        [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234")] // 64
        public void Refuses(string name) =>
            Assert.Equal($"'{name}' is not a valid host name (lowercase a-z, 0-9 and '-', 1-63 characters, not starting or ending with '-')",
                NameRules.WhyNotAName(name, "host name"));

        [Theory]
        [InlineData("lab*", true)]
        [InlineData("obs0[12]", true)]
        [InlineData("?", true)]
        [InlineData("*", true)]
        [InlineData("lab_*", false)]
        [InlineData("a;b", false)]
        [InlineData("", false)]
        public void Patterns(string pattern, bool accepted) => Assert.Equal(accepted, NameRules.IsNamePattern(pattern));

        [Theory]
        [InlineData("h1.t.deevnet.test", true)]
        [InlineData("_ldap._tcp.t.deevnet.test", true)]
        [InlineData("20.99.1.10.in-addr.arpa", true)]
        [InlineData("*.t.deevnet.test", false)]
        [InlineData("a..b", false)]
        [InlineData("_", false)]
        [InlineData("a\u001bb.test", false)]
        public void Record_names(string name, bool accepted) => Assert.Equal(accepted, NameRules.IsRecordName(name));

        [Theory]
        [InlineData("hypervisor: hv }", "hypervisor: hv }\n  H_3: { segment: mgmt, ip: 10.1.99.12, hypervisor: hv }", "hosts.H_3: 'H_3' is not a valid host name")]
        [InlineData("  s2: { class", "  S2: { class", "services.S2: 'S2' is not a valid service name")]
        [InlineData("  tenant: { vlan", "  ten.ant: { vlan", "segments.ten.ant: 'ten.ant' is not a valid segment name")]
        [InlineData("host: h2", "host: h-", "services.s2.host: 'h-' is not a valid name")]
        public void The_loader_refuses_with_the_rule(string find, string replace, string start) =>
            Assert.Equal(start + " (" + NameRules.Rule + ")", RuleTestSupport.LoaderMessage(find, replace));

        [Theory]
        [InlineData("LabObs01", "labobs01")]
        [InlineData("h1", "h1")]
        public void A_reservation_name_folds_case_then_follows_the_rule(string name, string expected) =>
            Assert.Equal(expected, DhcpFields.ValidateName(name));

        [Fact]
        public void A_reservation_name_that_breaks_the_rule_is_refused_with_the_rule_and_the_parameter()
        {
            var ex = Assert.Throws<DeevException>(() => DhcpFields.ValidateName("bad\u001bname"));
            Assert.Equal("ReservationInvalid", ex.ErrorId);
            Assert.Equal("-Name: 'bad\\x1bname' is not a valid host name (" + NameRules.Rule + ").", ex.Message);
        }

        [Fact]
        public void A_dnsmasq_line_of_the_modules_own_file_that_breaks_the_rule_is_kept_as_unreadable()
        {
            var content = DnsmasqHostsFile.Parse("02:de:20:00:00:01,10.1.99.10,good\n#= by hand\n02:de:20:00:00:02,10.1.99.11,bad_name\n", "dnsmasq");
            Assert.Equal("good", Assert.Single(content.Entries).Name);
            Assert.Equal(new[] { "#= by hand", "02:de:20:00:00:02,10.1.99.11,bad_name" }, content.Unreadable);
            var again = DnsmasqHostsFile.Parse(DnsmasqHostsFile.Render(content.Entries, content.Unreadable), "dnsmasq");
            Assert.Equal(content.Unreadable, again.Unreadable);
        }

        [Fact]
        public void A_marked_kea_reservation_that_breaks_the_rule_is_foreign_and_its_bytes_stay()
        {
            var tampered = "{ \"hw-address\": \"02:de:20:00:00:09\", \"ip-address\": \"10.231.99.251\", \"hostname\": \"x\\u001b[2J\", \"user-context\": { \"deevnet\": { \"managed\": true } } }";
            var config = KeaConfigDocumentTests_Config().Replace("} // by hand", "} // by hand\n          , " + tampered);
            var doc = KeaConfigDocument.Parse(config, "kea");
            var read = doc.Reservations("kea").Single(r => r.IPAddress.Equals(IPAddress.Parse("10.231.99.251")));
            Assert.False(read.IsOwned);
            var rewritten = doc.WithOwned(new[] { new DhcpReservation("02:de:31:00:00:c8", DhcpFields.ParseAddress("10.231.99.20"), "a", null, "10.231.99.0/24") }, "kea");
            Assert.Contains(tampered, rewritten);
        }

        [Fact]
        public void A_foreign_reservation_read_from_a_server_keeps_its_address_for_conflicts()
        {
            var read = DhcpFields.FromServer(new DhcpReservation("02:de:20:00:00:03", IPAddress.Parse("10.1.99.12"), "x\ny", null, null, true, "opnsense"));
            Assert.False(read.IsOwned);
            Assert.Contains("'x\\ny'", read.Source);
            Assert.Equal(IPAddress.Parse("10.1.99.12"), read.IPAddress);
        }

        [Theory]
        [InlineData("h1.t.deevnet.test", DnsRecordType.A, "10.1.99.10", true)]
        [InlineData("*.t.deevnet.test", DnsRecordType.A, "10.1.99.10", false)]
        [InlineData("h1.t.deevnet.test", DnsRecordType.A, "10.1.99.300", false)]
        [InlineData("h1\u001b.t.deevnet.test", DnsRecordType.A, "10.1.99.10", false)]
        [InlineData("a.t.deevnet.test", DnsRecordType.CNAME, "b;rm -rf /.t.deevnet.test", false)]
        public void A_record_read_from_a_server_is_skipped_when_the_module_could_not_have_written_it(string name, DnsRecordType type, string value, bool read) =>
            Assert.Equal(read, DnsRecord.TryRead(name, type, value, 300) != null);

        [Fact]
        public void An_unbound_listing_with_foreign_lines_yields_the_good_records_only()
        {
            var text = "local-data: \"h1.t.deevnet.test. 300 IN A 10.1.99.10\"\nlocal-data: \"bad_x!.t.deevnet.test. 300 IN A 10.1.99.11\"\nlocal-data-ptr: \"10.1.99.300 h9.t.deevnet.test\"\nlocal-data-ptr: \"10.1.99.12 lots h9.t.deevnet.test\"\n";
            Assert.Equal("h1.t.deevnet.test", Assert.Single(UnboundDnsBackend.Parse(text).ToList()).Name);
        }

        private static string KeaConfigDocumentTests_Config() => Dhcp.KeaConfigDocumentTests.Config;
    }
}
