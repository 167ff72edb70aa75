using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Tests.Lab;
using Deevnet.Extended.Tests.LabSelfTests;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    /// <summary>
    /// The back ends against the lab's real dnsmasq and Kea, reached locally and over SSH, with real DHCP clients
    /// (busybox udhcpc in guest namespaces) proving what the servers hand out. Everything here is in the space dhb
    /// (tests/lab/spaces): MACs 02:de:3e:…, addresses 10.231.99.160-175, the unrouted 10.231.98.0/24 for the bulk test,
    /// its own dnsmasq hosts file; guests dhb-….
    /// </summary>
    [Collection("DhcpLab")]
    public class DhcpBackendLabTests : IClassFixture<DhcpBackendSpace>
    {
        private static readonly CancellationToken None = CancellationToken.None;
        private readonly DhcpBackendSpace _space;

        public DhcpBackendLabTests(DhcpBackendSpace space)
        {
            _space = space;
        }

        private DhcpLab NewLab() => new DhcpLab(_space);

        private static string Lease(LabGuest guest)
        {
            var r = guest.Dhcp();
            Assert.True(r.ExitCode == 0, r.ToString());
            return r.StdOut.Trim();
        }

        private static void AssertPool(string ip)
        {
            var b = IPAddress.Parse(ip).GetAddressBytes();
            Assert.Equal(new byte[] { 10, 231, 99 }, b[..3]);
            Assert.InRange(b[3], 100, 150);
        }

        private static void AssertHandMadeKeaEntry(DhcpLab lab)
        {
            var text = File.ReadAllText(lab.Path("kea"));
            Assert.Contains("{ \"hw-address\": \"02:aa:00:00:00:01\", \"ip-address\": \"10.231.99.250\", \"hostname\": \"handmade\" }", text);
        }

        [LabTheory]
        [InlineData("dnsmasq", "local")]
        [InlineData("dnsmasq", "ssh")]
        [InlineData("kea", "local")]
        [InlineData("kea", "ssh")]
        public async Task Guest_takes_the_reserved_address_then_the_changed_one_then_a_pool_address(string server, string via)
        {
            using var lab = NewLab();
            var mac = lab.RandomMac();
            using var guest = new LabGuest(lab.Env, lab.Space.GuestPrefix, mac, "--server", server);
            try
            {
                var backend = lab.Backend(server, via);
                var plan = await backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, lab.Space.Mgmt(1), lab.Name("gone1")) }), None);
                Assert.Equal(ChangeAction.Add, Assert.Single(plan.Plan.Changes).Action);
                Assert.Equal(lab.Space.Mgmt(1), Lease(guest));

                await backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, lab.Space.Mgmt(2), lab.Name("gone1")) }), None);
                Assert.Equal(lab.Space.Mgmt(2), Lease(guest));

                var removed = await backend.ApplyAsync(new DhcpBatch(removals: new[] { mac }), None);
                Assert.Equal(ChangeAction.Remove, Assert.Single(removed.Plan.Changes).Action);
                AssertPool(Lease(guest));
                if (server == "kea") AssertHandMadeKeaEntry(lab);
            }
            finally
            {
                lab.CleanUp(server, new[] { mac });
            }
        }

        [LabTheory]
        [InlineData("dnsmasq", "ssh")]
        [InlineData("kea", "ssh")]
        [InlineData("kea", "local")]
        public async Task Second_run_changes_nothing_and_a_plan_changes_nothing_on_the_server(string server, string via)
        {
            using var lab = NewLab();
            var macs = Enumerable.Range(0, 3).Select(_ => lab.RandomMac()).ToList();
            var batch = new DhcpBatch(macs.Select((m, i) => DhcpLab.Want(m, lab.Space.Mgmt(9 + i), lab.Name($"idem{i}"))));
            try
            {
                var backend = lab.Backend(server, via);
                Assert.True((await backend.ApplyAsync(batch, None)).Plan.HasChanges);
                var before = lab.Snapshot(server);
                var stamp = File.GetLastWriteTimeUtc(lab.Path(server));

                var second = await backend.ApplyAsync(batch, None);
                Assert.False(second.Plan.HasChanges);
                Assert.Equal(3, second.Plan.Count(ChangeAction.Unchanged));
                Assert.Equal(before, lab.Snapshot(server));
                // Not even rewritten with the same content. Only dnsmasq's file is the space's own; Kea's is everyone's,
                // so its time stamp says nothing about this suite.
                if (server == "dnsmasq") Assert.Equal(stamp, File.GetLastWriteTimeUtc(lab.Path(server)));

                var changed = new DhcpBatch(macs.Select((m, i) => DhcpLab.Want(m, lab.Space.Mgmt(12 + i), lab.Name($"idem{i}"))));
                var planned = await backend.PlanAsync(changed, None);
                Assert.Equal(3, planned.Plan.Count(ChangeAction.Change));
                Assert.Equal(before, lab.Snapshot(server));

                var read = await backend.ReadAsync(None);
                Assert.All(macs, m => Assert.True(Assert.Single(read, r => r.ClientId == m).IsOwned));
                if (server == "kea") Assert.Contains(read, r => r.ClientId == DhcpLab.KeaHandMadeMac && !r.IsOwned);
            }
            finally
            {
                lab.CleanUp(server, macs);
            }
        }

        [LabTheory]
        [InlineData("dnsmasq")]
        [InlineData("kea")]
        public async Task Invalid_entry_is_refused_by_the_servers_checker_with_the_old_file_intact_and_the_server_serving(string server)
        {
            using var lab = NewLab();
            var mac = lab.RandomMac();
            using var guest = new LabGuest(lab.Env, lab.Space.GuestPrefix, mac, "--server", server);
            try
            {
                var backend = lab.Backend(server, "ssh");
                await backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, lab.Space.Mgmt(3), lab.Name("keep")) }), None);
                var before = lab.Snapshot(server);

                // Built past DhcpFields on purpose: the server's own checker is the second line of defence.
                var bad = new DhcpReservation(lab.Space.MacPrefix + ":00:00:zz", IPAddress.Parse(lab.Space.Mgmt(4)), "bad");
                var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(new DhcpBatch(new[] { bad }), None));
                Assert.Equal("BackendValidationFailed", ex.ErrorId);
                Assert.Equal(before, lab.Snapshot(server));
                Assert.Equal(lab.Space.Mgmt(3), Lease(guest));
            }
            finally
            {
                lab.CleanUp(server, new[] { mac });
            }
        }

        [LabTheory]
        [InlineData("dnsmasq")]
        [InlineData("kea")]
        public async Task Failed_reload_is_rolled_back(string server)
        {
            using var lab = NewLab();
            var mac = lab.RandomMac();
            var before = lab.Snapshot(server);
            var bogus = Path.Combine(lab.Space.Root, "bogus-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(bogus, "999999\n");
            try
            {
                // A pid no process has, or a control socket that does not exist: the reload cannot succeed.
                var backend = server == "kea" ? lab.Backend(server, "local", socket: bogus + ".sock") : lab.Backend(server, "local", pidFile: bogus);
                var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, lab.Space.Mgmt(5), lab.Name("rollback")) }), None));
                Assert.Equal("BackendReloadFailed", ex.ErrorId);
                Assert.Equal(before, lab.Snapshot(server));
                Assert.DoesNotContain(await lab.Backend(server, "local").ReadAsync(None), r => r.ClientId == mac);
            }
            finally
            {
                File.Delete(bogus);
            }
        }

        [LabTheory]
        [InlineData("dnsmasq")]
        [InlineData("kea")]
        public async Task Two_batches_of_100_at_the_same_time_leave_all_200(string server)
        {
            using var lab = NewLab();
            var macs = Enumerable.Range(0, 200).Select(_ => lab.RandomMac()).Distinct().ToList();
            Assert.Equal(200, macs.Count);
            // .2-.201 of the space's own 10.231.98.0/24, a subnet both servers declare on no interface (tests/lab/spaces).
            var bulk = lab.Space.Nets.Single().Split('/')[0];
            var wants = macs.Select((m, i) => DhcpLab.Want(m, bulk.Substring(0, bulk.LastIndexOf('.') + 1) + (2 + i), lab.Name($"c{i}"))).ToList();
            try
            {
                var a = lab.Backend(server, "ssh");
                var b = lab.Backend(server, "local");
                var first = wants.Take(100).ToList();
                var second = wants.Skip(100).ToList();
                await Task.WhenAll(
                    Task.Run(() => a.ApplyAsync(new DhcpBatch(first), None)),
                    Task.Run(() => b.ApplyAsync(new DhcpBatch(second), None)));
                var read = await lab.Backend(server, "local").ReadAsync(None);
                Assert.All(wants, w => Assert.Contains(read, r => r.ClientId == w.ClientId && r.IPAddress.Equals(w.IPAddress) && r.IsOwned));
                if (server == "kea") AssertHandMadeKeaEntry(lab);
            }
            finally
            {
                lab.CleanUp(server, macs);
            }
        }

        [LabFact]
        public async Task Conflict_with_the_hand_made_kea_entry_applies_nothing()
        {
            using var lab = NewLab();
            var mac = lab.RandomMac();
            var before = lab.Snapshot("kea");
            var backend = lab.Backend("kea", "ssh");
            var ex = await Assert.ThrowsAsync<ReservationConflictException>(() => backend.ApplyAsync(new DhcpBatch(new[]
            {
                DhcpLab.Want(mac, lab.Space.Mgmt(6), lab.Name("fine")),
                DhcpLab.Want(lab.RandomMac(), "10.231.99.250", lab.Name("clash")),
            }), None));
            Assert.Equal("ReservationConflict", ex.ErrorId);
            Assert.Equal(before, lab.Snapshot("kea"));
            await Assert.ThrowsAsync<ReservationConflictException>(() => backend.ApplyAsync(new DhcpBatch(removals: new[] { DhcpLab.KeaHandMadeMac }), None));
            await Assert.ThrowsAsync<ReservationConflictException>(() => backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(DhcpLab.KeaHandMadeMac, lab.Space.Mgmt(7), lab.Name("steal")) }), None));
            Assert.Equal(before, lab.Snapshot("kea"));
            AssertHandMadeKeaEntry(lab);
        }

        [LabTheory]
        [InlineData("dnsmasq", false)]
        [InlineData("dnsmasq", true)]
        [InlineData("kea", false)]
        public async Task Unknown_or_changed_host_key_refuses_to_connect_and_writes_nothing(string server, bool changed)
        {
            using var lab = NewLab();
            var knownHosts = Path.Combine(lab.Space.Root, "known-hosts-" + Guid.NewGuid().ToString("N"));
            try
            {
                if (changed)
                {
                    // The right host, someone else's key: what a man in the middle looks like.
                    var keyDir = Path.Combine(lab.Space.Root, "key-" + Guid.NewGuid().ToString("N"));
                    Directory.CreateDirectory(keyDir);
                    var gen = LabProcess.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(keyDir, "k"));
                    Assert.True(gen.ExitCode == 0, gen.ToString());
                    var pub = File.ReadAllText(Path.Combine(keyDir, "k.pub")).Split(' ');
                    File.WriteAllText(knownHosts, $"{lab.Env["DEEV_LAB_SSH_HOST"]} {pub[0]} {pub[1]}\n");
                    Directory.Delete(keyDir, true);
                }
                else
                {
                    File.WriteAllText(knownHosts, "");
                }
                var before = lab.Snapshot(server);
                var backend = lab.Backend(server, "ssh", knownHosts: knownHosts);
                var ex = await Assert.ThrowsAnyAsync<DeevException>(() => backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(lab.RandomMac(), lab.Space.Mgmt(8), lab.Name("mitm")) }), None));
                Assert.Equal(changed ? "HostKeyMismatch" : "HostKeyUnknown", ex.ErrorId);
                Assert.Equal(before, lab.Snapshot(server));
            }
            finally
            {
                File.Delete(knownHosts);
            }
        }
    }
}
