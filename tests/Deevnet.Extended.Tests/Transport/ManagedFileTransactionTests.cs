using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>A program started for a test and killed (with its process) when the test ends.</summary>
    internal sealed class Background : IDisposable
    {
        private readonly Process _process;

        private Background(Process process) => _process = process;

        public int Pid => _process.Id;

        public static Background Start(string program, params string[] args)
        {
            var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardInput = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            return new Background(Process.Start(psi)!);
        }

        public void Dispose()
        {
            try { if (!_process.HasExited) _process.Kill(true); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }

    /// <summary>
    /// The file transaction when the client goes away (Ctrl+C, a killed process, a dropped connection) at each step, the
    /// lock's owner liveness, and writers serialising on a shared lock. Local cases run everywhere; SSH cases on the lab.
    /// </summary>
    public sealed class ManagedFileTransactionTests : IDisposable
    {
        private readonly string _dir = TestShell.TempDirectory("deev-ftx-");
        private readonly LocalTransport _local = new LocalTransport();

        public void Dispose()
        {
            _local.Dispose();
            Directory.Delete(_dir, true);
        }

        private string File1 => Path.Combine(_dir, "app.conf");
        private string At(string name) => Path.Combine(_dir, name);
        private string Q(string name) => ShellQuote.Quote(At(name));

        /// <summary>A command that says it started (touches <paramref name="started"/>) and blocks until the test touches <paramref name="release"/>.</summary>
        private string Blocking(string started, string release, string then) =>
            $"touch {Q(started)}; while [ ! -e {Q(release)} ]; do sleep 0.05; done; {then}";

        private static async Task WaitUntil(Func<bool> condition, string what, int seconds = 15)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.True(condition(), what);
        }

        [Fact]
        public async Task Ctrl_C_during_a_failing_reload_still_rolls_back_and_reloads_the_old_file()
        {
            // Old code: the reload ran in the client's shell; killing it left the new file live with no rollback.
            File.WriteAllText(File1, "good\n");
            using var cts = new CancellationTokenSource();
            var reload = Blocking("reloading", "go", $"echo reload >> {Q("reloads")}; ! grep -q BROKEN {ShellQuote.Quote(File1)}");
            var update = ManagedFile.UpdateAsync(_local, File1, _ => "BROKEN\n", reloadCommand: reload, cancellationToken: cts.Token);
            await WaitUntil(() => File.Exists(At("reloading")), "the reload never started");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => update);
            File.WriteAllText(At("go"), "");
            // The swap went on without the client: the failed reload put the old file back and reloaded it.
            await WaitUntil(() => File.Exists(At("reloads")) && File.ReadAllLines(At("reloads")).Length == 2, "no rollback reload after the client went away");
            Assert.Equal("good\n", File.ReadAllText(File1));
            var next = await ManagedFile.UpdateAsync(_local, File1, _ => "next\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(5) });
            Assert.True(next.Changed);
            Assert.DoesNotContain(Directory.GetFiles(_dir), f => f.Contains(".deevnet-tmp-", StringComparison.Ordinal));
        }

        [Fact]
        public async Task Ctrl_C_during_a_good_reload_leaves_the_new_validated_file_and_the_lock_waits_for_the_swap()
        {
            File.WriteAllText(File1, "good\n");
            using var cts = new CancellationTokenSource();
            var update = ManagedFile.UpdateAsync(_local, File1, _ => "new\n", validateCommand: p => "grep -q new " + p,
                reloadCommand: Blocking("reloading", "go", "echo reloaded > " + Q("reloaded")), cancellationToken: cts.Token);
            await WaitUntil(() => File.Exists(At("reloading")), "the reload never started");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => update);
            // The swap still holds the lock: a second writer waits for it rather than running beside it.
            var second = ManagedFile.UpdateAsync(_local, File1, c => c + "second\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(20) });
            await Task.Delay(500);
            Assert.False(second.IsCompleted, "a second writer ran while the first one's swap was still reloading");
            File.WriteAllText(At("go"), "");
            await second;
            Assert.True(File.Exists(At("reloaded")));
            Assert.Equal("new\nsecond\n", File.ReadAllText(File1));
        }

        [Fact]
        public async Task A_killed_client_during_the_check_leaves_the_old_file_and_frees_the_lock()
        {
            File.WriteAllText(File1, "good\n");
            using var cts = new CancellationTokenSource();
            var update = ManagedFile.UpdateAsync(_local, File1, _ => "unchecked\n", validateCommand: _ => Blocking("checking", "go", "true"),
                reloadCommand: "echo reload >> " + Q("reloads"), cancellationToken: cts.Token);
            await WaitUntil(() => File.Exists(At("checking")), "the check never started");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => update);
            File.WriteAllText(At("go"), "");
            await Task.Delay(500);
            Assert.Equal("good\n", File.ReadAllText(File1));
            Assert.False(File.Exists(At("reloads")));
            var next = await ManagedFile.UpdateAsync(_local, File1, c => c + "next\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(2) });
            Assert.Equal("good\nnext\n", next.Content);
        }

        [Fact]
        public async Task Without_flock_a_lock_of_a_dead_pid_is_taken_over_and_a_live_one_times_out_naming_it()
        {
            File.WriteAllText(File1, "good\n");
            var lockDir = ManagedFile.LockPath(File1) + ".d";
            var host = TestShell.Run("uname", "-n").Trim();
            Directory.CreateDirectory(lockDir);
            using (var live = Background.Start("sleep", "30"))
            {
                File.WriteAllText(Path.Combine(lockDir, "owner"), $"{host} {live.Pid}\n");
                var error = await Assert.ThrowsAsync<DeevException>(() => ManagedFile.UpdateAsync(_local, File1, _ => "new\n", cancellationToken: CancellationToken.None,
                    options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(1), ForceDirectoryLock = true }));
                Assert.Equal("ManagedFileLocked", error.ErrorId);
                Assert.Contains($"{host} {live.Pid}", error.Message);
                Assert.Equal("good\n", File.ReadAllText(File1));
            }
            // The owner is gone now (and an old-enough age never mattered): the next writer takes the lock over.
            await Task.Delay(200);
            var result = await ManagedFile.UpdateAsync(_local, File1, _ => "new\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(5), ForceDirectoryLock = true });
            Assert.True(result.Changed);
            Assert.False(Directory.Exists(lockDir), "the lock was not released");
        }

        [Fact]
        public async Task Without_flock_two_writers_lose_no_update()
        {
            File.WriteAllText(File1, "");
            async Task Writer(string name)
            {
                using var own = new LocalTransport();
                for (var i = 0; i < 20; i++)
                    await ManagedFile.UpdateAsync(own, File1, current => current + $"{name}-{i}\n", cancellationToken: CancellationToken.None,
                        options: new ManagedFileOptions { ForceDirectoryLock = true });
            }
            await Task.WhenAll(Task.Run(() => Writer("a")), Task.Run(() => Writer("b")));
            Assert.Equal(40, File.ReadAllLines(File1).Distinct().Count());
        }

        [Fact]
        public async Task Writers_of_different_files_sharing_a_lock_serialise()
        {
            // dnsmasq's DHCP hosts file and DNS records file: both back ends also lock the daemon's pid file.
            var pidFile = At("dnsmasq.pid");
            File.WriteAllText(pidFile, "1\n");
            var options = new ManagedFileOptions { AlsoLock = new[] { pidFile }, LockWait = TimeSpan.FromSeconds(20) };
            var dhcp = ManagedFile.UpdateAsync(_local, At("dhcp-hosts"), _ => "02:de:00:00:00:01,10.0.0.1\n",
                reloadCommand: $"echo dhcp-start >> {Q("log")}; " + Blocking("dhcp-reloading", "go", $"echo dhcp-end >> {Q("log")}"), cancellationToken: CancellationToken.None, options: options);
            await WaitUntil(() => File.Exists(At("dhcp-reloading")), "the DHCP reload never started");
            using var other = new LocalTransport();
            var dns = ManagedFile.UpdateAsync(other, At("records"), _ => "10.0.0.1 web\n", validateCommand: p => $"echo dns-check >> {Q("log")}",
                reloadCommand: $"echo dns-reload >> {Q("log")}", cancellationToken: CancellationToken.None, options: options);
            await Task.Delay(500);
            File.WriteAllText(At("go"), "");
            await Task.WhenAll(dhcp, dns);
            Assert.Equal(new[] { "dhcp-start", "dhcp-end", "dns-check", "dns-reload" }, File.ReadAllLines(At("log")));
        }

        // ---- over SSH, against the lab's server -------------------------------------------------------------------

        private static (Via Via, SshTransportOptions Options) Lab() => LabEnvironment.Require().Ssh();

        /// <summary>The lab's sshd runs commands on this machine's file system, so the test's folder is the server's too.</summary>
        [LabFact]
        public async Task A_dropped_connection_during_the_check_leaves_the_old_file()
        {
            var (via, options) = Lab();
            File.WriteAllText(File1, "good\n");
            var ssh = new SshTransport(via, options);
            var update = ManagedFile.UpdateAsync(ssh, File1, _ => "unchecked\n", validateCommand: _ => Blocking("checking", "go", "true"),
                reloadCommand: "echo reload >> " + Q("reloads"), cancellationToken: CancellationToken.None);
            await WaitUntil(() => File.Exists(At("checking")), "the check never started");
            ssh.Dispose();   // the connection drops
            await Assert.ThrowsAnyAsync<Exception>(() => update);
            File.WriteAllText(At("go"), "");
            await Task.Delay(1500);
            Assert.Equal("good\n", File.ReadAllText(File1));
            Assert.False(File.Exists(At("reloads")), "reloaded after the client went away before the swap");
            using var again = new SshTransport(via, options);
            var next = await ManagedFile.UpdateAsync(again, File1, c => c + "next\n", cancellationToken: CancellationToken.None,
                options: new ManagedFileOptions { LockWait = TimeSpan.FromSeconds(5) });
            Assert.Equal("good\nnext\n", next.Content);
        }

        [LabFact]
        public async Task A_dropped_connection_during_a_failing_reload_still_rolls_back()
        {
            var (via, options) = Lab();
            File.WriteAllText(File1, "good\n");
            var ssh = new SshTransport(via, options);
            var reload = Blocking("reloading", "go", $"echo reload >> {Q("reloads")}; ! grep -q BROKEN {ShellQuote.Quote(File1)}");
            var update = ManagedFile.UpdateAsync(ssh, File1, _ => "BROKEN\n", reloadCommand: reload, cancellationToken: CancellationToken.None);
            await WaitUntil(() => File.Exists(At("reloading")), "the reload never started");
            ssh.Dispose();
            await Assert.ThrowsAnyAsync<Exception>(() => update);
            File.WriteAllText(At("go"), "");
            await WaitUntil(() => File.Exists(At("reloads")) && File.ReadAllLines(At("reloads")).Length == 2, "no rollback after the connection dropped");
            Assert.Equal("good\n", File.ReadAllText(File1));
        }

        [LabFact]
        public async Task Two_connections_writing_one_dnsmasq_hosts_file_both_land_checked_by_dnsmasq()
        {
            var (via, options) = Lab();
            var hosts = At("dhcp-hosts");
            File.WriteAllText(hosts, "");
            // dnsmasq --test on the staged file read as dhcp-host lines, as the DHCP back end checks it.
            static string Check(string p) => $"sed 's/^/dhcp-host=/' {p} > {p}.check.conf && dnsmasq --test --conf-file={p}.check.conf; rc=$?; rm -f {p}.check.conf; exit $rc";
            async Task<int> Writer(int n)
            {
                using var ssh = new SshTransport(via, options);
                var changed = 0;
                for (var i = 0; i < 10; i++)
                {
                    var line = $"02:de:7{n}:00:00:{i:x2},10.231.{70 + n}.{10 + i}\n";
                    var r = await ManagedFile.UpdateAsync(ssh, hosts, c => c + line, p => "(" + Check(p) + ")", "true", CancellationToken.None);
                    Assert.Contains(line, r.Content);
                    if (r.Changed) changed++;
                }
                return changed;
            }
            var counts = await Task.WhenAll(Writer(1), Writer(2));
            Assert.Equal(new[] { 10, 10 }, counts);
            var lines = File.ReadAllLines(hosts);
            Assert.Equal(20, lines.Distinct().Count());
        }
    }
}
