using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Doubles;
using Xunit;

namespace Deevnet.Extended.Tests.Dns
{
    /// <summary>The OPNsense back end against the local API double (OPNsense itself cannot run here).</summary>
    public sealed class OpnsenseDnsBackendTests : IDisposable
    {
        private readonly OpnsenseDouble _api = new OpnsenseDouble("k3y", "s3cret");

        public OpnsenseDnsBackendTests()
        {
            Environment.SetEnvironmentVariable("DEEV_TEST_OPN_KEY", "k3y");
            Environment.SetEnvironmentVariable("DEEV_TEST_OPN_SECRET", "s3cret");
        }

        public void Dispose() => _api.Dispose();

        private SiteTier Tier(Func<string, string>? edit = null, string? endpoint = null, string secretEnv = "DEEV_TEST_OPN_SECRET")
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(dir!.FullName, "Deevnet.Extended.sln"))) dir = dir.Parent;
            var text = File.ReadAllText(Path.Combine(dir.FullName, "examples", "lab.tier.yaml"));
            text = System.Text.RegularExpressions.Regex.Replace(text, @"^dns:\s*\n(?:[ \t#].*\n|\s*\n)*",
                $"dns:\n  kind: opnsense\n  endpoint: {endpoint ?? _api.Endpoint}\n  apiKeyEnv: DEEV_TEST_OPN_KEY\n  apiSecretEnv: {secretEnv}\n\n",
                System.Text.RegularExpressions.RegexOptions.Multiline);
            if (edit != null) text = edit(text);
            var path = Path.Combine(Path.GetTempPath(), "deev-opn-" + Guid.NewGuid().ToString("N") + ".tier.yaml");
            File.WriteAllText(path, text);
            return TierLoader.Load(path);
        }

        private static async Task<DnsPlan> SyncAsync(SiteTier tier, bool prune = true)
        {
            using var pool = new TransportPool();
            using var backend = DnsBackendFactory.Create(tier, pool, null, TimeSpan.FromSeconds(2));
            var plan = await backend.PlanAsync(new DnsBatch(DesiredRecords.FromTier(tier), prune: prune), CancellationToken.None);
            await backend.ApplyAsync(plan, CancellationToken.None);
            return plan;
        }

        [Fact]
        public async Task Sync_creates_host_overrides_and_aliases_and_applies_them_with_one_reconfigure()
        {
            var tier = Tier();
            await SyncAsync(tier);
            Assert.Equal(1, _api.Reconfigures);
            foreach (var h in tier.Hosts) Assert.Equal(h.IPAddress.ToString(), _api.Applied[tier.FqdnOf(h.Name)]);
            foreach (var s in tier.Services)
                foreach (var n in s.Names) Assert.Equal(tier.FqdnOf(s.Host), _api.Applied[n + "." + tier.Site.Domain]);
            Assert.All(_api.Hosts.Values.Concat(_api.Aliases.Values), r => Assert.StartsWith("Deevnet.Extended - ", r["description"]));

            var again = await SyncAsync(tier);
            Assert.False(again.HasChanges);
            Assert.Equal(1, _api.Reconfigures);
        }

        [Fact]
        public async Task An_address_change_sets_the_override_in_place()
        {
            await SyncAsync(Tier());
            var moved = Tier(t => t.Replace("ip: 10.231.99.23", "ip: 10.231.99.44"));
            var plan = await SyncAsync(moved, prune: false);
            Assert.Contains(plan.Changes.Changes, c => c.Action == ChangeAction.Change && c.Key.StartsWith("dv99acc001v01."));
            Assert.Equal("10.231.99.44", _api.Applied["dv99acc001v01.lab.deevnet.test"]);
            Assert.Single(_api.Hosts.Values, h => h["hostname"] == "dv99acc001v01");
        }

        [Fact]
        public async Task Rows_of_other_writers_survive_prune_and_block_a_conflicting_name()
        {
            _api.AddHost("handmade", "lab.deevnet.test", "10.231.99.250", "Ansible managed - handmade");
            await SyncAsync(Tier(), prune: true);
            Assert.Equal("10.231.99.250", _api.Applied["handmade.lab.deevnet.test"]);

            var clash = Tier(t => t.Replace("names: [jump]", "names: [jump, handmade]"));
            var error = await Assert.ThrowsAsync<DeevException>(() => SyncAsync(clash));
            Assert.Equal(DnsErrors.RecordConflict, error.ErrorId);
            Assert.Equal("10.231.99.250", _api.Applied["handmade.lab.deevnet.test"]);
        }

        [Fact]
        public async Task A_refused_call_undoes_the_staged_changes_and_reconfigures_nothing()
        {
            var tier = Tier();
            var configBefore = _api.Hosts.Count + _api.Aliases.Count;
            _api.FailOn = "addHostAlias";
            var error = await Assert.ThrowsAsync<DeevException>(() => SyncAsync(tier));
            Assert.Equal(DnsErrors.UpdateRejected, error.ErrorId);
            Assert.Equal(0, _api.Reconfigures);
            Assert.Empty(_api.Applied);
            Assert.Equal(configBefore, _api.Hosts.Count + _api.Aliases.Count);
        }

        private string HostUuid(string hostname) => _api.Hosts.Single(h => h.Value["hostname"] == hostname).Key;

        /// <summary>What the configuration (not the running resolver) says: host FQDN → address, alias FQDN → its host's FQDN.</summary>
        private List<string> Configured()
        {
            string Fqdn(Dictionary<string, string> r) => r["hostname"] + "." + r["domain"];
            return _api.Hosts.Values.Select(h => $"{Fqdn(h)} {h["enabled"]} A {h["server"]} {h["description"]}")
                .Concat(_api.Aliases.Values.Select(a => $"{Fqdn(a)} {a["enabled"]} -> {(_api.Hosts.TryGetValue(a["host"], out var h) ? Fqdn(h) : "nothing")} {a["description"]}"))
                .OrderBy(x => x, StringComparer.Ordinal).ToList();
        }

        [Fact]
        public async Task An_owned_host_that_goes_while_a_foreign_alias_points_at_it_is_a_conflict_naming_the_alias()
        {
            // Upstream SettingsController::delHostOverrideAction deletes the override's aliases with it, foreign ones too.
            await SyncAsync(Tier());
            _api.AddAlias(HostUuid("dv99acc001v01"), "legacy", "lab.deevnet.test", "Ansible managed - legacy");
            var before = Configured();
            var calls = _api.Calls.Count;
            var error = await Assert.ThrowsAsync<DeevException>(() => SyncAsync(Tier(t => t.Replace("dv99acc001v01", "dv99acc002v01"))));
            Assert.Equal(DnsErrors.RecordConflict, error.ErrorId);
            Assert.Contains("legacy.lab.deevnet.test", error.Message);
            Assert.Equal(before, Configured());
            Assert.DoesNotContain(_api.Calls.Skip(calls), c => c.StartsWith("POST", StringComparison.Ordinal));
        }

        [Fact]
        public async Task The_foreign_alias_conflict_shows_in_the_plan_before_anything_is_applied()
        {
            await SyncAsync(Tier());
            _api.AddAlias(HostUuid("dv99acc001v01"), "legacy", "lab.deevnet.test", "Ansible managed - legacy");
            var tier = Tier(t => t.Replace("dv99acc001v01", "dv99acc002v01"));
            using var pool = new TransportPool();
            using var backend = DnsBackendFactory.Create(tier, pool, null, TimeSpan.FromSeconds(2));
            var error = await Assert.ThrowsAsync<DeevException>(() => backend.PlanAsync(new DnsBatch(DesiredRecords.FromTier(tier), prune: true), CancellationToken.None));
            Assert.Equal(DnsErrors.RecordConflict, error.ErrorId);
            Assert.Contains("legacy.lab.deevnet.test", error.Message);
        }

        [Fact]
        public async Task A_host_renamed_with_its_alias_moves_the_alias_and_deletes_the_old_host_last()
        {
            await SyncAsync(Tier());
            await SyncAsync(Tier(t => t.Replace("dv99acc001v01", "dv99acc002v01")));
            Assert.Equal("dv99acc002v01.lab.deevnet.test", _api.Applied["jump.lab.deevnet.test"]);
            Assert.DoesNotContain(_api.Hosts.Values, h => h["hostname"] == "dv99acc001v01");
            var setAlias = _api.Calls.FindLastIndex(c => c.Contains("setHostAlias"));
            Assert.True(setAlias >= 0 && setAlias < _api.Calls.FindLastIndex(c => c.Contains("delHostOverride")));
        }

        [Fact]
        public async Task Owned_aliases_survive_the_undo_of_a_batch_that_deleted_their_hosts()
        {
            // The undo re-creates a deleted host under a new uuid (addBase makes it); the aliases restored after it must
            // point at that new uuid, and no alias may be lost to the delete's cascade.
            await SyncAsync(Tier());
            var before = Configured();
            _api.FailOn = "delHostOverride/" + HostUuid("dv99aut001v01");
            var error = await Assert.ThrowsAsync<DeevException>(() => SyncAsync(Tier(t => t.Replace("dv99acc001v01", "dv99acc002v01").Replace("dv99aut001v01", "dv99aut002v01"))));
            Assert.Equal(DnsErrors.UpdateRejected, error.ErrorId);
            Assert.Equal(before, Configured());
        }

        [Fact]
        public async Task Owned_host_overrides_and_aliases_disabled_by_hand_are_enabled_again()
        {
            await SyncAsync(Tier());
            _api.Hosts[HostUuid("dv99acc001v01")]["enabled"] = "0";
            _api.Aliases.Values.Single(a => a["hostname"] == "ci")["enabled"] = "0";
            await SyncAsync(Tier());
            Assert.Equal("1", _api.Hosts[HostUuid("dv99acc001v01")]["enabled"]);
            Assert.Equal("1", _api.Aliases.Values.Single(a => a["hostname"] == "ci")["enabled"]);
            Assert.Equal("10.231.99.23", _api.Applied["dv99acc001v01.lab.deevnet.test"]);
            Assert.Equal("dv99aut001v01.lab.deevnet.test", _api.Applied["ci.lab.deevnet.test"]);
            Assert.False((await SyncAsync(Tier())).HasChanges);
        }

        [Fact]
        public async Task An_owned_override_turned_into_another_record_type_by_hand_is_an_A_override_again()
        {
            await SyncAsync(Tier());
            var uuid = HostUuid("dv99acc001v01");
            _api.Hosts[uuid]["rr"] = "AAAA";
            _api.Hosts[uuid]["server"] = "fd00::23";
            await SyncAsync(Tier());
            Assert.Equal("A", _api.Hosts[uuid]["rr"]);
            Assert.Equal("10.231.99.23", _api.Applied["dv99acc001v01.lab.deevnet.test"]);
            Assert.False((await SyncAsync(Tier())).HasChanges);
        }

        [Fact]
        public async Task Wrong_credentials_and_a_dead_endpoint_give_clear_errors()
        {
            Environment.SetEnvironmentVariable("DEEV_TEST_OPN_WRONG", "nope");
            var auth = await Assert.ThrowsAsync<DeevException>(() => SyncAsync(Tier(secretEnv: "DEEV_TEST_OPN_WRONG")));
            Assert.Equal("AuthenticationFailed", auth.ErrorId);
            Assert.DoesNotContain("nope", auth.Message);

            using var dead = new RefusedPort();
            var endpoint = $"http://127.0.0.1:{dead.Port}";
            var error = await Assert.ThrowsAsync<DeevException>(() => SyncAsync(Tier(endpoint: endpoint)).WaitAsync(TimeSpan.FromMinutes(2)));
            Assert.Equal("ConnectionFailed", error.ErrorId); // the OPNsense client's id, the same for DHCP and DNS
            Assert.Contains(endpoint, error.Message);
        }
    }
}
