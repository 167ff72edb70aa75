using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Deevnet.Extended.Tests.Lab;
using Deevnet.Extended.Tests.LabSelfTests;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>
    /// The backup proofs over the lab's real sshd: the service's host is the lab server (root@10.231.0.2), the restore
    /// target another lab host (a guest with its own sshd), the store local or on the lab server over SSH. Everything
    /// is in the space bk (tests/lab/spaces): its folder for the worlds, guests bk-… with MACs 02:de:39:… on its platform
    /// addresses 10.231.25.96-111.
    /// </summary>
    [Collection(LabBackupCollection.Name)]
    public sealed class LabBackupTests : IClassFixture<LabBackupTests.Space>
    {
        private const string Server = "ssh://root@10.231.0.2";
        private readonly LabSpace _space;

        public sealed class Space : LabSpaceFixture
        {
            public Space() : base("bk")
            {
            }
        }

        public LabBackupTests(Space space)
        {
            _space = space.Space;
        }

        private static string Access(LabEnvironment lab) =>
            $"access: {{ user: root, identityFile: \"{lab["DEEV_LAB_SSH_KEY"]}\", knownHosts: \"{lab["DEEV_LAB_KNOWN_HOSTS"]}\", connectTimeout: 5s, commandTimeout: 30s }}";

        private string Parent(LabEnvironment lab) => Path.Combine(_space.Root, "worlds");

        [LabFact]
        public async Task RoundTripOf200MBToAnotherLabHostOverSshWithAnSshStore()
        {
            var lab = LabEnvironment.Require();
            using var guest = new LabGuest(lab, _space.GuestPrefix, _space.RandomMac(), "--segment", "platform", "--ip", _space.Platform(Random.Shared.Next(0, 16)) + "/24");
            var ssh = LabProcess.LabSh(lab, "guest", "ssh", guest.Name);
            Assert.True(ssh.ExitCode == 0, ssh.ToString());
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, targetVia: "ssh://root@" + ssh.StdOut.Trim(), storeVia: Server, access: Access(lab));
            await BackupScenarios.RoundTrip(w, bigFile: 200L << 20, restoreParent: Path.Combine(lab.Root, "hosts", guest.Name));
        }

        /// <summary>
        /// The round trip's restore connects to a fresh guest on one of 16 addresses, which earlier guests had with other
        /// MACs. The lab's router must not keep sending to the gone guest's MAC (about 8 s of neighbour probing, past the
        /// 5 s connect limit): a new guest on a reused address answers the first connection at once.
        /// </summary>
        [LabFact]
        public void ANewGuestOnAnAddressAnEarlierGuestHadAnswersTheFirstConnectionAtOnce()
        {
            var lab = LabEnvironment.Require();
            var ip = _space.Platform(15);
            static TimeSpan Connect(string address)
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                using var tcp = new System.Net.Sockets.TcpClient();
                Assert.True(tcp.ConnectAsync(address, 22).Wait(TimeSpan.FromSeconds(20)), $"no TCP connection to {address}:22 within 20 s");
                return watch.Elapsed;
            }
            using (var first = new LabGuest(lab, _space.GuestPrefix, _space.RandomMac(), "--segment", "platform", "--ip", ip + "/24"))
            {
                var ssh = LabProcess.LabSh(lab, "guest", "ssh", first.Name);
                Assert.True(ssh.ExitCode == 0, ssh.ToString());
                Connect(ip);   // the router now knows the first guest's MAC for this address
            }
            using var second = new LabGuest(lab, _space.GuestPrefix, _space.RandomMac(), "--segment", "platform", "--ip", ip + "/24");
            var again = LabProcess.LabSh(lab, "guest", "ssh", second.Name);
            Assert.True(again.ExitCode == 0, again.ToString());
            var took = Connect(ip);
            Assert.True(took < TimeSpan.FromSeconds(2), $"the first connection to the new guest on {ip} took {took.TotalSeconds:0.0} s");
        }

        [LabFact]
        public async Task KilledRemoteTarLeavesOnlyAPartialThatTheNextRunCleans()
        {
            var lab = LabEnvironment.Require();
            var marker = Path.Combine(Parent(lab), "after-" + Guid.NewGuid().ToString("N"));
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, after: $"touch {Sh.Q(marker)}", access: Access(lab));
            await BackupScenarios.InterruptedBackupLeavesOnlyAPartial(w, () => Sh.Run($"kill -KILL {TarPid(w)}"), marker);
            File.Delete(marker);
        }

        [LabFact]
        public async Task DroppedSshConnectionLeavesOnlyAPartialThatTheNextRunCleans()
        {
            var lab = LabEnvironment.Require();
            var marker = Path.Combine(Parent(lab), "after-" + Guid.NewGuid().ToString("N"));
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, after: $"touch {Sh.Q(marker)}", access: Access(lab));
            // The sshd process serving the session: the nearest ancestor of tar (script, pipeline subshell, …) that is sshd.
            await BackupScenarios.InterruptedBackupLeavesOnlyAPartial(w, () =>
            {
                var pid = TarPid(w);
                for (var i = 0; i < 6 && !Sh.Run($"ps -o args= -p {pid}").StartsWith("sshd", StringComparison.Ordinal); i++)
                    pid = Sh.Run($"ps -o ppid= -p {pid}").Trim();
                Assert.StartsWith("sshd", Sh.Run($"ps -o args= -p {pid}").Trim());
                Sh.Run($"kill -KILL {pid}");
            }, marker);
            File.Delete(marker);
        }

        [LabFact]
        public async Task AfterRunsOnTheHostWhenArchivingFails()
        {
            var lab = LabEnvironment.Require();
            var marker = Path.Combine(Parent(lab), "after-" + Guid.NewGuid().ToString("N"));
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, before: "true", after: $"touch {Sh.Q(marker)}", extraMissingPath: true, access: Access(lab));
            await BackupScenarios.AfterRunsWhenArchivingFails(w, marker);
            File.Delete(marker);
        }

        [LabFact]
        public async Task CorruptedArchiveOrManifestFailsTestNamingTheFile()
        {
            var lab = LabEnvironment.Require();
            using (var w = new BackupWorld(Parent(lab), sourceVia: Server, access: Access(lab))) await BackupScenarios.CorruptCiphertextNamesTheFile(w);
            using (var w = new BackupWorld(Parent(lab), sourceVia: Server, storeVia: Server, access: Access(lab))) await BackupScenarios.TamperedContentOrManifestNamesTheFile(w);
        }

        [LabFact]
        public async Task ARunningBackupHoldsOffASecondOneOnAnSshStore()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, storeVia: Server, access: Access(lab));
            await BackupScenarios.ARunningBackupHoldsOffASecondOneAndKeepsItsPartial(w);
        }

        [LabFact]
        public async Task WrongKeyFailsClearly()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, storeVia: Server, access: Access(lab));
            await BackupScenarios.WrongKeyFailsClearly(w);
        }

        [LabFact]
        public async Task NothingSecretIsLeftOnHostOrStoreAndTheKeyIsNotRead()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, storeVia: Server, access: Access(lab));
            await BackupScenarios.NothingSecretLeftBehind(w);
        }

        [LabFact]
        public async Task RetentionNeverRemovesTheLastGoodBackup()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, storeVia: Server, keep: 2, access: Access(lab));
            await BackupScenarios.RetentionKeepsTheNewestAndTheLastGood(w);
        }

        [LabFact]
        public async Task PlantedBackupsOnAnSshStoreAreRefusedAndNeverChosen()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, targetVia: Server, storeVia: Server, access: Access(lab));
            await BackupScenarios.PlantedBackupsAreRefusedAndNeverChosen(w, w.Root);
        }

        [LabFact]
        public async Task ASealPairedWithAnotherArchiveOnAnSshStoreIsRefused()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, targetVia: Server, storeVia: Server, access: Access(lab));
            await BackupScenarios.SealPairedWithAnotherArchiveIsRefused(w, w.Root);
        }

        [LabFact]
        public async Task HostileArchivesAreRefusedAndLeaveTheHostUntouched()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, access: Access(lab));
            await RestoreScenarios.HostileArchivesLeaveTheHostUntouched(w);
        }

        [LabFact]
        public async Task AnExistingSymlinkAtADeclaredPathIsNeverFollowed()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, access: Access(lab));
            await RestoreScenarios.ExistingSymlinkIsNeverFollowed(w);
        }

        [LabFact]
        public async Task InPlaceRestoreReplacesTheTreeWithoutFollowingItsSymlinks()
        {
            var lab = LabEnvironment.Require();
            using var w = new BackupWorld(Parent(lab), sourceVia: Server, access: Access(lab));
            await RestoreScenarios.InPlaceRestoreReplacesTheTreeWithoutFollowingItsSymlinks(w);
        }

        [LabTheory]
        [InlineData(Phase.Before)]
        [InlineData(Phase.Streaming)]
        [InlineData(Phase.After)]
        [InlineData(Phase.DroppedConnection)]
        public async Task StoppedBackupOverSshRunsAfterOnce(Phase phase)
        {
            var lab = LabEnvironment.Require();
            await RestoreScenarios.InCommandFolder(Parent(lab), (before, after) => new BackupWorld(Parent(lab), sourceVia: Server, before: before, after: after, access: Access(lab)),
                (w, dir) => RestoreScenarios.StoppedBackupRunsAfterOnce(w, dir, phase, w.DropConnections));
        }

        [LabTheory]
        [InlineData(Phase.Before)]
        [InlineData(Phase.Streaming)]
        [InlineData(Phase.After)]
        [InlineData(Phase.DroppedConnection)]
        public async Task StoppedRestoreOverSshRunsAfterOnce(Phase phase)
        {
            var lab = LabEnvironment.Require();
            await RestoreScenarios.InCommandFolder(Parent(lab), (before, after) => new BackupWorld(Parent(lab), targetVia: Server, before: before, after: after, access: Access(lab)),
                (w, dir) => RestoreScenarios.StoppedRestoreRunsAfterOnce(w, dir, phase, w.DropConnections));
        }

        /// <summary>The tar process archiving this world's data (the script around it has the same words on its command line).</summary>
        internal static string TarPid(BackupWorld w)
        {
            var pattern = "--format=pax --create --file=- --directory=/ -- " + w.Data.TrimStart('/');
            return Sh.Run($"for p in $(pgrep -f -- {Sh.Q(pattern)}); do [ \"$(ps -o comm= -p $p)\" = tar ] && echo $p; done; true").Split('\n', StringSplitOptions.RemoveEmptyEntries).Single();
        }
    }

    /// <summary>
    /// The lab backup tests stream hundreds of megabytes through the lab's sshd; they run alone (not parallel with
    /// the other lab tests) so that a 2-core machine's load from other classes does not cut their connections.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class LabBackupCollection
    {
        public const string Name = "Lab backups (run alone)";
    }
}
