using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.Dns
{
    /// <summary>
    /// The proof of issue 4 against the real servers of the lab: every expected record answers real DNS queries after a
    /// sync, an address change moves the A record and drops the old PTR, a second sync changes nothing, planning changes
    /// nothing, a refused update leaves the zone as it was, hand-made records survive pruning, a dead server fails fast.
    /// All of it in the space dns (<see cref="DnsSpace"/>): its own zones, addresses, files and hand-made record.
    /// </summary>
    [Collection(DnsLabCollection.Name)]
    public sealed class DnsBackendLabTests : IClassFixture<DnsSpace>
    {
        private readonly LabSpace S;

        public DnsBackendLabTests(DnsSpace space)
        {
            S = space.Space;
        }

        public static IEnumerable<object[]> Kinds => DnsLab.Kinds.Select(k => new object[] { k });

        private static string Reverse(string ip) => DnsRecord.ReverseName(System.Net.IPAddress.Parse(ip));

        private static async Task<DnsApplyResult> SyncAsync(SiteTier tier, bool prune = true)
        {
            using var pool = new TransportPool();
            using var backend = DnsLab.Backend(tier, pool);
            var plan = await backend.PlanAsync(new DnsBatch(DesiredRecords.FromTier(tier), prune: prune), CancellationToken.None);
            return await backend.ApplyAsync(plan, CancellationToken.None);
        }

        private static async Task<ChangePlan> PlanAsync(SiteTier tier, bool prune = true)
        {
            using var pool = new TransportPool();
            using var backend = DnsLab.Backend(tier, pool);
            return (await backend.PlanAsync(new DnsBatch(DesiredRecords.FromTier(tier), prune: prune), CancellationToken.None)).Changes;
        }

        /// <summary>Asks the server for each record's name and type and returns the ones it does not answer as expected.</summary>
        private static async Task<List<string>> MissingAsync(SiteTier tier, IEnumerable<DnsRecord> expected)
        {
            var query = DnsLab.Query(tier);
            var missing = new List<string>();
            foreach (var r in expected)
            {
                var answers = await query.QueryAsync(r.Name, r.Type, CancellationToken.None);
                if (!answers.Any(a => a.Type == r.Type && a.Value == r.Value)) missing.Add($"{r.Name} {r.Type} {r.Value} (got {string.Join(",", answers.Select(a => a.Type + " " + a.Value))})");
            }
            return missing;
        }

        [LabTheory]
        [MemberData(nameof(Kinds))]
        public async Task Sync_makes_every_record_resolve_and_a_second_sync_changes_nothing(string kind)
        {
            var tier = DnsLab.Load(S, kind);
            await SyncAsync(tier);
            var expected = DesiredRecords.FromTier(tier);
            Assert.Contains(expected, r => r.Type == DnsRecordType.CNAME);
            Assert.Contains(expected, r => r.Type == DnsRecordType.PTR);
            Assert.Empty(await MissingAsync(tier, expected));

            var again = await PlanAsync(tier);
            Assert.False(again.HasChanges, string.Join("\n", again.Changes.Where(c => c.Action != ChangeAction.Unchanged)));
            Assert.Equal(expected.Count, again.Count(ChangeAction.Unchanged));
        }

        /// <summary>
        /// 440 more hosts in the space's two /24s: about 880 records, whose lines are more than one SSH command line
        /// holds (SSH.NET refuses an exec request over 64 KiB). Every back end must carry them another way, and every
        /// record must answer.
        /// </summary>
        [LabTheory]
        [MemberData(nameof(Kinds))]
        public async Task A_batch_larger_than_one_ssh_command_line_is_applied_and_every_record_resolves(string kind)
        {
            static string Bulk(string text)
            {
                var hosts = new System.Text.StringBuilder();
                foreach (var net in new[] { 97, 96 })
                    for (var i = 32; i < 252; i++)
                        if (i != 250) hosts.Append($"  dnsbulk{net}x{i}: {{ segment: {(net == 97 ? "management" : "platform")}, ip: 10.231.{net}.{i} }}\n");
                return System.Text.RegularExpressions.Regex.Replace(text, @"(?m)^hosts:[ \t]*\n", m => m.Value + hosts, System.Text.RegularExpressions.RegexOptions.None);
            }
            var tier = DnsLab.Load(S, kind, Bulk);
            try
            {
                await SyncAsync(tier);
                var expected = DesiredRecords.FromTier(tier);
                Assert.True(expected.Count > 860, $"{expected.Count} records");
                Assert.Empty(await MissingAsync(tier, expected));
            }
            finally
            {
                await SyncAsync(DnsLab.Load(S, kind));   // the space's own records again
            }
        }

        [LabTheory]
        [MemberData(nameof(Kinds))]
        public async Task A_changed_address_moves_the_A_record_and_removes_the_old_PTR(string kind)
        {
            var tier = DnsLab.Load(S, kind);
            await SyncAsync(tier);
            // The lab tier's .23 (the acc host) is the space's address 7; it moves to address 10.
            var (from, to) = (S.Mgmt(7), S.Mgmt(10));
            var moved = DnsLab.Load(S, kind, t => t.Replace("ip: " + from, "ip: " + to));
            var host = S.Host("acc001v01") + "." + S.Domain;
            var query = DnsLab.Query(moved);
            Assert.Contains(await query.QueryAsync(Reverse(from), DnsRecordType.PTR, CancellationToken.None), r => r.Value == host);

            var result = await SyncAsync(moved, prune: false);
            Assert.Contains(result.Applied.Changes, c => c.Action == ChangeAction.Change && c.Key == host);

            Assert.Equal(new[] { to }, (await query.QueryAsync(host, DnsRecordType.A, CancellationToken.None)).Select(r => r.Value));
            Assert.Contains(await query.QueryAsync(Reverse(to), DnsRecordType.PTR, CancellationToken.None), r => r.Value == host);
            // The module's PTR is gone: the space's /24 is on no segment, so no DHCP lease answers for it either.
            Assert.Empty(await query.QueryAsync(Reverse(from), DnsRecordType.PTR, CancellationToken.None));
            await SyncAsync(tier);
        }

        [LabTheory]
        [MemberData(nameof(Kinds))]
        public async Task Planning_changes_nothing_on_the_server(string kind)
        {
            var tier = DnsLab.Load(S, kind);
            await SyncAsync(tier);
            var moved = DnsLab.Load(S, kind, t => t.Replace("ip: " + S.Mgmt(6), "ip: " + S.Mgmt(11)).Replace("names: [jump]", "names: [jump, bastion]"));
            var plan = await PlanAsync(moved);
            Assert.True(plan.HasChanges);
            Assert.Empty(await MissingAsync(tier, DesiredRecords.FromTier(tier)));
            Assert.Empty(await DnsLab.Query(tier).QueryAsync("bastion." + S.Domain, DnsRecordType.CNAME, CancellationToken.None));
        }

        [LabTheory]
        [MemberData(nameof(Kinds))]
        public async Task An_update_the_server_refuses_leaves_the_zone_unchanged(string kind)
        {
            var tier = DnsLab.Load(S, kind);
            await SyncAsync(tier);
            using var pool = new TransportPool();
            using var backend = DnsLab.Backend(tier, pool);
            var current = await backend.ReadAsync(null, CancellationToken.None);
            var good = DnsRecord.Create("fresh." + S.Domain, DnsRecordType.A, S.Mgmt(12));
            // A record the module's own validation would refuse, so that the server's refusal is what is tested.
            var bad = kind == "bind"
                ? DnsRecord.Unchecked("bad.elsewhere.test", DnsRecordType.A, S.Mgmt(13))
                : kind == "dnsmasq"
                    ? DnsRecord.Unchecked("broken." + S.Domain, DnsRecordType.CNAME, S.Host("obs001v01") + "." + S.Domain + "\nno-such-option")
                    : DnsRecord.Unchecked("broken." + S.Domain, DnsRecordType.A, "10.231.97.999");
            var plan = DnsPlanner.Plan(backend.Server, current, new DnsBatch(current.Owned.Append(good).Append(bad)), _ => true);

            var error = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(plan, CancellationToken.None));
            Assert.True(error.ErrorId == DnsErrors.ValidationFailed || error.ErrorId == DnsErrors.UpdateRejected, error.ErrorId + ": " + error.Message);
            Assert.Empty(await DnsLab.Query(tier).QueryAsync(good.Name, DnsRecordType.A, CancellationToken.None));
            Assert.Empty(await MissingAsync(tier, DesiredRecords.FromTier(tier)));
            Assert.False((await PlanAsync(tier)).HasChanges);
        }

        [LabTheory]
        [MemberData(nameof(Kinds))]
        public async Task A_hand_made_record_survives_sync_with_prune_and_blocks_a_conflicting_name(string kind)
        {
            var tier = DnsLab.Load(S, kind);
            await SyncAsync(tier, prune: true);
            var query = DnsLab.Query(tier);
            // The space's hand-made record (lab.sh space add made it, outside the module) is in the zone prune covers.
            Assert.Contains(await query.QueryAsync("handmade." + S.Domain, DnsRecordType.A, CancellationToken.None), r => r.Value == S.Handmade);

            // A service named like the hand-made record: refused whole, so the other new name is not added either.
            var clash = DnsLab.Load(S, kind, t => t.Replace("names: [jump]", "names: [jump, handmade, extra]"));
            using var pool = new TransportPool();
            using var backend = DnsLab.Backend(clash, pool);
            var error = await Assert.ThrowsAsync<DeevException>(() => backend.PlanAsync(new DnsBatch(DesiredRecords.FromTier(clash)), CancellationToken.None));
            Assert.Equal(DnsErrors.RecordConflict, error.ErrorId);
            Assert.Contains("handmade." + S.Domain, error.Message);
            Assert.Empty(await query.QueryAsync("extra." + S.Domain, DnsRecordType.CNAME, CancellationToken.None));
            Assert.Contains(await query.QueryAsync("handmade." + S.Domain, DnsRecordType.A, CancellationToken.None), r => r.Value == S.Handmade);
        }

        [LabFact]
        public async Task PowerDns_http_api_on_the_servers_loopback_is_reached_through_an_ssh_tunnel_over_via()
        {
            var tier = DnsLab.Load(S, "powerdns");
            Assert.Equal(DnsLab.PowerDnsEndpoint, tier.Dns!.Get("endpoint"));
            Assert.NotNull(tier.Dns.Via);
            using var pool = new TransportPool();
            using var backend = DnsLab.Backend(tier, pool);
            Assert.Contains("through SSH to ssh://root@", backend.Server);
            // The hand-made record comes from the real PowerDNS, read over the tunnel with the key.
            var read = await backend.ReadAsync(null, CancellationToken.None);
            Assert.Contains(read.Foreign, r => r.Name == "handmade." + S.Domain && r.Type == DnsRecordType.A && r.Value == S.Handmade);
        }

        [LabTheory]
        [MemberData(nameof(Kinds))]
        public async Task A_dead_server_gives_a_clear_error_instead_of_a_hang(string kind)
        {
            var lab = LabEnvironment.Require();
            string Dead(string t) => kind switch
            {
                "dnsmasq" => t.Replace("port: 53\n", "port: 5399\n"),
                "unbound" => t.Replace("controlConfig: " + lab["DEEV_LAB_UNBOUND_CONF"], "controlConfig: " + DeadUnboundConfig(lab, S)),
                "bind" => t.Replace("port: " + lab["DEEV_LAB_BIND_PORT"], "port: 5399"),
                _ => t.Replace(DnsLab.PowerDnsEndpoint, "http://127.0.0.1:8099"),
            };
            var tier = DnsLab.Load(S, kind, Dead);
            using var pool = new TransportPool();
            using var backend = DnsLab.Backend(tier, pool, TimeSpan.FromSeconds(2));
            // The guard only keeps a hang from stalling the run; the assertion is the error itself.
            var plan = backend.PlanAsync(new DnsBatch(DesiredRecords.FromTier(tier)), CancellationToken.None);
            var error = await Assert.ThrowsAsync<DeevException>(() => plan.WaitAsync(TimeSpan.FromMinutes(2)));
            Assert.Equal(DnsErrors.ServerUnreachable, error.ErrorId);
            Assert.Contains(kind == "powerdns" ? ":8099" : kind == "unbound" ? "unbound-control" : "5399", error.Message);
        }

        /// <summary>An unbound.conf whose control socket nobody listens on: the "server" unbound-control reaches is dead.</summary>
        private static string DeadUnboundConfig(LabEnvironment lab, LabSpace space)
        {
            var text = System.IO.File.ReadAllText(lab["DEEV_LAB_UNBOUND_CONF"]);
            var path = System.IO.Path.Combine(space.Root, "dead-unbound.conf");
            System.IO.File.WriteAllText(path, text.Replace("unbound-control.sock", "dead-control.sock"));
            return path;
        }
    }

    /// <summary>
    /// Not for state (the space is the suite's own) but for one effect the module has on everyone: a CNAME change on
    /// dnsmasq restarts dnsmasq (its only way to read cname= lines), and while it restarts, for a moment, nobody's DNS
    /// or DHCP is answered. So this suite does not run beside the parallel lab tests.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class DnsLabCollection
    {
        public const string Name = "DNS lab servers";
    }
}
