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
    /// (busybox udhcpc in guest namespaces) proving what the servers hand out.
    /// </summary>
    [Collection("DhcpLab")]
    public class DhcpBackendLabTests
    {
        private static readonly CancellationToken None = CancellationToken.None;

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
            using var lab = new DhcpLab();
            var mac = DhcpLab.RandomMac();
            using var guest = new LabGuest(lab.Env, DhcpLab.GuestPrefix, mac, "--server", server);
            try
            {
                var backend = lab.Backend(server, via);
                var plan = await backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, "10.231.99.201", "gone1") }), None);
                Assert.Equal(ChangeAction.Add, Assert.Single(plan.Plan.Changes).Action);
                Assert.Equal("10.231.99.201", Lease(guest));

                await backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, "10.231.99.202", "gone1") }), None);
                Assert.Equal("10.231.99.202", Lease(guest));

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
            using var lab = new DhcpLab();
            var macs = Enumerable.Range(0, 3).Select(_ => DhcpLab.RandomMac()).ToList();
            var batch = new DhcpBatch(macs.Select((m, i) => DhcpLab.Want(m, $"10.231.99.{210 + i}", $"idem{i}")));
            try
            {
                var backend = lab.Backend(server, via);
                Assert.True((await backend.ApplyAsync(batch, None)).Plan.HasChanges);
                var before = lab.Bytes(server);
                var stamp = File.GetLastWriteTimeUtc(lab.Path(server));

                var second = await backend.ApplyAsync(batch, None);
                Assert.False(second.Plan.HasChanges);
                Assert.Equal(3, second.Plan.Count(ChangeAction.Unchanged));
                Assert.Equal(before, lab.Bytes(server));
                Assert.Equal(stamp, File.GetLastWriteTimeUtc(lab.Path(server)));

                var changed = new DhcpBatch(macs.Select((m, i) => DhcpLab.Want(m, $"10.231.99.{220 + i}", $"idem{i}")));
                var planned = await backend.PlanAsync(changed, None);
                Assert.Equal(3, planned.Plan.Count(ChangeAction.Change));
                Assert.Equal(before, lab.Bytes(server));

                var read = await backend.ReadAsync(None);
                Assert.All(macs, m => Assert.True(Assert.Single(read, r => r.ClientId == m).IsOwned));
                if (server == "kea") Assert.Contains(read, r => r.ClientId == "02:aa:00:00:00:01" && !r.IsOwned);
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
            using var lab = new DhcpLab();
            var mac = DhcpLab.RandomMac();
            using var guest = new LabGuest(lab.Env, DhcpLab.GuestPrefix, mac, "--server", server);
            try
            {
                var backend = lab.Backend(server, "ssh");
                await backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, "10.231.99.203", "keep") }), None);
                var before = lab.Bytes(server);

                // Built past DhcpFields on purpose: the server's own checker is the second line of defence.
                var bad = new DhcpReservation("02:de:3e:00:00:zz", IPAddress.Parse("10.231.99.204"), "bad");
                var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(new DhcpBatch(new[] { bad }), None));
                Assert.Equal("BackendValidationFailed", ex.ErrorId);
                Assert.Equal(before, lab.Bytes(server));
                Assert.Equal("10.231.99.203", Lease(guest));
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
            using var lab = new DhcpLab();
            var mac = DhcpLab.RandomMac();
            var before = lab.Bytes(server);
            var bogus = Path.Combine(lab.Env.Root, "dhcp-test-bogus-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(bogus, "999999\n");
            try
            {
                // A pid no process has, or a control socket that does not exist: the reload cannot succeed.
                var backend = server == "kea" ? lab.Backend(server, "local", socket: bogus + ".sock") : lab.Backend(server, "local", pidFile: bogus);
                var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(mac, "10.231.99.205", "rollback") }), None));
                Assert.Equal("BackendReloadFailed", ex.ErrorId);
                Assert.Equal(before, lab.Bytes(server));
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
            using var lab = new DhcpLab();
            var macs = Enumerable.Range(0, 200).Select(_ => DhcpLab.RandomMac()).Distinct().ToList();
            Assert.Equal(200, macs.Count);
            // .2-.201: the pool (.100-.150) included; both servers allow reservations inside a pool.
            var wants = macs.Select((m, i) => DhcpLab.Want(m, $"10.231.99.{2 + i}", $"c{i}")).ToList();
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
            using var lab = new DhcpLab();
            var mac = DhcpLab.RandomMac();
            var before = lab.Bytes("kea");
            var backend = lab.Backend("kea", "ssh");
            var ex = await Assert.ThrowsAsync<ReservationConflictException>(() => backend.ApplyAsync(new DhcpBatch(new[]
            {
                DhcpLab.Want(mac, "10.231.99.206", "fine"),
                DhcpLab.Want(DhcpLab.RandomMac(), "10.231.99.250", "clash"),
            }), None));
            Assert.Equal("ReservationConflict", ex.ErrorId);
            Assert.Equal(before, lab.Bytes("kea"));
            await Assert.ThrowsAsync<ReservationConflictException>(() => backend.ApplyAsync(new DhcpBatch(removals: new[] { "02:aa:00:00:00:01" }), None));
            await Assert.ThrowsAsync<ReservationConflictException>(() => backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want("02:aa:00:00:00:01", "10.231.99.207", "steal") }), None));
            Assert.Equal(before, lab.Bytes("kea"));
            AssertHandMadeKeaEntry(lab);
        }

        [LabTheory]
        [InlineData("dnsmasq", false)]
        [InlineData("dnsmasq", true)]
        [InlineData("kea", false)]
        public async Task Unknown_or_changed_host_key_refuses_to_connect_and_writes_nothing(string server, bool changed)
        {
            using var lab = new DhcpLab();
            var knownHosts = Path.Combine(lab.Env.Root, "dhcp-test-known-hosts-" + Guid.NewGuid().ToString("N"));
            try
            {
                if (changed)
                {
                    // The right host, someone else's key: what a man in the middle looks like.
                    var keyDir = Path.Combine(lab.Env.Root, "dhcp-test-key-" + Guid.NewGuid().ToString("N"));
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
                var before = lab.Bytes(server);
                var backend = lab.Backend(server, "ssh", knownHosts: knownHosts);
                var ex = await Assert.ThrowsAnyAsync<DeevException>(() => backend.ApplyAsync(new DhcpBatch(new[] { DhcpLab.Want(DhcpLab.RandomMac(), "10.231.99.208", "mitm") }), None));
                Assert.Equal(changed ? "HostKeyMismatch" : "HostKeyUnknown", ex.ErrorId);
                Assert.Equal(before, lab.Bytes(server));
            }
            finally
            {
                File.Delete(knownHosts);
            }
        }
    }
}
