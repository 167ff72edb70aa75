using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Backup;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>
    /// BackupRestorer.CompareAsync (Test-DeevBackup -TargetHost): what a rebuild asks before restoring. It must say
    /// "matches" only when every file of the manifest is on the host unchanged, and must never write anything.
    /// </summary>
    public sealed class CompareWithHostTests
    {
        private static readonly string Parent = Path.Combine(Path.GetTempPath(), "deev-backup-tests");

        [Fact]
        public async Task MatchesARestoredTreeAndNamesAChangedMissingOrExtraFile()
        {
            using var w = new BackupWorld(Parent);
            w.CreateTree();
            await w.Engine().BackupAsync(w.Service, CancellationToken.None);
            var backup = (await w.Catalog().NewestGoodAsync("files", CancellationToken.None))!;
            var root = Path.Combine(w.Root, "restored");
            var target = new RestoreTarget("bkdst", root, runCommands: false);
            await w.Restorer().RestoreAsync(w.Service, backup, target, CancellationToken.None);
            var restored = root + w.Data;
            var before = BackupWorld.Snapshot(restored);

            var same = await w.Restorer().CompareAsync(w.Service, backup, target, CancellationToken.None);
            Assert.True(same.Verified, string.Join("; ", same.Problems));
            Assert.Equal(backup.EntryCount, same.EntryCount);
            Assert.Equal(before, BackupWorld.Snapshot(restored));   // read-only

            File.WriteAllText(Path.Combine(restored, "extra.txt"), "not in the backup");
            Sh.Run($"touch -r {Sh.Q(w.Data)} {Sh.Q(restored)}");   // the folder's time is in the manifest too
            var extra = await w.Restorer().CompareAsync(w.Service, backup, target, CancellationToken.None);
            Assert.True(extra.Verified);
            Assert.Contains(extra.Extras, e => e.EndsWith("extra.txt", System.StringComparison.Ordinal));

            File.WriteAllText(Path.Combine(restored, "with space.txt"), "spaceD\n");   // same size, other bytes
            Sh.Run($"touch -r {Sh.Q(Path.Combine(w.Data, "with space.txt"))} {Sh.Q(Path.Combine(restored, "with space.txt"))}");
            File.Delete(Path.Combine(restored, "sub", "inner.txt"));
            var changed = await w.Restorer().CompareAsync(w.Service, backup, target, CancellationToken.None);
            Assert.False(changed.Verified);
            Assert.Contains(changed.Problems, p => p.Path.EndsWith("with space.txt", System.StringComparison.Ordinal));
            Assert.Contains(changed.Problems, p => p.Path.EndsWith("sub/inner.txt", System.StringComparison.Ordinal));
        }
    }
}
