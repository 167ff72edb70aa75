using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Backup;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>
    /// The proofs of issue 7, written once against a <see cref="BackupWorld"/>: run by <see cref="LocalBackupTests"/>
    /// with the local transport and by <see cref="LabBackupTests"/> over the lab's real sshd.
    /// </summary>
    internal static class BackupScenarios
    {
        private static CancellationToken None => CancellationToken.None;

        /// <summary>Backup → listed → tested → restored under another root (on the target host) → byte for byte equal with owners, modes and times.</summary>
        public static async Task RoundTrip(BackupWorld w, long bigFile, string restoreParent)
        {
            w.CreateTree(bigFile);
            var before = BackupWorld.Snapshot(w.Data);
            var progress = new InlineProgress(_ => { });
            var result = await w.Engine(progress).BackupAsync(w.Service, None);

            Assert.Null(result.AfterFailure);
            Assert.Equal(new[] { result.BackupName + ".meta", result.BackupName + ".seal", result.BackupName + ".tar.age" }, w.StoreFiles());
            Assert.StartsWith("age-encryption.org/v1\n", Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(w.ServiceStore, result.Backup.FileName)).Take(22).ToArray()));
            if (bigFile > 0) Assert.Contains(progress.Seen, s => s.Contains("MiB", StringComparison.Ordinal));

            var listed = Assert.Single(await w.Catalog().ListAsync("files", None));
            Assert.Equal(result.BackupName, listed.BackupName);
            Assert.Equal(BackupStatus.Unverified, listed.Status);
            Assert.Equal(BackupSignature.Valid, listed.Signature);
            Assert.Equal("deevnet-backup", listed.SignedBy);
            Assert.Equal(new[] { w.Data }, listed.Paths);
            Assert.Equal(new FileInfo(Path.Combine(w.ServiceStore, listed.FileName)).Length, listed.Size);

            var test = await w.Verifier().TestAsync(listed, None);
            Assert.True(test.Passed, test.Message);
            Assert.Equal(BackupStatus.Verified, (await w.Catalog().NewestGoodAsync("files", None))!.Status);

            var root = Path.Combine(restoreParent, "restored-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            try
            {
                var restore = await w.Restorer().RestoreAsync(w.Service, listed, new Core.Backup.RestoreTarget("bkdst", root), None);
                Assert.True(restore.Verified, string.Join("; ", restore.Problems));
                Assert.Equal("bkdst", restore.HostName);
                var after = BackupWorld.Snapshot(root + w.Data);
                Assert.Equal(before, after);
            }
            finally
            {
                Sh.RunRaw($"rm -rf {Sh.Q(root)}");
            }
        }

        /// <summary>Breaks the stream in the middle (<paramref name="breakIt"/> runs while the module holds it): only a .partial remains; listing and retention ignore it; the next run removes it.</summary>
        public static async Task InterruptedBackupLeavesOnlyAPartial(BackupWorld w, Action breakIt, string afterMarker)
        {
            w.CreateTree(64L << 20);
            var broken = 0;
            Exception? breakFailed = null;
            var progress = new InlineProgress(p =>
            {
                // The first report comes with the first bytes of a 64 MiB stream: tar is certainly still running.
                if (p.Completed || Interlocked.Exchange(ref broken, 1) != 0) return;
                try
                {
                    breakIt();
                }
                catch (Exception e)
                {
                    breakFailed = e; // the fault must come from the break itself, not from a failing test helper
                }
            });
            var thrown = await Record.ExceptionAsync(() => w.Engine(progress).BackupAsync(w.Service, None));
            Assert.Equal(1, broken);
            Assert.Null(breakFailed);
            var ex = Assert.IsType<BackupException>(thrown);
            Assert.Contains(ex.ErrorId, new[] { "BackupInterrupted", "BackupArchiveFailed" });

            var files = w.StoreFiles();
            var partial = Assert.Single(files);
            Assert.EndsWith(".tar.age.partial", partial);
            Assert.Empty(await w.Catalog().ListAsync("files", None));
            Assert.Null(await w.Catalog().NewestGoodAsync("files", None));
            // After a dropped connection the host runs `after` on its own, possibly after the module gave up: wait for it.
            for (var i = 0; i < 100 && !File.Exists(afterMarker); i++) await Task.Delay(100);
            Assert.True(File.Exists(afterMarker), "the after command did not run after the interrupted backup: " + ex.Message);

            var next = await w.Engine().BackupAsync(w.Service, None);
            Assert.Equal(new[] { next.BackupName + ".meta", next.BackupName + ".seal", next.BackupName + ".tar.age" }, w.StoreFiles());
        }

        /// <summary>
        /// A backup of the service is running (another process holds the store's lock for it): a second one is refused
        /// with <c>BackupInProgress</c> and leaves the running one's <c>.partial</c> alone; once the first is gone, the
        /// next backup runs and removes the partial it left.
        /// </summary>
        public static async Task ARunningBackupHoldsOffASecondOneAndKeepsItsPartial(BackupWorld w)
        {
            w.CreateTree();
            Directory.CreateDirectory(w.ServiceStore);
            var live = Path.Combine(w.ServiceStore, "files-h1-20250101T000000Z.tar.age.partial");
            File.WriteAllText(live, "a backup in flight");
            var lockFile = Path.Combine(w.Store, ".files.lock");
            var holder = System.Diagnostics.Process.Start("flock", new[] { "-x", lockFile, "sleep", "120" })!;
            try
            {
                for (var i = 0; i < 100 && Sh.RunRaw($"flock -n {Sh.Q(lockFile)} true").Exit == 0; i++) await Task.Delay(50);
                Assert.NotEqual(0, Sh.RunRaw($"flock -n {Sh.Q(lockFile)} true").Exit);

                var ex = await Assert.ThrowsAsync<BackupException>(() => w.Engine().BackupAsync(w.Service, None));
                Assert.Equal("BackupInProgress", ex.ErrorId);
                Assert.Contains("files", ex.Message);
                Assert.True(File.Exists(live), "the running backup's .partial was removed");
            }
            finally
            {
                holder.Kill(entireProcessTree: true);
                holder.WaitForExit();
            }
            var result = await w.Engine().BackupAsync(w.Service, None);
            Assert.False(File.Exists(live), "the dead backup's .partial was left behind");
            Assert.Contains(result.Backup.BackupName + BackupStore.ArchiveSuffix, w.StoreFiles());
        }

        /// <summary>tar fails (a declared path is missing): BackupArchiveFailed, and the after command still ran.</summary>
        public static async Task AfterRunsWhenArchivingFails(BackupWorld w, string afterMarker)
        {
            w.CreateTree();
            var ex = await Assert.ThrowsAsync<BackupException>(() => w.Engine().BackupAsync(w.Service, None));
            Assert.Equal("BackupArchiveFailed", ex.ErrorId);
            Assert.Contains("does-not-exist", ex.Message);
            Assert.True(File.Exists(afterMarker));
            Assert.Empty(await w.Catalog().ListAsync("files", None));
        }

        /// <summary>A flipped byte in the ciphertext: Test fails, naming the file being decrypted and the sidecar mismatch.</summary>
        public static async Task CorruptCiphertextNamesTheFile(BackupWorld w)
        {
            w.CreateTree(8L << 20);
            var result = await w.Engine().BackupAsync(w.Service, None);
            var file = Path.Combine(w.ServiceStore, result.Backup.FileName);
            var bytes = File.ReadAllBytes(file);
            bytes[bytes.Length / 2] ^= 0x01; // inside big.bin, the largest member
            File.WriteAllBytes(file, bytes);

            var test = await w.Verifier().TestAsync((await w.Catalog().ListAsync("files", None)).Single(), None);
            Assert.False(test.Passed);
            Assert.Contains(test.Problems, p => p.Path.EndsWith("/data/big.bin", StringComparison.Ordinal) && p.Problem.Contains("damaged", StringComparison.Ordinal));
            Assert.Equal(BackupStatus.Failed, (await w.Catalog().ListAsync("files", None)).Single().Status);
            Assert.Null(await w.Catalog().NewestGoodAsync("files", None));
        }

        /// <summary>Re-encrypted archives whose content, or whose MANIFEST, was changed: Test names the file (or the manifest line).</summary>
        public static async Task TamperedContentOrManifestNamesTheFile(BackupWorld w)
        {
            w.CreateTree();
            var result = await w.Engine().BackupAsync(w.Service, None);
            var file = Path.Combine(w.ServiceStore, result.Backup.FileName);
            var pristine = File.ReadAllBytes(file);

            // Anyone with the public recipient can re-encrypt a changed archive: it is not the one that was signed, so
            // Test refuses it as unauthenticated, naming what differs inside it.
            // 1. One byte of plain.txt's content (the marker) changed.
            Reencrypt(w, file, pristine, plain => Replace(plain, w.Marker, "X" + w.Marker.Substring(1)));
            var ex = await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(Listed(w), None, record: false));
            Assert.Equal("BackupUnauthenticated", ex.ErrorId);
            Assert.Contains("replaced", ex.Message);
            // plain.txt and hard-link are one inode: tar stores the content under whichever name it meets first.
            Assert.True(ex.Message.Contains("/data/plain.txt: content differs", StringComparison.Ordinal) || ex.Message.Contains("/data/hard-link: content differs", StringComparison.Ordinal), ex.Message);

            // 2. The manifest's hash of plain.txt changed.
            var sha = Sh.Run($"sha256sum < {Sh.Q(Path.Combine(w.Data, "plain.txt"))}").Substring(0, 64);
            Reencrypt(w, file, pristine, plain => Replace(plain, sha, new string('0', 64)));
            ex = await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(Listed(w), None, record: false));
            Assert.Equal("BackupUnauthenticated", ex.ErrorId);
            Assert.True(ex.Message.Contains("/data/plain.txt:", StringComparison.Ordinal) || ex.Message.Contains("/data/hard-link:", StringComparison.Ordinal), ex.Message);

            // 3. The manifest's first line broken.
            Reencrypt(w, file, pristine, plain => Replace(plain, "# deevnet-backup manifest 1", "# deevnet-backup manifest X"));
            ex = await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(Listed(w), None, record: false));
            Assert.Equal("BackupUnauthenticated", ex.ErrorId);
            Assert.Contains("Inside it: MANIFEST: ", ex.Message);
            Assert.Contains("line 1", ex.Message);

            // Untouched again: passes (the checks above failed for the tampering, not for the method).
            File.WriteAllBytes(file, pristine);
            Assert.True((await w.Verifier().TestAsync(Listed(w), None, record: false)).Passed);
        }

        /// <summary>Another key: BackupKeyMismatch, clearly.</summary>
        public static async Task WrongKeyFailsClearly(BackupWorld w)
        {
            w.CreateTree();
            await w.Engine().BackupAsync(w.Service, None);
            var other = Path.Combine(w.Root, "other.key");
            BackupWorld.NewKey(other);
            var ex = await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(Listed(w), None, other));
            Assert.Equal("BackupKeyMismatch", ex.ErrorId);
            Assert.Contains("another recipient", ex.Message);
            var missing = await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(Listed(w), None, Path.Combine(w.Root, "nope.key")));
            Assert.Equal("BackupKeyMissing", missing.ErrorId);
        }

        /// <summary>
        /// No secret left behind: the private key is not read by a backup (its access time, set far in the past, stays;
        /// a Test then does change it, proving the probe works), and no plaintext exists on disk: the store holds only
        /// age files and sidecars without the content marker, and no file written during the backup anywhere in the
        /// temp folders holds the marker.
        /// </summary>
        public static async Task NothingSecretLeftBehind(BackupWorld w)
        {
            w.CreateTree(4L << 20);
            var old = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            File.SetLastAccessTimeUtc(w.KeyFile, old);
            var stamp = Path.Combine(w.Root, "stamp");
            File.WriteAllText(stamp, "");
            Thread.Sleep(20);

            var result = await w.Engine().BackupAsync(w.Service, None);

            Assert.Equal(old, File.GetLastAccessTimeUtc(w.KeyFile));
            foreach (var f in w.StoreFiles())
            {
                var bytes = File.ReadAllBytes(Path.Combine(w.ServiceStore, f));
                Assert.DoesNotContain(w.Marker, Encoding.Latin1.GetString(bytes));
                Assert.DoesNotContain(PrivateKeyBody(w.SigningKeyFile), Encoding.Latin1.GetString(bytes));
                if (f.EndsWith(".tar.age", StringComparison.Ordinal)) Assert.StartsWith("age-encryption.org/v1", Encoding.ASCII.GetString(bytes, 0, 21));
                else if (!f.EndsWith(".seal", StringComparison.Ordinal)) Assert.EndsWith(".meta", f);
            }
            var leaks = Sh.Run($"find /tmp /var/tmp /dev/shm {Sh.Q(w.Root)} -xdev -type f -newer {Sh.Q(stamp)} ! -path {Sh.Q(w.Data + "/*")} -size -300M -print0 2>/dev/null | xargs -0r grep -l -F -- {Sh.Q(w.Marker)} 2>/dev/null || true");
            Assert.Equal("", leaks.Trim());

            await w.Verifier().TestAsync(Listed(w), None);
            Assert.NotEqual(old, File.GetLastAccessTimeUtc(w.KeyFile)); // the probe does see a read
            Assert.NotNull(result);
        }

        /// <summary>keep=2 over four runs: two remain; a failed test on the newest never costs the last good one.</summary>
        public static async Task RetentionKeepsTheNewestAndTheLastGood(BackupWorld w)
        {
            w.CreateTree();
            var names = new System.Collections.Generic.List<string>();
            for (var i = 0; i < 4; i++) names.Add((await w.Engine().BackupAsync(w.Service, None)).BackupName);
            var listed = await w.Catalog().ListAsync("files", None);
            Assert.Equal(new[] { names[3], names[2] }, listed.Select(b => b.BackupName));

            // Both remaining backups: the newest fails its test (damaged), the older passes; retention keeps both.
            var newest = Path.Combine(w.ServiceStore, names[3] + ".tar.age");
            var bytes = File.ReadAllBytes(newest);
            bytes[bytes.Length - 40] ^= 0xff;
            File.WriteAllBytes(newest, bytes);
            Assert.False((await w.Verifier().TestAsync(listed[0], None)).Passed);
            Assert.True((await w.Verifier().TestAsync(listed[1], None)).Passed);
            var removed = await w.Catalog().ApplyRetentionAsync("files", None);
            Assert.Empty(removed);
            Assert.Equal(names[2], (await w.Catalog().NewestGoodAsync("files", None))!.BackupName);
        }

        /// <summary>
        /// Backups planted in the store by someone who has the public recipient (a plausible archive, MANIFEST and
        /// .meta, written by the module itself): one with no seal, one sealed with a key that is not in the allowed
        /// signers. Both are listed as Unauthenticated and never chosen as the newest; Test, Restore and the host
        /// comparison refuse them with BackupUnauthenticated and nothing reaches the host; -AllowUnsigned accepts the
        /// unsigned one only, named; retention neither counts nor removes them, so they never push the real one out.
        /// </summary>
        public static async Task PlantedBackupsAreRefusedAndNeverChosen(BackupWorld w, string restoreParent)
        {
            w.CreateTree();
            var real = await w.Engine().BackupAsync(w.Service, None);
            var unsigned = w.Plant(signed: false);
            var foreign = w.Plant(signed: true);

            var listed = await w.Catalog().ListAsync("files", None);
            Assert.Equal(new[] { foreign.BackupName, unsigned.BackupName, real.BackupName }, listed.Select(b => b.BackupName));
            var u = listed[1];
            var f = listed[0];
            Assert.Equal((BackupStatus.Unauthenticated, BackupSignature.Missing), (u.Status, u.Signature));
            Assert.Equal((BackupStatus.Unauthenticated, BackupSignature.Invalid), (f.Status, f.Signature));
            Assert.Contains("allowed signers", f.SignatureProblem);
            Assert.Empty(u.Paths);   // nothing from the planted .meta is taken as true
            Assert.Equal(real.BackupName, (await w.Catalog().NewestGoodAsync("files", None))!.BackupName);
            Assert.Equal(real.BackupName, (await w.Catalog().FindAsync("files", null, None)).BackupName);

            foreach (var planted in new[] { u, f })
            {
                var test = await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(planted, None));
                Assert.Equal("BackupUnauthenticated", test.ErrorId);
                var root = Path.Combine(restoreParent, "restored-" + Guid.NewGuid().ToString("N").Substring(0, 8));
                var restore = await Assert.ThrowsAsync<BackupException>(() => w.Restorer().RestoreAsync(w.Service, planted, new RestoreTarget("bkdst", root), None));
                Assert.Equal("BackupUnauthenticated", restore.ErrorId);
                Assert.False(Directory.Exists(root), "a refused restore wrote to the host");
                var compare = await Assert.ThrowsAsync<BackupException>(() => w.Restorer().CompareAsync(w.Service, planted, new RestoreTarget("bkdst", root, false), None));
                Assert.Equal("BackupUnauthenticated", compare.ErrorId);
            }

            // -AllowUnsigned: a backup without a seal may be used when named; a forged seal never.
            var allowing = w.Verifier();
            allowing.AllowUnsigned = true;
            Assert.True((await allowing.TestAsync(u, None, record: false)).Passed);
            Assert.Equal("BackupUnauthenticated", (await Assert.ThrowsAsync<BackupException>(() => allowing.TestAsync(f, None, record: false))).ErrorId);

            // Retention (keep 3, three whole backups, two planted and newer): nothing is removed, the real one stays good.
            for (var i = 0; i < 3; i++) w.Plant(signed: i == 0);
            Assert.Empty(await w.Catalog().ApplyRetentionAsync("files", None));
            Assert.True(File.Exists(Path.Combine(w.ServiceStore, real.Backup.FileName)));
            Assert.Equal(real.BackupName, (await w.Catalog().NewestGoodAsync("files", None))!.BackupName);
        }

        /// <summary>
        /// A genuine seal cannot vouch for another archive: (1) another backup's archive put under this one's name
        /// (same size, so only its bytes tell) is refused by Test and Restore with BackupUnauthenticated, the host is
        /// untouched and the backup no longer counts as good; (2) a seal copied beside another backup is Invalid.
        /// </summary>
        public static async Task SealPairedWithAnotherArchiveIsRefused(BackupWorld w, string restoreParent)
        {
            w.CreateTree();
            var a = await w.Engine().BackupAsync(w.Service, None);
            var b = await w.Engine().BackupAsync(w.Service, None);
            var aFile = Path.Combine(w.ServiceStore, a.Backup.FileName);
            var bFile = Path.Combine(w.ServiceStore, b.Backup.FileName);
            Assert.Equal(new FileInfo(aFile).Length, new FileInfo(bFile).Length);
            File.Copy(bFile, aFile, overwrite: true);

            var listedA = (await w.Catalog().ListAsync("files", None)).Single(x => x.BackupName == a.BackupName);
            Assert.Equal(BackupSignature.Valid, listedA.Signature); // same size: the listing cannot tell, the bytes do
            var root = Path.Combine(restoreParent, "restored-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            var restore = await Assert.ThrowsAsync<BackupException>(() => w.Restorer().RestoreAsync(w.Service, listedA, new RestoreTarget("bkdst", root), None));
            Assert.Equal("BackupUnauthenticated", restore.ErrorId);
            Assert.Contains("replaced", restore.Message);
            Assert.False(Directory.Exists(root), "a refused restore wrote to the host");
            var test = await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(listedA, None));
            Assert.Equal("BackupUnauthenticated", test.ErrorId);
            Assert.False((await w.Catalog().ListAsync("files", None)).Single(x => x.BackupName == a.BackupName).IsGood);

            File.Copy(Path.Combine(w.ServiceStore, a.BackupName + ".seal"), Path.Combine(w.ServiceStore, b.BackupName + ".seal"), overwrite: true);
            var listedB = (await w.Catalog().ListAsync("files", None)).Single(x => x.BackupName == b.BackupName);
            Assert.Equal(BackupSignature.Invalid, listedB.Signature);
            Assert.Contains(a.BackupName, listedB.SignatureProblem);
            Assert.Equal("BackupUnauthenticated", (await Assert.ThrowsAsync<BackupException>(() => w.Verifier().TestAsync(listedB, None))).ErrorId);
            Assert.Null(await w.Catalog().NewestGoodAsync("files", None));
        }

        /// <summary>What a restore's plan (its -WhatIf and confirmation text) names comes from the verified seal: a .meta sidecar rewritten to name another path and host changes nothing.</summary>
        public static async Task RestorePlanComesFromTheSealNotTheSidecar(BackupWorld w)
        {
            w.CreateTree();
            var result = await w.Engine().BackupAsync(w.Service, None);
            var meta = Path.Combine(w.ServiceStore, result.BackupName + ".meta");
            var text = File.ReadAllText(meta);
            Assert.Contains("path=" + w.Data + "\n", text);
            File.WriteAllText(meta, text.Replace("path=" + w.Data + "\n", "path=/etc/planted-path\n").Replace("host=bksrc", "host=elsewhere"));

            var listed = (await w.Catalog().ListAsync("files", None)).Single();
            Assert.Equal("bksrc", listed.HostName);
            var plan = w.Restorer().Plan(w.Service, listed, new RestoreTarget("bkdst", "/restore-root"));
            var shown = string.Join("\n", plan.Changes.Select(c => $"{c.Key}: {c.After}"));
            Assert.DoesNotContain("planted-path", shown);
            Assert.Contains("/restore-root" + w.Data, shown);
        }

        private static string PrivateKeyBody(string keyFile) =>
            string.Concat(File.ReadAllLines(keyFile).Where(l => !l.StartsWith("-----", StringComparison.Ordinal))).Substring(0, 40);

        private static BackupInfo Listed(BackupWorld w) => w.Catalog().ListAsync("files", None).GetAwaiter().GetResult().First();

        private static byte[] Replace(byte[] haystack, string from, string to)
        {
            var text = Encoding.Latin1.GetString(haystack);
            var at = text.IndexOf(from, StringComparison.Ordinal);
            Assert.True(at >= 0, "the text to tamper with is not in the archive");
            Assert.Equal(from.Length, to.Length);
            var copy = (byte[])haystack.Clone();
            Encoding.Latin1.GetBytes(to, 0, to.Length, copy, at);
            return copy;
        }

        /// <summary>Decrypts in memory (small archives only, never to disk), changes the plaintext, encrypts it again to the store.</summary>
        private static void Reencrypt(BackupWorld w, string file, byte[] pristine, Func<byte[], byte[]> change)
        {
            File.WriteAllBytes(file, pristine);
            var plain = Sh.RunRaw($"age --decrypt --identity {Sh.Q(w.KeyFile)} {Sh.Q(file)}").Output;
            var changed = change(plain);
            var psi = new System.Diagnostics.ProcessStartInfo("age") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "--encrypt", "--recipient", w.Recipient }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var output = new MemoryStream();
            var copy = p.StandardOutput.BaseStream.CopyToAsync(output);
            p.StandardInput.BaseStream.Write(changed);
            p.StandardInput.Close();
            copy.Wait();
            p.WaitForExit();
            File.WriteAllBytes(file, output.ToArray());
        }
    }
}
