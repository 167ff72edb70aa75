using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>
    /// The proofs of issue 13 (items 1 and 4), written once against a <see cref="BackupWorld"/>: confined restores of
    /// hostile archives (crafted with real tar, encrypted with real age to the tier's recipient, with a MANIFEST that
    /// matches them, so only the confinement can refuse them), and `after` run exactly once whatever stops a backup or
    /// a restore. Run by <see cref="LocalBackupTests"/> (local transport) and <see cref="LabBackupTests"/> (lab sshd).
    /// </summary>
    /// <summary>Where a backup or restore is stopped.</summary>
    public enum Phase
    {
        Before,
        Streaming,
        After,
        DroppedConnection,
    }

    internal static class RestoreScenarios
    {
        private static CancellationToken None => CancellationToken.None;

        /// <summary>One hostile archive: how to build its members from the craft folder, and the member that must be named.</summary>
        public sealed class Hostile
        {
            public Hostile(string name, string setup, Func<string, string> tarArgs, string named, string? delete = null)
            {
                Name = name;
                Setup = setup;
                TarArgs = tarArgs;
                Named = named;
                Delete = delete;
            }

            public string Name { get; }

            /// <summary>Shell run in the craft folder first.</summary>
            public string Setup { get; }

            /// <summary>tar arguments (after -C craft) given the world root relative to / (no leading slash).</summary>
            public Func<string, string> TarArgs { get; }

            /// <summary>Text the refusal must name (relative to the world root).</summary>
            public string Named { get; }

            /// <summary>A member to delete from the archive afterwards (relative to the world root).</summary>
            public string? Delete { get; }

            public override string ToString() => Name;
        }

        /// <summary>Every hostile archive of the issue: out-of-path, absolute, '..', device node, hard link out, escaping symlinks, setuid.</summary>
        public static IEnumerable<Hostile> HostileArchives()
        {
            // The base: the data folder as a backup holds it, then the hostile member.
            static string Data(string r) => $"--transform={Sh.Q($"s|^data|{r}/data|")} data";
            yield return new Hostile("out-of-path member", "mkdir -p outside && echo planted > outside/planted.txt",
                r => $"--transform={Sh.Q($"s|^outside|{r}/outside|")} {Data(r)} outside/planted.txt", "outside/planted.txt");
            yield return new Hostile("absolute member", "echo abs > abs.txt",
                r => $"-P --transform={Sh.Q($"s|^abs.txt$|/{r}/outside/abs.txt|")} {Data(r)} abs.txt", "/outside/abs.txt");
            yield return new Hostile("'..' member", "echo up > up.txt",
                r => $"-P --transform={Sh.Q($"s|^up.txt$|{r}/data/../outside/up.txt|")} {Data(r)} up.txt", "data/../outside/up.txt");
            yield return new Hostile("device node", "mknod null-dev c 1 3",
                r => $"--transform={Sh.Q($"s|^null-dev$|{r}/data/null-dev|")} {Data(r)} null-dev", "data/null-dev");
            yield return new Hostile("hard link out of the paths", "mkdir -p v && echo v > v/victim.txt && ln v/victim.txt v/hl",
                r => $"--transform={Sh.Q($"s|^v/victim.txt$|{r}/outside/victim.txt|")} --transform={Sh.Q($"s|^v/hl$|{r}/data/hl|")} {Data(r)} v/victim.txt v/hl",
                "data/hl", delete: "outside/victim.txt");
            yield return new Hostile("symlink out of the paths", "ln -s ../outside esc",
                r => $"--transform={Sh.Q($"s|^esc$|{r}/data/esc|S")} {Data(r)} esc", "data/esc");
            yield return new Hostile("absolute symlink out of the paths", "ln -s /etc etc-link",
                r => $"--transform={Sh.Q($"s|^etc-link$|{r}/data/etc-link|S")} {Data(r)} etc-link", "data/etc-link");
            yield return new Hostile("setuid file", "echo '#!/bin/sh' > suid && chmod 4755 suid",
                r => $"--transform={Sh.Q($"s|^suid$|{r}/data/suid|")} {Data(r)} suid", "data/suid");
        }

        /// <summary>
        /// Each hostile archive, planted as the newest backup and restored in place: BackupMemberRefused naming the
        /// member, and the world (data, outside, victim) exactly as before, times included; then a good restore of the
        /// real backup still works and Test-DeevBackup still passes.
        /// </summary>
        public static async Task HostileArchivesLeaveTheHostUntouched(BackupWorld w)
        {
            var outside = Path.Combine(w.Root, "outside");
            Directory.CreateDirectory(outside);
            File.WriteAllText(Path.Combine(outside, "victim.txt"), "victim\n");
            Directory.CreateDirectory(w.Data);
            File.WriteAllText(Path.Combine(w.Data, "plain.txt"), w.Marker + "\n");
            var good = (await w.Engine().BackupAsync(w.Service, None)).Backup;
            var goodArchive = File.ReadAllBytes(Path.Combine(w.ServiceStore, good.FileName));
            var listed = (await w.Catalog().ListAsync("files", None)).Single();

            foreach (var hostile in HostileArchives())
            {
                Plant(w, listed, hostile);
                var planted = (await w.Catalog().ListAsync("files", None)).Single();
                Assert.True(planted.Signature == BackupSignature.Valid, $"{hostile}: the planted archive must carry a valid seal ({planted.SignatureProblem})");
                var before = HostState(w);
                var ex = await Assert.ThrowsAsync<BackupException>(() => w.Restorer().RestoreAsync(w.Service, planted, new RestoreTarget(), None));
                Assert.True(ex.ErrorId == "BackupMemberRefused", $"{hostile}: {ex.ErrorId}: {ex.Message}");
                Assert.Contains(hostile.Named, ex.Message);
                Assert.Equal(before, HostState(w));
            }

            File.WriteAllBytes(Path.Combine(w.ServiceStore, good.FileName), goodArchive);
            File.WriteAllText(Path.Combine(w.Data, "plain.txt"), "changed\n");
            var restored = await w.Restorer().RestoreAsync(w.Service, listed, new RestoreTarget(), None);
            Assert.True(restored.Verified, string.Join("; ", restored.Problems));
            Assert.Equal(w.Marker + "\n", File.ReadAllText(Path.Combine(w.Data, "plain.txt")));
            Assert.True((await w.Verifier().TestAsync(listed, None, record: false)).Passed);
        }

        /// <summary>The declared path is a symlink on the host (to a folder outside): RestoreTargetRefused, nothing touched, not even through the link.</summary>
        public static async Task ExistingSymlinkIsNeverFollowed(BackupWorld w)
        {
            w.CreateTree();
            await w.Engine().BackupAsync(w.Service, None);
            var listed = (await w.Catalog().ListAsync("files", None)).Single();
            var elsewhere = Path.Combine(w.Root, "elsewhere");
            Sh.Run($"mv {Sh.Q(w.Data)} {Sh.Q(elsewhere)} && ln -s elsewhere {Sh.Q(w.Data)} && echo changed > {Sh.Q(Path.Combine(elsewhere, "plain.txt"))}");
            var before = HostState(w);
            var ex = await Assert.ThrowsAsync<BackupException>(() => w.Restorer().RestoreAsync(w.Service, listed, new RestoreTarget(), None));
            Assert.Equal("RestoreTargetRefused", ex.ErrorId);
            Assert.Contains(w.Data, ex.Message);
            Assert.Equal(before, HostState(w));
        }

        /// <summary>
        /// A restore in place over a changed tree (a file changed, one added, a folder replaced by a symlink to a folder
        /// outside): the tree is the backup's again, byte for byte with owners, modes and times, nothing was written
        /// through the symlink, and Test-DeevBackup still passes.
        /// </summary>
        public static async Task InPlaceRestoreReplacesTheTreeWithoutFollowingItsSymlinks(BackupWorld w)
        {
            w.CreateTree();
            var original = BackupWorld.Snapshot(w.Data);
            await w.Engine().BackupAsync(w.Service, None);
            var listed = (await w.Catalog().ListAsync("files", None)).Single();
            var outside = Path.Combine(w.Root, "outside");
            Directory.CreateDirectory(outside);
            File.WriteAllText(Path.Combine(outside, "sentinel"), "s\n");
            var outsideBefore = BackupWorld.Snapshot(outside);
            Sh.Run($"cd {Sh.Q(w.Data)} && echo changed > plain.txt && echo extra > extra.txt && rm -rf sub && ln -s ../outside sub");

            var result = await w.Restorer().RestoreAsync(w.Service, listed, new RestoreTarget(), None);
            Assert.True(result.Verified, string.Join("; ", result.Problems));
            Assert.Empty(result.Extras);
            Assert.Equal(original, BackupWorld.Snapshot(w.Data));
            Assert.Equal(outsideBefore, BackupWorld.Snapshot(outside));
            Assert.Empty(Sh.Run($"find {Sh.Q(w.Root)} -name '.deev-restore-*'").Trim());
            Assert.True((await w.Verifier().TestAsync(listed, None, record: false)).Passed);
        }

        /// <summary>The world's before/after commands: they mark that they started, sleep when told to (a flag file), and `after` appends one line to the marker.</summary>
        public static (string Before, string After) Commands(string dir) =>
            ($"touch {Sh.Q(Path.Combine(dir, "before-started"))}; if [ -e {Sh.Q(Path.Combine(dir, "slow-before"))} ]; then sleep 3; fi",
             $"touch {Sh.Q(Path.Combine(dir, "after-started"))}; if [ -e {Sh.Q(Path.Combine(dir, "slow-after"))} ]; then sleep 3; fi; echo ran >> {Sh.Q(Path.Combine(dir, "after-ran"))}");

        /// <summary>
        /// A folder for the markers of <see cref="Commands"/>, a world made with those before/after commands, the
        /// scenario run in it, and the folder removed afterwards.
        /// </summary>
        public static async Task InCommandFolder(string parent, Func<string, string, BackupWorld> world, Func<BackupWorld, string, Task> run)
        {
            var dir = Directory.CreateDirectory(Path.Combine(parent, "cmd-" + Guid.NewGuid().ToString("N"))).FullName;
            var (before, after) = Commands(dir);
            try
            {
                using var w = world(before, after);
                await run(w, dir);
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        /// <summary>A backup stopped in <paramref name="phase"/> (Ctrl-C: the token; or the connection closed): `after` ran exactly once.</summary>
        public static async Task StoppedBackupRunsAfterOnce(BackupWorld w, string dir, Phase phase, Action? drop = null)
        {
            w.CreateTree(phase == Phase.Streaming || phase == Phase.DroppedConnection ? 64L << 20 : 0);
            using var cts = new CancellationTokenSource();
            using var dropped = new CancellationTokenSource();
            var progress = new InlineProgress(p => Stop(phase, p, cts, dropped, drop));
            var run = w.Engine(progress).BackupAsync(w.Service, cts.Token);
            var thrown = await StopAt(dir, phase, cts, dropped, run);
            await AssertAfterRanOnce(dir, phase, thrown);
        }

        /// <summary>A restore (to another root) stopped in <paramref name="phase"/>: `after` ran exactly once and nothing was moved into place.</summary>
        public static async Task StoppedRestoreRunsAfterOnce(BackupWorld w, string dir, Phase phase, Action? drop = null)
        {
            w.CreateTree(phase == Phase.Streaming || phase == Phase.DroppedConnection ? 64L << 20 : 0);
            await w.Engine().BackupAsync(w.Service, None);
            foreach (var f in new[] { "before-started", "after-started", "after-ran" }) File.Delete(Path.Combine(dir, f));
            var listed = (await w.Catalog().ListAsync("files", None)).Single();
            var root = Path.Combine(w.Root, "restored");
            using var cts = new CancellationTokenSource();
            using var dropped = new CancellationTokenSource();
            bool Extracting() => Directory.Exists(root) && Sh.Run($"find {Sh.Q(root)} -name '.deev-restore-*'").Trim().Length > 0;
            var progress = new InlineProgress(p => Stop(phase, p, cts, dropped, drop, Extracting));
            var restorer = new BackupRestorer(w.Tier, w.Transport, null, progress);
            var run = restorer.RestoreAsync(w.Service, listed, new RestoreTarget("bkdst", root), cts.Token);
            var thrown = await StopAt(dir, phase, cts, dropped, run);
            await AssertAfterRanOnce(dir, phase, thrown);
            if (phase != Phase.After) Assert.False(Directory.Exists(root + w.Data), "a stopped restore moved files into place");
            Assert.Empty(Sh.Run($"find {Sh.Q(w.Root)} -name '.deev-restore-*'").Trim());
        }

        private static void Stop(Phase phase, Core.Diagnostics.OperationProgress p, CancellationTokenSource cts, CancellationTokenSource dropped, Action? drop, Func<bool>? hostBusy = null)
        {
            // Progress is reported at the first bytes, then every 500 ms: the first report is the one that surely comes
            // while a 64 MiB stream flows. A restore first waits (holding the stream) until the host's tar has begun
            // writing its staging folder.
            if (p.Completed || cts.IsCancellationRequested || dropped.IsCancellationRequested || phase == Phase.Before || phase == Phase.After) return;
            for (var i = 0; hostBusy != null && i < 200 && !hostBusy(); i++) Thread.Sleep(50);
            if (phase == Phase.Streaming) cts.Cancel();
            else if (phase == Phase.DroppedConnection && drop != null)
            {
                dropped.Cancel();   // marks that it happened; the operation itself sees only the closed connection
                drop();
            }
        }

        private static async Task<Exception?> StopAt(string dir, Phase phase, CancellationTokenSource cts, CancellationTokenSource dropped, Task run)
        {
            if (phase == Phase.Before || phase == Phase.After)
            {
                var name = phase == Phase.Before ? "before" : "after";
                File.WriteAllText(Path.Combine(dir, "slow-" + name), "");
                var started = Path.Combine(dir, name + "-started");
                for (var i = 0; i < 600 && !File.Exists(started) && !run.IsCompleted; i++) await Task.Delay(20);
                Assert.True(File.Exists(started), $"the {name} command never started");
                cts.Cancel();
            }
            var thrown = await Record.ExceptionAsync(() => run);
            Assert.True(cts.IsCancellationRequested || dropped.IsCancellationRequested, $"the operation ended before it could be stopped: {thrown?.GetType().Name}: {thrown?.Message}");
            return thrown;
        }

        private static async Task AssertAfterRanOnce(string dir, Phase phase, Exception? thrown)
        {
            if (phase == Phase.DroppedConnection) Assert.IsType<BackupException>(thrown);
            else Assert.IsAssignableFrom<OperationCanceledException>(thrown);
            var marker = Path.Combine(dir, "after-ran");
            // The host runs `after` on its own, after the module gave up: wait for it, then a little longer for a second run.
            for (var i = 0; i < 300 && !File.Exists(marker); i++) await Task.Delay(50);
            Assert.True(File.Exists(marker), $"after did not run when stopped at {phase}: {thrown?.GetType().Name}: {thrown?.Message}; {Whereabouts(dir)}");
            await Task.Delay(phase == Phase.After ? 500 : 4000);
            Assert.Equal("ran\n", File.ReadAllText(marker));
        }

        /// <summary>
        /// For a failure message: which markers of <see cref="Commands"/> exist, and the processes still running this
        /// world's script (the guard names the marker folder in its before/after commands): alive means stuck, none
        /// means killed.
        /// </summary>
        private static string Whereabouts(string dir)
        {
            var markers = new[] { "before-started", "after-started", "after-ran" }.Where(m => File.Exists(Path.Combine(dir, m)));
            var processes = Sh.Run($"ps -ww -eo pid,ppid,sid,stat,etime,args | grep -F -- {Sh.Q(Path.GetFileName(dir))} | grep -v grep || true")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Length > 160 ? l.Substring(0, 160) : l);
            return $"markers: [{string.Join(", ", markers)}]; processes of this world: [{string.Join(" | ", processes)}]";
        }

        /// <summary>What a restore could touch: every entry of the world but the store and the craft folder, with times, owners, modes, hashes.</summary>
        private static SortedDictionary<string, string> HostState(BackupWorld w)
        {
            var all = BackupWorld.Snapshot(w.Root);
            foreach (var key in all.Keys.Where(k => k.StartsWith("store", StringComparison.Ordinal) || k.StartsWith("craft", StringComparison.Ordinal) || k.Length == 0).ToList()) all.Remove(key);
            return all;
        }

        /// <summary>Replaces the listed backup's archive by the hostile one (real tar, real age), with a MANIFEST that matches its members.</summary>
        private static void Plant(BackupWorld w, BackupInfo listed, Hostile hostile)
        {
            var craft = Path.Combine(w.Root, "craft");
            Sh.Run($"rm -rf {Sh.Q(craft)} && mkdir -p {Sh.Q(craft)} && cp -a {Sh.Q(w.Data)} {Sh.Q(Path.Combine(craft, "data"))} && cd {Sh.Q(craft)} && {hostile.Setup}");
            var rel = w.Root.TrimStart('/');
            var raw = Path.Combine(craft, "plant.tar");
            Sh.Run($"cd {Sh.Q(craft)} && tar --format=pax -c -f {Sh.Q(raw)} {hostile.TarArgs(rel)}");
            if (hostile.Delete != null) Sh.Run($"tar --delete -f {Sh.Q(raw)} {Sh.Q(rel + "/" + hostile.Delete)}");
            var entryCount = 0;
            using (var pipe = new TarPipe(null, captureManifest: false, holdEnd: false))
            {
                var bytes = File.ReadAllBytes(raw);
                pipe.Write(bytes, 0, bytes.Length);
                Assert.Contains(pipe.Entries, e => e.Path.Contains(hostile.Named.TrimStart('/'), StringComparison.Ordinal));
                var manifest = new BackupManifest("files", "bksrc", listed.Time, w.Service.Backup.Paths.ToList(), new[] { "tar", "age" }, pipe.Entries.ToList());
                entryCount = manifest.Entries.Count;
                var mdir = Path.Combine(craft, "m");
                Directory.CreateDirectory(mdir);
                File.WriteAllBytes(Path.Combine(mdir, TarPipe.ManifestName), manifest.ToBytes());
            }
            Sh.Run($"tar --format=pax -r -f {Sh.Q(raw)} -C {Sh.Q(Path.Combine(craft, "m"))} {TarPipe.ManifestName}");
            var plainSize = new FileInfo(raw).Length;
            var archive = Path.Combine(w.ServiceStore, listed.FileName);
            Sh.Run($"age --encrypt --recipient {Sh.Q(w.Recipient)} -o {Sh.Q(archive)} {Sh.Q(raw)} && rm -f {Sh.Q(raw)}");
            // Sealed with the site's own key: confinement must hold even for a backup whose origin is proven (a
            // compromised host backs up whatever its files are), so the seal is not what refuses these.
            var manifestBytes = File.ReadAllBytes(Path.Combine(craft, "m", TarPipe.ManifestName));
            var cipher = File.ReadAllBytes(archive);
            var seal = new BackupSeal(listed.BackupName, "files", "bksrc", listed.Time, cipher.Length, BackupSeal.Sha256Hex(cipher),
                BackupSeal.Sha256Hex(manifestBytes), plainSize, entryCount, w.Service.Backup.Paths.ToList(), new[] { "tar", "age" });
            var message = seal.ToMessage();
            var signature = new BackupSigner(w.Tier.Backup!).SignAsync(message, CancellationToken.None).GetAwaiter().GetResult();
            File.WriteAllBytes(Path.Combine(w.ServiceStore, listed.BackupName + BackupStore.SealSuffix), BackupSeal.Combine(message, signature));
        }
    }
}
