using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Drift;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Drift
{
    /// <summary>
    /// How <see cref="TierDrift"/> turns a back end's plan into drift rows: Add is Missing, Change is Changed, Remove is
    /// Stale, and entries others wrote in the module's space are Foreign (and keep the tier's colliding entry out of the
    /// plan). The back ends here hold their entries in memory and plan with the real planners, so the mapping is tested
    /// alone; the lab suite (Drift.Tests.ps1) tests the same on real servers.
    /// </summary>
    public class TierDriftTests
    {
        // h1 (vmid 207) and h2 (vmid 208) on mgmt 10.1.99.0/24; s1 is a CNAME to h1.
        private const string H1Mac = "02:de:20:00:00:cf";
        private const string H2Mac = "02:de:20:00:00:d0";
        private static readonly SiteTier Tier = TierLoader.Parse("/tmp/drift-unit/t.tier.yaml",
            TierTestFiles.With("  h2: { segment: mgmt, ip: 10.1.99.11, hypervisor: hv }", "  h2: { segment: mgmt, ip: 10.1.99.11, hypervisor: hv, vmid: 208 }"));

        [Fact]
        public async Task A_server_that_matches_the_tier_has_no_drift()
        {
            var rows = await Dhcp(Owned(H1Mac, "10.1.99.10", "h1"), Owned(H2Mac, "10.1.99.11", "h2"));
            Assert.Empty(rows);
            Assert.Empty(await Dns(InSync().ToArray()));
        }

        [Fact]
        public async Task Add_is_Missing_Change_is_Changed_Remove_is_Stale()
        {
            var rows = await Dhcp(Owned(H1Mac, "10.1.99.12", "h1"), Owned("02:de:20:00:00:e0", "10.1.99.30", "gone"));
            Assert.Equal(3, rows.Count);
            var missing = Assert.Single(rows, r => r.Drift == DriftKind.Missing);
            Assert.Equal((H2Mac, null, "10.1.99.11 h2"), (missing.Key, missing.Before, missing.After));
            var changed = Assert.Single(rows, r => r.Drift == DriftKind.Changed);
            Assert.Equal((H1Mac, "10.1.99.12 h1", "10.1.99.10 h1"), (changed.Key, changed.Before, changed.After));
            var stale = Assert.Single(rows, r => r.Drift == DriftKind.Stale);
            Assert.Equal(("02:de:20:00:00:e0", "10.1.99.30 gone", (string?)null), (stale.Key, stale.Before, stale.After));
            Assert.All(rows, r => Assert.Equal(("fake-dhcp", DhcpPlanner.Kind), (r.Server, r.Kind)));
            // Ordered: Missing, Changed, Stale.
            Assert.Equal(new[] { DriftKind.Missing, DriftKind.Changed, DriftKind.Stale }, rows.Select(r => r.Drift));
        }

        [Fact]
        public async Task Entries_others_wrote_in_the_modules_space_are_Foreign_and_the_rest_is_still_compared()
        {
            var rows = await Dhcp(
                Owned(H1Mac, "10.1.99.12", "h1"),
                Foreign("02:de:20:00:00:99", "10.1.99.40", "printer"),   // in the site's MAC namespace
                Foreign("02:aa:bb:00:00:01", "10.1.99.11", "hand"),      // the address the tier gives h2
                Foreign("02:aa:bb:00:00:02", "10.1.99.41", "h1"),        // a tier name
                Foreign("02:aa:bb:00:00:03", "10.1.99.42", "other"));    // nothing of the tier's: not reported
            var foreign = rows.Where(r => r.Drift == DriftKind.Foreign).ToDictionary(r => r.Key);
            Assert.Equal(new[] { "02:aa:bb:00:00:01", "02:aa:bb:00:00:02", "02:de:20:00:00:99" }, foreign.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Contains($"collides with the tier's {H2Mac} -> 10.1.99.11 h2", foreign["02:aa:bb:00:00:01"].Note);
            Assert.Equal("10.1.99.11 h2", foreign["02:aa:bb:00:00:01"].After);
            Assert.Contains("MAC namespace", foreign["02:de:20:00:00:99"].Note);
            Assert.All(foreign.Values, r => Assert.Null(r.LastChange));
            // h2's collision keeps it out of the plan (not Missing); h1's hand edit is still reported.
            Assert.DoesNotContain(rows, r => r.Drift == DriftKind.Missing);
            Assert.Equal(H1Mac, Assert.Single(rows, r => r.Drift == DriftKind.Changed).Key);
        }

        [Fact]
        public async Task A_foreign_entry_that_gives_a_tier_host_its_address_is_Foreign_not_Missing()
        {
            var rows = await Dhcp(Owned(H1Mac, "10.1.99.10", "h1"), Foreign(H2Mac, "10.1.99.11", "h2"));
            var row = Assert.Single(rows);
            Assert.Equal((DriftKind.Foreign, H2Mac), (row.Drift, row.Key));
            Assert.Contains("gives the tier's host its address", row.Note);
        }

        [Fact]
        public async Task The_modules_own_entry_behind_a_collision_is_not_reported_Stale()
        {
            // Someone reserved h2's address for another MAC: h2 leaves the plan, but its own entry is not "no longer asked for".
            var rows = await Dhcp(Owned(H1Mac, "10.1.99.10", "h1"), Owned(H2Mac, "10.1.99.11", "h2"), Foreign("02:aa:bb:00:00:01", "10.1.99.11", "hand"));
            var row = Assert.Single(rows);
            Assert.Equal((DriftKind.Foreign, "02:aa:bb:00:00:01"), (row.Drift, row.Key));
        }

        [Fact]
        public async Task What_a_server_holds_is_shown_escaped_in_every_field()
        {
            var rows = await Dhcp(Owned(H1Mac, "10.1.99.10", "h1"), Owned(H2Mac, "10.1.99.11", "h2"),
                new DhcpReservation("02:de:20:00:00:99", IPAddress.Parse("10.1.99.40"), "evil\u001b[2J\nline", isOwned: false, server: "fake-dhcp", source: "/etc/h\u001b]0;x\u0007:1"));
            var row = Assert.Single(rows);
            Assert.Equal("10.1.99.40 evil\\x1b[2J\\nline", row.Before);
            Assert.Contains("/etc/h\\x1b]0;x\\x07:1", row.Note);
            Assert.DoesNotContain(row.ToString() + row.Note, c => char.IsControl(c));
        }

        [Fact]
        public async Task A_changed_entry_names_the_journal_record_that_last_wrote_it()
        {
            var journal = new List<ChangeRecord>
            {
                new ChangeRecord
                {
                    Time = DateTimeOffset.Parse("2026-01-02T03:04:05Z"), Operator = "op@box", Command = "Sync-DeevDhcpReservation", Server = "fake-dhcp",
                    Result = "applied", Changes = { new JournalChange { Kind = DhcpPlanner.Kind, Key = H1Mac, Action = "Add", After = "10.1.99.10 h1" } },
                },
            };
            var rows = await Dhcp(journal, Owned(H1Mac, "10.1.99.12", "h1"), Owned(H2Mac, "10.1.99.11", "h2"));
            var row = Assert.Single(rows);
            Assert.Equal(DriftKind.Changed, row.Drift);
            Assert.Equal("op@box", row.LastOperator);
            Assert.True(row.EditedOutsideModule);
            Assert.Contains("edited outside the module: the journal last wrote '10.1.99.10 h1'", row.Note);
        }

        [Fact]
        public async Task Dns_records_map_the_same_way()
        {
            var fqdn1 = "h1.t.deevnet.test";
            var records = InSync().Where(r => !(r.Type == DnsRecordType.A && r.Name == fqdn1)).ToList();
            records.RemoveAll(r => r.Type == DnsRecordType.CNAME);
            records.Add(DnsRecord.Create(fqdn1, DnsRecordType.A, "10.1.99.12", isOwned: true));                       // changed
            records.Add(DnsRecord.Create("old.t.deevnet.test", DnsRecordType.A, "10.1.99.30", isOwned: true));        // stale
            var foreignAlias = DnsRecord.Create("s1.t.deevnet.test", DnsRecordType.A, "10.1.99.50");                  // foreign, where the tier wants a CNAME
            var unrelated = DnsRecord.Create("other.t.deevnet.test", DnsRecordType.A, "10.1.99.60");                  // not the tier's
            var rows = await Dns(records.Append(foreignAlias).Append(unrelated).ToArray());
            var byDrift = rows.ToLookup(r => r.Drift);
            var changed = Assert.Single(byDrift[DriftKind.Changed]);
            Assert.Equal(("A", fqdn1), (changed.Kind, changed.Key));
            Assert.Equal("old.t.deevnet.test", Assert.Single(byDrift[DriftKind.Stale]).Key);
            var foreign = Assert.Single(byDrift[DriftKind.Foreign]);
            Assert.Equal(("A", "s1.t.deevnet.test"), (foreign.Kind, foreign.Key));
            Assert.Contains("collides", foreign.Note);
            Assert.Empty(byDrift[DriftKind.Missing]);   // the CNAME that collides is left out, not reported missing
            Assert.DoesNotContain(rows, r => r.Key == "other.t.deevnet.test");
        }

        [Fact]
        public async Task A_record_the_tier_asks_for_that_the_server_lacks_is_Missing()
        {
            var rows = await Dns(InSync().Where(r => r.Type != DnsRecordType.PTR || !r.Value.StartsWith("h2.", StringComparison.Ordinal)).ToArray());
            var row = Assert.Single(rows);
            Assert.Equal((DriftKind.Missing, "PTR", "11.99.1.10.in-addr.arpa"), (row.Drift, row.Kind, row.Key));
            Assert.Null(row.Before);
        }

        private static IEnumerable<DnsRecord> InSync() =>
            DesiredRecords.FromTier(Tier).Select(r => DnsRecord.Create(r.Name, r.Type, r.Value, r.Ttl, isOwned: true));

        private static DhcpReservation Owned(string mac, string ip, string name) => new DhcpReservation(mac, IPAddress.Parse(ip), name, server: "fake-dhcp");

        private static DhcpReservation Foreign(string mac, string ip, string name) =>
            new DhcpReservation(mac, IPAddress.Parse(ip), name, isOwned: false, server: "fake-dhcp", source: "/etc/dnsmasq.d/hand.conf:1");

        private static Task<IReadOnlyList<DriftEntry>> Dhcp(params DhcpReservation[] entries) => Dhcp(new List<ChangeRecord>(), entries);

        private static Task<IReadOnlyList<DriftEntry>> Dhcp(List<ChangeRecord> journal, params DhcpReservation[] entries) =>
            new TierDrift(Tier, journal).DhcpAsync(new MemoryDhcp(entries), CancellationToken.None);

        private static async Task<IReadOnlyList<DriftEntry>> Dns(params DnsRecord[] records)
        {
            using var backend = new MemoryDns(records);
            return await new TierDrift(Tier, new List<ChangeRecord>()).DnsAsync(backend, CancellationToken.None);
        }

        /// <summary>A DHCP server's entries in memory, planned by the real planner; drift never applies.</summary>
        private sealed class MemoryDhcp : IDhcpBackend
        {
            private readonly IReadOnlyList<DhcpReservation> _entries;
            public MemoryDhcp(IReadOnlyList<DhcpReservation> entries) => _entries = entries;
            public string Server => "fake-dhcp";
            public Task<IReadOnlyList<DhcpReservation>> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(_entries);
            public Task<DhcpPlan> PlanAsync(DhcpBatch batch, CancellationToken cancellationToken) =>
                Task.FromResult(DhcpPlanner.Plan(_entries, new[] { Tests.Dhcp.DhcpPlannerTests.Net("10.1.99.0/24") }, batch, Server));
            public Task<DhcpPlan> ApplyAsync(DhcpBatch batch, CancellationToken cancellationToken) => throw new InvalidOperationException("drift must not write");
        }

        /// <summary>A DNS server's records in memory, planned by the real planner; drift never applies.</summary>
        private sealed class MemoryDns : IDnsBackend
        {
            private readonly DnsRecordSet _set;
            public MemoryDns(IEnumerable<DnsRecord> records)
            {
                var all = records.ToList();
                _set = new DnsRecordSet(all.Where(r => r.IsOwned).ToList(), all.Where(r => !r.IsOwned).ToList());
            }
            public string Kind => "memory";
            public string Server => "fake-dns";
            public string Zone => "t.deevnet.test";
            public Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken) => Task.FromResult(_set);
            public Task<DnsPlan> PlanAsync(DnsBatch batch, CancellationToken cancellationToken) => Task.FromResult(DnsPlanner.Plan(Server, _set, batch, _ => true));
            public Task<DnsApplyResult> ApplyAsync(DnsPlan plan, CancellationToken cancellationToken) => throw new InvalidOperationException("drift must not write");
            public void Dispose() { }
        }
    }
}
