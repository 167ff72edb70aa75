using System.IO;
using System.Linq;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Dns
{
    public sealed class DnsPlannerTests
    {
        private static string Example => Path.Combine(RepoRoot(), "examples", "lab.tier.yaml");

        private static string RepoRoot()
        {
            var dir = new DirectoryInfo(System.AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Deevnet.Extended.sln"))) dir = dir.Parent;
            return dir!.FullName;
        }

        private static DnsRecord A(string host, string ip) => DnsRecord.Create(host + ".lab.deevnet.test", DnsRecordType.A, ip);

        private static DnsRecord Ptr(string ip, string host) =>
            DnsRecord.Create(DnsRecord.ReverseName(System.Net.IPAddress.Parse(ip)), DnsRecordType.PTR, host + ".lab.deevnet.test");

        private static DnsRecordSet Server(DnsRecord[] owned, DnsRecord[]? foreign = null) =>
            new DnsRecordSet(owned.Select(o => o.As(true, "s")).ToList(), (foreign ?? new DnsRecord[0]).Select(f => f.As(false, "s")).ToList());

        [Fact]
        public void The_example_tier_yields_A_PTR_and_CNAME_records_the_same_way_every_time()
        {
            var tier = TierLoader.Load(Example);
            var first = DesiredRecords.FromTier(tier);
            var second = DesiredRecords.FromTier(tier);
            Assert.Equal(first.Select(r => r.ToString()), second.Select(r => r.ToString()));
            Assert.Equal(tier.Hosts.Count, first.Count(r => r.Type == DnsRecordType.A));
            Assert.Equal(tier.Hosts.Count, first.Count(r => r.Type == DnsRecordType.PTR));
            Assert.Equal(tier.Services.Sum(s => s.Names.Count), first.Count(r => r.Type == DnsRecordType.CNAME));
            Assert.Contains(first, r => r.ToString() == "dv99obs001v01.lab.deevnet.test 300 A 10.231.99.21");
            Assert.Contains(first, r => r.ToString() == "21.99.231.10.in-addr.arpa 300 PTR dv99obs001v01.lab.deevnet.test");
            Assert.Contains(first, r => r.ToString() == "grafana.lab.deevnet.test 300 CNAME dv99obs001v01.lab.deevnet.test");
        }

        [Theory]
        [InlineData("bad_name!.lab.deevnet.test", "10.0.0.1")]
        [InlineData("a..b.lab.deevnet.test", "10.0.0.1")]
        [InlineData("ok.lab.deevnet.test", "10.0.0.256")]
        [InlineData("ok.lab.deevnet.test", "10.1")]
        [InlineData("ok;rm -rf /.lab.deevnet.test", "10.0.0.1")]
        public void Invalid_names_and_addresses_are_refused_with_InvalidDnsRecord(string name, string ip)
        {
            var error = Assert.Throws<DeevException>(() => DnsRecord.Create(name, DnsRecordType.A, ip));
            Assert.Equal(DnsErrors.InvalidRecord, error.ErrorId);
        }

        [Fact]
        public void Names_are_lowercased_and_lose_the_trailing_dot()
        {
            var r = DnsRecord.Create("Grafana.LAB.deevnet.test.", DnsRecordType.CNAME, "Host.Lab.Deevnet.Test.");
            Assert.Equal("grafana.lab.deevnet.test", r.Name);
            Assert.Equal("host.lab.deevnet.test", r.Value);
        }

        [Fact]
        public void A_new_address_changes_the_A_record_and_removes_the_old_PTR_without_prune()
        {
            var server = Server(new[] { A("h1", "10.0.0.5"), Ptr("10.0.0.5", "h1"), A("other", "10.0.0.9") });
            var plan = DnsPlanner.Plan("s", server, new DnsBatch(new[] { A("h1", "10.0.0.6"), Ptr("10.0.0.6", "h1") }), _ => true);
            Assert.Equal(ChangeAction.Change, plan.Changes.Changes.Single(c => c.Kind == "A" && c.Key.StartsWith("h1")).Action);
            Assert.Contains(plan.Changes.Changes, c => c.Action == ChangeAction.Remove && c.Key == "5.0.0.10.in-addr.arpa");
            Assert.Contains(plan.Changes.Changes, c => c.Action == ChangeAction.Add && c.Key == "6.0.0.10.in-addr.arpa");
            Assert.Contains(plan.TargetOwned, r => r.Name == "other.lab.deevnet.test");
        }

        [Fact]
        public void Prune_removes_owned_records_outside_the_batch_and_never_foreign_ones()
        {
            var server = Server(new[] { A("h1", "10.0.0.5"), A("old", "10.0.0.7") }, new[] { A("handmade", "10.0.0.250") });
            var plan = DnsPlanner.Plan("s", server, new DnsBatch(new[] { A("h1", "10.0.0.5") }, prune: true), _ => true);
            Assert.Equal(new[] { "old.lab.deevnet.test" }, plan.Changes.Changes.Where(c => c.Action == ChangeAction.Remove).Select(c => c.Key));
            Assert.DoesNotContain(plan.TargetOwned, r => r.Name.StartsWith("handmade"));
        }

        [Fact]
        public void A_name_held_by_someone_else_is_a_RecordConflict_for_the_whole_batch()
        {
            var server = Server(new DnsRecord[0], new[] { A("taken", "10.0.0.250") });
            var batch = new DnsBatch(new[] { A("fine", "10.0.0.1"), DnsRecord.Create("taken.lab.deevnet.test", DnsRecordType.CNAME, "fine.lab.deevnet.test") });
            var error = Assert.Throws<DeevException>(() => DnsPlanner.Plan("s", server, batch, _ => true));
            Assert.Equal(DnsErrors.RecordConflict, error.ErrorId);
            Assert.Contains("taken.lab.deevnet.test", error.Message);
        }

        [Fact]
        public void The_same_data_written_by_someone_else_is_left_alone_and_not_adopted()
        {
            var server = Server(new DnsRecord[0], new[] { A("dhcp", "10.0.0.30") });
            var plan = DnsPlanner.Plan("s", server, new DnsBatch(new[] { A("dhcp", "10.0.0.30") }), _ => true);
            Assert.False(plan.HasChanges);
            Assert.Empty(plan.TargetOwned);
        }

        [Fact]
        public void A_second_plan_over_the_result_of_the_first_has_nothing_to_do()
        {
            var wanted = new[] { A("h1", "10.0.0.5"), Ptr("10.0.0.5", "h1"), DnsRecord.Create("svc.lab.deevnet.test", DnsRecordType.CNAME, "h1.lab.deevnet.test") };
            var first = DnsPlanner.Plan("s", Server(new DnsRecord[0]), new DnsBatch(wanted, prune: true), _ => true);
            Assert.Equal(3, first.Changes.Count(ChangeAction.Add));
            var second = DnsPlanner.Plan("s", new DnsRecordSet(first.TargetOwned, new DnsRecord[0]), new DnsBatch(wanted, prune: true), _ => true);
            Assert.False(second.HasChanges);
        }

        [Fact]
        public void Removing_a_record_the_module_does_not_own_is_refused()
        {
            var server = Server(new DnsRecord[0], new[] { A("handmade", "10.0.0.250") });
            var error = Assert.Throws<DeevException>(() => DnsPlanner.Plan("s", server, new DnsBatch(new DnsRecord[0], new[] { A("handmade", "10.0.0.250") }), _ => true));
            Assert.Equal(DnsErrors.RecordConflict, error.ErrorId);
        }

        [Fact]
        public void Unbound_and_dnsmasq_files_round_trip()
        {
            var records = new[] { A("h1", "10.0.0.5").As(true, null), Ptr("10.0.0.5", "h1"), DnsRecord.Create("svc.lab.deevnet.test", DnsRecordType.CNAME, "h1.lab.deevnet.test") };
            Assert.Equal(records.Select(r => r.ToString()).OrderBy(x => x), UnboundDnsBackend.Parse(UnboundDnsBackend.Render(records)).Select(r => r.ToString()).OrderBy(x => x));
            var hosts = DnsmasqDnsBackend.ParseRecords(DnsmasqDnsBackend.RenderRecords(records.Where(r => r.Type == DnsRecordType.A))).ToList();
            Assert.Equal(new[] { "h1.lab.deevnet.test 0 A 10.0.0.5", "5.0.0.10.in-addr.arpa 0 PTR h1.lab.deevnet.test" }, hosts.Select(r => r.ToString()));
            var cnames = DnsmasqDnsBackend.ParseCnames(DnsmasqDnsBackend.RenderCnames(records.Where(r => r.Type == DnsRecordType.CNAME))).ToList();
            Assert.Equal("svc.lab.deevnet.test 300 CNAME h1.lab.deevnet.test", cnames.Single().ToString());
        }
    
        [Fact]
        public void Dnsmasq_lease_lines_give_the_records_dnsmasq_derives_from_them()
        {
            const string leases = "1764111111 02:de:99:00:03:87 10.231.99.23 dv99acc001v01 01:02:de:99:00:03:87\n" +
                                  "1764111112 02:de:3e:00:00:01 10.231.99.120 * *\n";
            var keys = DnsmasqDnsBackend.ParseLeaseRecords(leases, "lab.deevnet.test");
            Assert.Equal(new[] { "23.99.231.10.in-addr.arpa PTR dv99acc001v01", "23.99.231.10.in-addr.arpa PTR dv99acc001v01.lab.deevnet.test", "dv99acc001v01.lab.deevnet.test A 10.231.99.23" },
                keys.OrderBy(k => k, System.StringComparer.Ordinal));
        }
    }
}
