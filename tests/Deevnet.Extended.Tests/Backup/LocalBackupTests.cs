using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Backup;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>The backup proofs with hosts and store on this machine (local transport): no lab needed.</summary>
    public sealed class LocalBackupTests
    {
        private static readonly string Parent = Path.Combine(Path.GetTempPath(), "deev-backup-tests");

        [Fact]
        public async Task RoundTripRestoresByteForByteWithOwnersAndModes()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.RoundTrip(w, bigFile: 3L << 20, restoreParent: w.Root);
        }

        [Fact]
        public async Task ALocalStoreWritesTheArchiveOwnerOnlyWhateverTheUmask()
        {
            using var w = new BackupWorld(Parent);
            w.CreateTree();
            // The module writes a local store itself (no `umask 077 && cat`): a umask of 022 must not make the archive world-readable.
            var result = await w.Engine().BackupAsync(w.Service, CancellationToken.None);
            var archive = Path.Combine(w.ServiceStore, result.BackupName + BackupStore.ArchiveSuffix);
            Assert.Equal("600", Sh.Run($"stat -c %a {Sh.Q(archive)}").Trim());
            Assert.Equal(new[] { result.BackupName + ".meta", result.BackupName + ".seal", result.BackupName + ".tar.age" }, w.StoreFiles());
        }

        [Fact]
        public async Task KilledTarLeavesOnlyAPartialThatTheNextRunCleans()
        {
            var marker = Path.Combine(Parent, "after-" + System.Guid.NewGuid().ToString("N"));
            using var w = new BackupWorld(Parent, after: $"touch {Sh.Q(marker)}");
            try
            {
                await BackupScenarios.InterruptedBackupLeavesOnlyAPartial(w,
                    () => Sh.Run($"kill -KILL {LabBackupTests.TarPid(w)}"), marker);
            }
            finally
            {
                File.Delete(marker);
            }
        }

        [Fact]
        public async Task ARunningBackupHoldsOffASecondOneAndKeepsItsPartial()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.ARunningBackupHoldsOffASecondOneAndKeepsItsPartial(w);
        }

        [Fact]
        public async Task AfterRunsWhenArchivingFails()
        {
            var marker = Path.Combine(Parent, "after-" + System.Guid.NewGuid().ToString("N"));
            using var w = new BackupWorld(Parent, before: "true", after: $"touch {Sh.Q(marker)}", extraMissingPath: true);
            try
            {
                await BackupScenarios.AfterRunsWhenArchivingFails(w, marker);
            }
            finally
            {
                File.Delete(marker);
            }
        }

        [Fact]
        public async Task FailingBeforeArchivesNothingButRunsAfter()
        {
            var marker = Path.Combine(Parent, "after-" + System.Guid.NewGuid().ToString("N"));
            using var w = new BackupWorld(Parent, before: "echo dump failed >&2; exit 3", after: $"touch {Sh.Q(marker)}");
            try
            {
                w.CreateTree();
                var ex = await Assert.ThrowsAsync<BackupException>(() => w.Engine().BackupAsync(w.Service, CancellationToken.None));
                Assert.Equal("BackupBeforeFailed", ex.ErrorId);
                Assert.Contains("dump failed", ex.Message);
                Assert.True(File.Exists(marker));
            }
            finally
            {
                File.Delete(marker);
            }
        }

        [Fact]
        public async Task CorruptCiphertextFailsTestNamingTheFile()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.CorruptCiphertextNamesTheFile(w);
        }

        [Fact]
        public async Task TamperedContentOrManifestFailsTestNamingTheFile()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.TamperedContentOrManifestNamesTheFile(w);
        }

        [Fact]
        public async Task WrongKeyFailsClearly()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.WrongKeyFailsClearly(w);
        }

        [Fact]
        public async Task NothingSecretIsLeftBehind()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.NothingSecretLeftBehind(w);
        }

        [Fact]
        public async Task RetentionKeepsTheNewestAndNeverTheLastGood()
        {
            using var w = new BackupWorld(Parent, keep: 2);
            await BackupScenarios.RetentionKeepsTheNewestAndTheLastGood(w);
        }

        [Fact]
        public async Task PlantedBackupsAreRefusedAndNeverChosen()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.PlantedBackupsAreRefusedAndNeverChosen(w, w.Root);
        }

        [Fact]
        public async Task ASealPairedWithAnotherArchiveIsRefused()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.SealPairedWithAnotherArchiveIsRefused(w, w.Root);
        }

        [Fact]
        public async Task RestorePlanComesFromTheSealNotTheSidecar()
        {
            using var w = new BackupWorld(Parent);
            await BackupScenarios.RestorePlanComesFromTheSealNotTheSidecar(w);
        }

        [Fact]
        public async Task AnUnauthenticatedBackupIsNotFreshAndTheCheckSaysWhy()
        {
            using var w = new BackupWorld(Parent);
            var planted = w.Plant(signed: false);
            var fresh = await w.Catalog().FreshnessAsync(w.Service, CancellationToken.None);
            Assert.False(fresh.IsFresh);
            Assert.Null(fresh.NewestGood);
            Assert.Contains($"1 unauthenticated backup(s) do not count, e.g. {planted.BackupName}: it has no .seal", fresh.Message);
        }

        [Fact]
        public async Task ServicesWithoutBackupAreNotBackedUpAndAreAlwaysFresh()
        {
            using var w = new BackupWorld(Parent);
            var quiet = System.Linq.Enumerable.Single(w.Tier.Services, s => s.Name == "quiet");
            var ex = await Assert.ThrowsAsync<BackupException>(() => w.Engine().BackupAsync(quiet, CancellationToken.None));
            Assert.Equal("BackupNotNeeded", ex.ErrorId);
            var fresh = await w.Catalog().FreshnessAsync(quiet, CancellationToken.None);
            Assert.True(fresh.IsFresh);
            Assert.False(fresh.Needed);
            var stale = await w.Catalog().FreshnessAsync(w.Service, CancellationToken.None);
            Assert.False(stale.IsFresh);
            Assert.Contains("no good backup", stale.Message);
        }

        [Fact]
        public async Task HostileArchivesAreRefusedAndLeaveTheHostUntouched()
        {
            using var w = new BackupWorld(Parent);
            await RestoreScenarios.HostileArchivesLeaveTheHostUntouched(w);
        }

        [Fact]
        public async Task AnExistingSymlinkAtADeclaredPathIsNeverFollowed()
        {
            using var w = new BackupWorld(Parent);
            await RestoreScenarios.ExistingSymlinkIsNeverFollowed(w);
        }

        [Fact]
        public async Task InPlaceRestoreReplacesTheTreeWithoutFollowingItsSymlinks()
        {
            using var w = new BackupWorld(Parent);
            await RestoreScenarios.InPlaceRestoreReplacesTheTreeWithoutFollowingItsSymlinks(w);
        }

        [Theory]
        [InlineData(Phase.Before)]
        [InlineData(Phase.Streaming)]
        [InlineData(Phase.After)]
        public async Task CtrlCDuringABackupRunsAfterOnce(Phase phase)
        {
            await RestoreScenarios.InCommandFolder(Parent, (before, after) => new BackupWorld(Parent, before: before, after: after),
                (w, dir) => RestoreScenarios.StoppedBackupRunsAfterOnce(w, dir, phase));
        }

        [Theory]
        [InlineData(Phase.Before)]
        [InlineData(Phase.Streaming)]
        [InlineData(Phase.After)]
        public async Task CtrlCDuringARestoreRunsAfterOnce(Phase phase)
        {
            await RestoreScenarios.InCommandFolder(Parent, (before, after) => new BackupWorld(Parent, before: before, after: after),
                (w, dir) => RestoreScenarios.StoppedRestoreRunsAfterOnce(w, dir, phase));
        }
    }
}
