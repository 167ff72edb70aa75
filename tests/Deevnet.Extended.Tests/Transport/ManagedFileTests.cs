using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    public sealed class ManagedFileTests : IDisposable
    {
        private readonly string _dir = TestShell.TempDirectory("deev-mf-");
        private readonly LocalTransport _local = new LocalTransport();

        public void Dispose()
        {
            _local.Dispose();
            Directory.Delete(_dir, true);
        }

        private string File1 => Path.Combine(_dir, "app.conf");

        /// <summary>Everything in the folder except the target, its flock(1) lock file (it stays, as flock's lock files do) and the files the caller names.</summary>
        private string[] Leftovers(params string[] expected) =>
            Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Where(n => n != "app.conf" && n != ".app.conf.deevnet.lock" && !expected.Contains(n)).ToArray()!;

        [Fact]
        public async Task Creates_a_missing_file_and_a_second_identical_run_changes_nothing()
        {
            var first = await ManagedFile.UpdateAsync(_local, File1, current => (current ?? "") + "line\n", cancellationToken: CancellationToken.None);
            Assert.True(first.Changed);
            Assert.False(first.Existed);
            Assert.Equal("line\n", File.ReadAllText(File1));
            var second = await ManagedFile.UpdateAsync(_local, File1, current => current, cancellationToken: CancellationToken.None);
            Assert.False(second.Changed);
            Assert.Equal("line\n", second.PreviousContent);
            Assert.Empty(Leftovers());
        }

        [Fact]
        public async Task Replaces_the_file_keeping_mode_and_the_previous_version()
        {
            File.WriteAllText(File1, "old\n");
            TestShell.Run("chmod", "640", File1);
            string? seen = null;
            var result = await ManagedFile.UpdateAsync(_local, File1, current => { seen = current; return "new\n"; },
                validateCommand: p => "grep -q new " + p, reloadCommand: "true", cancellationToken: CancellationToken.None);
            Assert.Equal("old\n", seen);
            Assert.Equal("new\n", File.ReadAllText(File1));
            Assert.Equal("640", TestShell.Run("stat", "-c", "%a", File1).Trim());
            Assert.Equal(File1 + ".deevnet-prev", result.BackupPath);
            Assert.Equal("old\n", File.ReadAllText(result.BackupPath!));
            Assert.Empty(Leftovers("app.conf.deevnet-prev"));
        }

        [Fact]
        public async Task Validation_failure_keeps_the_old_file_and_leaves_no_temp_file()
        {
            File.WriteAllText(File1, "good\n");
            var reloads = Path.Combine(_dir, "reloads");
            var error = await Assert.ThrowsAsync<DeevException>(() => ManagedFile.UpdateAsync(_local, File1, _ => "bad value\n",
                validateCommand: p => $"echo \"checker: syntax error in $(basename {p})\" >&2; exit 1",
                reloadCommand: "echo reload >> " + ShellQuote.Quote(reloads), cancellationToken: CancellationToken.None));
            Assert.Equal("BackendValidationFailed", error.ErrorId);
            Assert.Contains("checker: syntax error in .app.conf.deevnet-tmp-", error.Message);
            Assert.Equal("good\n", File.ReadAllText(File1));
            Assert.False(File.Exists(reloads), "reloaded although validation failed");
            Assert.Empty(Leftovers());
        }

        [Fact]
        public async Task Reload_failure_rolls_back_reloads_again_and_says_the_old_configuration_is_in_force()
        {
            File.WriteAllText(File1, "good\n");
            var reloads = Path.Combine(_dir, "reloads");
            // The "service" refuses to start with a configuration that mentions BROKEN.
            var reload = $"echo reload >> {ShellQuote.Quote(reloads)}; if grep -q BROKEN {ShellQuote.Quote(File1)}; then echo 'service: cannot start' >&2; exit 1; fi";
            var error = await Assert.ThrowsAsync<DeevException>(() => ManagedFile.UpdateAsync(_local, File1, _ => "BROKEN\n",
                reloadCommand: reload, cancellationToken: CancellationToken.None));
            Assert.Equal("BackendReloadFailed", error.ErrorId);
            Assert.Contains("old configuration is in force", error.Message);
            Assert.Contains("service: cannot start", error.Message);
            Assert.Equal("good\n", File.ReadAllText(File1));
            Assert.Equal(2, File.ReadAllLines(reloads).Length);
            Assert.Empty(Leftovers("app.conf.deevnet-prev", "reloads"));
        }

        [Fact]
        public async Task Two_concurrent_writers_lose_no_update()
        {
            File.WriteAllText(File1, "");
            async Task Writer(string name)
            {
                using var own = new LocalTransport();   // separate processes, as two runs on two machines would be
                for (var i = 0; i < 100; i++)
                {
                    await ManagedFile.UpdateAsync(own, File1, current => current + $"{name}-{i}\n", cancellationToken: CancellationToken.None);
                }
            }
            await Task.WhenAll(Task.Run(() => Writer("a")), Task.Run(() => Writer("b")));
            var lines = File.ReadAllLines(File1);
            Assert.Equal(200, lines.Length);
            Assert.Equal(200, lines.Distinct().Count());
            Assert.Empty(Leftovers("app.conf.deevnet-prev"));
        }

        [Fact]
        public async Task Cancellation_during_validation_releases_the_lock_and_keeps_the_old_file()
        {
            File.WriteAllText(File1, "good\n");
            using var cts = new CancellationTokenSource();
            var update = ManagedFile.UpdateAsync(_local, File1, _ => "new\n",
                validateCommand: p => "touch " + ShellQuote.Quote(Path.Combine(_dir, "validating")) + "; sleep 30", cancellationToken: cts.Token);
            await WaitForFile(Path.Combine(_dir, "validating"));
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => update);
            Assert.False(Directory.Exists(File1 + ".deevnet.lock"), "the lock was left behind");
            Assert.Equal("good\n", File.ReadAllText(File1));
            // and the next writer gets in at once, removing the staged file the stopped one left
            var next = await ManagedFile.UpdateAsync(_local, File1, _ => "next\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(1) });
            Assert.True(next.Changed);
            Assert.Empty(Leftovers("validating", "app.conf.deevnet-prev"));
        }

        [Fact]
        public async Task A_failing_compute_releases_the_lock()
        {
            File.WriteAllText(File1, "good\n");
            await Assert.ThrowsAsync<InvalidOperationException>(() => ManagedFile.UpdateAsync(_local, File1, _ => throw new InvalidOperationException("conflict"), cancellationToken: CancellationToken.None));
            Assert.False(Directory.Exists(File1 + ".deevnet.lock"));
        }

        [Fact]
        public async Task A_live_lock_makes_the_writer_wait_then_give_up_naming_the_owner()
        {
            File.WriteAllText(File1, "good\n");
            // Another writer holds the flock and has recorded itself in the lock file.
            var lockFile = ManagedFile.LockPath(File1);
            File.WriteAllText(lockFile, "other-host 4242\n");
            using var holder = Background.Start("flock", lockFile, "sleep", "30");
            await WaitUntil(() => TestShell.Run("sh", "-c", "flock -n " + ShellQuote.Quote(lockFile) + " true; echo $?").Trim() == "1", "the holder never took the lock");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<DeevException>(() => ManagedFile.UpdateAsync(_local, File1, _ => "new\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(1) }));
            Assert.Equal("ManagedFileLocked", error.ErrorId);
            Assert.Contains("other-host 4242", error.Message);
            Assert.InRange(watch.Elapsed.TotalSeconds, 0.9, 10);
            Assert.Equal("good\n", File.ReadAllText(File1));
        }

        [Fact]
        public async Task A_lock_whose_holder_died_is_taken_at_once()
        {
            // flock: the kernel drops the lock with its holder; the recorded owner (a dead pid) does not matter.
            File.WriteAllText(File1, "good\n");
            File.WriteAllText(ManagedFile.LockPath(File1), System.Net.Dns.GetHostName() + " 999999\n");
            var result = await ManagedFile.UpdateAsync(_local, File1, _ => "new\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(2) });
            Assert.True(result.Changed);
            Assert.Equal("new\n", File.ReadAllText(File1));
            Assert.Empty(Leftovers("app.conf.deevnet-prev"));
        }

        [Fact]
        public async Task Hostile_file_names_are_quoted()
        {
            // Relative: a file name cannot hold a slash; an injected command would run in the current folder.
            var marker = "deev-pwned-" + Guid.NewGuid().ToString("N");
            var name = Path.Combine(_dir, $"x;touch {marker};'$(touch {marker})'`touch {marker}`.conf");
            await ManagedFile.UpdateAsync(_local, name, _ => "ok\n", validateCommand: p => "test -s " + p, reloadCommand: "true", cancellationToken: CancellationToken.None);
            Assert.Equal("ok\n", File.ReadAllText(name));
            Assert.False(File.Exists(marker));
            Assert.False(File.Exists(Path.Combine(_dir, marker)));
        }

        private static async Task WaitUntil(Func<bool> condition, string what)
        {
            for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(50);
            Assert.True(condition(), what);
        }

        private static async Task WaitForFile(string path)
        {
            for (var i = 0; i < 200 && !File.Exists(path); i++) await Task.Delay(50);
            Assert.True(File.Exists(path), "the validation command never started");
        }
    }
}
