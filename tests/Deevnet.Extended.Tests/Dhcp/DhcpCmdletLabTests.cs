using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Tests.Lab;
using Deevnet.Extended.Tests.LabSelfTests;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    /// <summary>
    /// The cmdlets as an operator uses them, against the lab tier rewritten into the space dhc (tests/lab/spaces): hosts
    /// dhcobs001v01…, MACs 02:de:3d:…, 10.231.99.32-47, its own dnsmasq hosts file; guests dhc-….
    /// </summary>
    [Collection("DhcpLab")]
    public class DhcpCmdletLabTests : IClassFixture<DhcpCmdletSpace>
    {
        private readonly DhcpCmdletSpace _space;

        public DhcpCmdletLabTests(DhcpCmdletSpace space)
        {
            _space = space;
        }

        private DhcpLab NewLab() => new DhcpLab(_space);

        /// <summary>A private copy of the space's tier (its own identity file), pointed at dnsmasq or Kea, via SSH or locally.</summary>
        private static string TierCopy(DhcpLab lab, string server, string via)
        {
            var dir = Path.Combine(lab.Space.Root, "tiers", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var text = File.ReadAllText(lab.Space.Tier);
            var viaText = via == "local" ? "local" : $"\"ssh://{lab.Env["DEEV_LAB_SSH_USER"]}@{lab.Env["DEEV_LAB_SSH_HOST"]}\"";
            var dhcp = server == "kea"
                ? $"dhcp:\n  kind: kea\n  via: {viaText}\n  configFile: {lab.Env["DEEV_LAB_KEA_CONFIG"]}\n  controlSocket: {lab.Env["DEEV_LAB_KEA_SOCKET"]}\n  netns: {lab.Env["DEEV_LAB_KEA_NETNS"]}\n"
                : $"dhcp:\n  kind: dnsmasq\n  via: {viaText}\n  hostsFile: {lab.Space.DnsmasqHosts}\n  pidFile: {lab.Env["DEEV_LAB_DNSMASQ_PID"]}\n";
            var replaced = Regex.Replace(text, @"(?m)^dhcp:\n(?:[ \t]+.*\n)+", dhcp);
            Assert.Contains(dhcp, replaced);
            var path = Path.Combine(dir, "lab.tier.yaml");
            File.WriteAllText(path, replaced);
            return path;
        }

        private static Dictionary<string, object?> Vars(string tier) => new Dictionary<string, object?> { ["tier"] = tier };

        [LabTheory]
        [InlineData("dnsmasq", "ssh")]
        [InlineData("kea", "ssh")]
        [InlineData("dnsmasq", "local")]
        [InlineData("kea", "local")]
        public void Sync_gives_every_lab_guest_its_address_a_second_run_changes_nothing_and_WhatIf_changes_nothing(string server, string via)
        {
            using var lab = NewLab();
            using var ps = new DhcpPowerShell();
            var tier = TierCopy(lab, server, via);
            ps.Run("New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null", Vars(tier));
            var hosts = ps.Run("Get-DeevMgmtHost -TierPath $tier -Segment management", Vars(tier))
                .Select(h => (Name: (string)h.Properties["Name"].Value, Mac: (string)h.Properties["MacAddress"].Value, Ip: (string)h.Properties["IPAddress"].Value)).ToList();
            Assert.True(hosts.Count >= 2 && hosts.All(h => h.Mac != null), "lab tier hosts: " + ps.ErrorIds);
            var guests = hosts.Select(h => new LabGuest(lab.Env, lab.Space.GuestPrefix, h.Mac, "--server", server)).ToList();
            try
            {
                var first = ps.Run("Sync-DeevDhcpReservation -TierPath $tier", Vars(tier)).Select(o => (DhcpReservationChange)o.BaseObject).ToList();
                Assert.True(ps.Errors.Count == 0, ps.ErrorIds);
                Assert.All(hosts, h => Assert.Contains(first, c => c.ClientId == h.Mac));
                for (var i = 0; i < hosts.Count; i++)
                {
                    var r = guests[i].Dhcp();
                    Assert.True(r.ExitCode == 0, r.ToString());
                    Assert.Equal(hosts[i].Ip, r.StdOut.Trim());
                }

                var before = lab.Snapshot(server);
                var second = ps.Run("Sync-DeevDhcpReservation -TierPath $tier", Vars(tier)).Select(o => (DhcpReservationChange)o.BaseObject).ToList();
                Assert.True(ps.Errors.Count == 0, ps.ErrorIds);
                Assert.All(second, c => Assert.Equal(ChangeAction.Unchanged, c.Action));
                Assert.Contains(ps.Information, i => i.Contains("0 to add, 0 to change, 0 to remove"));
                Assert.Equal(before, lab.Snapshot(server));

                // Take one reservation away, then -WhatIf: the plan shows the add, the server's file stays as it is.
                ps.Run($"Remove-DeevDhcpReservation -TierPath $tier -ClientId {hosts[0].Mac} -Confirm:$false", Vars(tier));
                Assert.True(ps.Errors.Count == 0, ps.ErrorIds);
                var removed = lab.Snapshot(server);
                Assert.NotEqual(before, removed);
                var whatIf = ps.Run("Sync-DeevDhcpReservation -TierPath $tier -WhatIf", Vars(tier));
                Assert.Empty(whatIf);
                Assert.Contains(ps.Information, i => i.Contains("1 to add"));
                Assert.Equal(removed, lab.Snapshot(server));
            }
            finally
            {
                foreach (var g in guests) g.Dispose();
                lab.CleanUp(server, hosts.Select(h => h.Mac));
            }
        }

        [LabFact]
        public void Pipeline_from_Get_DeevMgmtHost_sets_and_passes_through_and_skips_static_hosts_with_a_note()
        {
            using var lab = NewLab();
            using var ps = new DhcpPowerShell();
            var tier = TierCopy(lab, "kea", "ssh");
            ps.Run("New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null", Vars(tier));
            var macs = new List<string>();
            try
            {
                var result = ps.Run("Get-DeevMgmtHost -TierPath $tier | Set-DeevDhcpReservation -PassThru -Verbose", Vars(tier)).Select(o => (DhcpReservation)o.BaseObject).ToList();
                macs.AddRange(result.Select(r => r.ClientId));
                Assert.Equal(3, result.Count);
                Assert.All(result, r => Assert.True(r.IsOwned));
                // The whole tier through the pipeline is right to include the static host: skipped, said, no error.
                Assert.True(ps.Errors.Count == 0, ps.ErrorIds);
                Assert.Contains(ps.Verbose, v => v.StartsWith($"Skipping {lab.Space.Host("web001v01")}: segment ") && v.Contains("static addressing"));

                var listed = ps.Run("Get-DeevMgmtHost -TierPath $tier | Get-DeevDhcpReservation", Vars(tier)).Select(o => (DhcpReservation)o.BaseObject).ToList();
                Assert.Equal(result.Select(r => r.ClientId).OrderBy(m => m), listed.Select(r => r.ClientId).OrderBy(m => m));
                var all = ps.Run("Get-DeevDhcpReservation -TierPath $tier", Vars(tier)).Select(o => (DhcpReservation)o.BaseObject).ToList();
                Assert.Contains(all, r => r.ClientId == DhcpLab.KeaHandMadeMac && !r.IsOwned);

                var removed = ps.Run($"Get-DeevDhcpReservation -TierPath $tier -Owned | Where-Object Name -like '{lab.Space.HostPrefix}*' | Remove-DeevDhcpReservation -PassThru -Confirm:$false", Vars(tier));
                Assert.True(ps.Errors.Count == 0, ps.ErrorIds);
                Assert.Equal(3, removed.Count);
            }
            finally
            {
                lab.CleanUp("kea", macs);
            }
        }

        [LabTheory]
        [InlineData("a;touch /tmp/pwned")]
        [InlineData("a\ntouch /tmp/pwned")]
        public void Hostile_host_name_is_rejected_and_never_reaches_a_shell(string name)
        {
            using var lab = NewLab();
            using var ps = new DhcpPowerShell();
            // The file the injected command would make is the space's, so no other suite's run can touch it.
            var pwned = Path.Combine(lab.Space.Root, "pwned");
            name = name.Replace("/tmp/pwned", pwned);
            File.Delete(pwned);
            foreach (var server in new[] { "dnsmasq", "kea" })
            {
                var tier = TierCopy(lab, server, "ssh");
                var before = lab.Snapshot(server);
                ps.Run("Set-DeevDhcpReservation -TierPath $tier -ClientId $mac -IPAddress $ip -Name $name",
                    new Dictionary<string, object?> { ["tier"] = tier, ["name"] = name, ["mac"] = lab.Space.MacPrefix + ":00:00:01", ["ip"] = lab.Space.Mgmt(13) });
                Assert.Equal("ReservationInvalid", Assert.Single(ps.Errors).FullyQualifiedErrorId.Split(',')[0]);
                Assert.Equal(before, lab.Snapshot(server));
            }
            Assert.False(File.Exists(pwned));
        }

        [LabFact]
        public void Dnsmasq_reservation_in_its_own_config_is_listed_never_changed_and_a_clash_applies_nothing()
        {
            using var lab = NewLab();
            using var ps = new DhcpPowerShell();
            var tier = TierCopy(lab, "dnsmasq", "ssh");
            // An operator's reservation in dnsmasq's own configuration (conf-dir): the space's MAC and address.
            var handmade = Path.Combine(lab.Env["DEEV_LAB_DNSMASQ_CONFDIR"], $"space-{lab.Space.Id}-handmade.conf");
            var handmadeMac = lab.Space.MacPrefix + ":aa:00:02";
            var handmadeIp = lab.Space.Mgmt(14);
            File.WriteAllText(handmade, $"# an operator's own reservation\ndhcp-host={handmadeMac},{handmadeIp},{lab.Name("handmade2")}\n");
            var mac = lab.RandomMac();
            try
            {
                var all = ps.Run("Get-DeevDhcpReservation -TierPath $tier", Vars(tier)).Select(o => (DhcpReservation)o.BaseObject).ToList();
                var found = Assert.Single(all, r => r.ClientId == handmadeMac);
                Assert.False(found.IsOwned);
                Assert.Equal(handmade + ":2", found.Source);

                var before = lab.Snapshot("dnsmasq");
                ps.Run($"Set-DeevDhcpReservation -TierPath $tier -ClientId {mac} -IPAddress {handmadeIp} -Name {lab.Name("clash")}", Vars(tier));
                Assert.Equal("ReservationConflict", Assert.Single(ps.Errors).FullyQualifiedErrorId.Split(',')[0]);
                ps.Run($"Remove-DeevDhcpReservation -TierPath $tier -ClientId {handmadeMac} -Confirm:$false", Vars(tier));
                Assert.Equal("ReservationConflict", Assert.Single(ps.Errors).FullyQualifiedErrorId.Split(',')[0]);
                Assert.Equal(before, lab.Snapshot("dnsmasq"));
                Assert.Contains(lab.Name("handmade2"), File.ReadAllText(handmade));
            }
            finally
            {
                File.Delete(handmade);
            }
        }

        [LabFact]
        public void Prune_is_refused_when_a_host_has_no_identity_yet()
        {
            using var lab = NewLab();
            using var ps = new DhcpPowerShell();
            var tier = TierCopy(lab, "kea", "ssh");   // no New-DeevHostIdentity: the aut host has no VMID
            var before = lab.Snapshot("kea");
            ps.Run("Sync-DeevDhcpReservation -TierPath $tier -Prune -Confirm:$false", Vars(tier));
            Assert.Contains(ps.Errors, e => e.FullyQualifiedErrorId.StartsWith("PruneRefused", StringComparison.Ordinal));
            Assert.Equal(before, lab.Snapshot("kea"));
        }
    }
}
