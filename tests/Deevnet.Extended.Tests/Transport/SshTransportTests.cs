using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Doubles;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    [Collection(SshServerCollection.Name)]
    public sealed class SshTransportTests
    {
        private readonly SshServerFixture _sshd;

        public SshTransportTests(SshServerFixture sshd) => _sshd = sshd;

        private SshTransport Open(SshTransportOptions? options = null) => new SshTransport(_sshd.Via, options ?? _sshd.Options());

        [Fact]
        public async Task Runs_a_command_with_exit_status_stdout_and_stderr()
        {
            using var ssh = Open();
            var result = await ssh.RunAsync("echo out; echo err >&2; exit 7", CancellationToken.None);
            Assert.Equal(7, result.ExitStatus);
            Assert.Equal("out\n", result.StandardOutput);
            Assert.Equal("err\n", result.StandardError);
        }

        [Fact]
        public async Task Feeds_stdin_as_string_and_as_stream()
        {
            using var ssh = Open();
            var text = await ssh.RunAsync("tr a-z A-Z", CancellationToken.None, "hello\nwörld");
            Assert.Equal("HELLO\nWöRLD", text.StandardOutput);
            using var input = new MemoryStream(Enumerable.Range(0, 300000).Select(i => (byte)i).ToArray());
            using var output = new MemoryStream();
            var stream = await ssh.RunAsync("sha256sum | cut -c1-64", output, CancellationToken.None, input);
            Assert.Equal(0, stream.ExitStatus);
            var expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input.ToArray())).ToLowerInvariant();
            Assert.Equal(expected + "\n", Encoding.ASCII.GetString(output.ToArray()));
        }

        [Fact]
        public async Task A_command_reading_stdin_gets_eof_when_none_is_given()
        {
            using var ssh = Open();
            var result = await ssh.RunAsync("cat; echo done", CancellationToken.None, timeout: TimeSpan.FromSeconds(20));
            Assert.Equal("done\n", result.StandardOutput);
        }

        /// <summary>
        /// The command sends 50 MB and then waits until the sink has seen all of it. If the transport buffered the
        /// output until the command ended, the sink would never see it and the command would time out.
        /// </summary>
        [Fact]
        public async Task Streams_50_MB_of_stdout_while_the_command_runs()
        {
            const long size = 50L * 1024 * 1024;
            var marker = _sshd.NewPath("sink-has-all");
            using var ssh = Open();
            using var sink = new CountingSink(size, marker);
            var command = $"head -c {size} /dev/zero; while [ ! -e {ShellQuote.Quote(marker)} ]; do sleep 0.05; done; echo finished >&2";
            var result = await ssh.RunAsync(command, sink, CancellationToken.None, timeout: TimeSpan.FromSeconds(60));
            Assert.Equal(0, result.ExitStatus);
            Assert.Equal(size, sink.Count);
            Assert.Equal("finished\n", result.StandardError);
        }

        /// <summary>
        /// An input that ends when the command's output says it is done, which is also
        /// when the command exits — so this side's EOF and the server's close of the channel meet. OpenSSH drops the
        /// whole connection, every other command on it included, when a client sends EOF or data on a channel it has
        /// freed; the transport must never do that, so the long stream beside must survive, every time.
        /// </summary>
        [Fact]
        public async Task Input_that_ends_as_the_command_ends_never_breaks_the_shared_connection()
        {
            using var ssh = Open();
            using var stream = new MemoryStream();
            var longRun = ssh.RunAsync("i=0; while [ $i -lt 100 ]; do head -c 65536 /dev/zero; sleep 0.05; i=$((i+1)); done", stream, CancellationToken.None, timeout: TimeSpan.FromSeconds(90));
            for (var i = 0; i < 200; i++)
            {
                var input = new EndsOnSignal();
                var output = new SignalOnOutput(input);
                var shortRun = await ssh.RunAsync("head -c 1 >/dev/null; echo done", output, CancellationToken.None, input, TimeSpan.FromSeconds(20));
                Assert.Equal(0, shortRun.ExitStatus);
                Assert.Equal("", shortRun.StandardError);
            }
            var result = await longRun;
            Assert.Equal(0, result.ExitStatus);
            Assert.Equal(100L * 65536, stream.Length);
            Assert.Equal(1, ssh.ConnectionsOpened);
            Assert.DoesNotContain("bad id", _sshd.ReadLog());
        }

        /// <summary>An input that never ends stops flowing when the command ends: the result comes back at once.</summary>
        [Fact]
        public async Task A_command_that_ends_returns_its_status_and_stderr_while_its_input_never_ends()
        {
            using var ssh = Open();
            using var endless = new EndlessStream();
            var run = ssh.RunAsync("echo broken >&2; exit 3", Stream.Null, CancellationToken.None, endless, TimeSpan.FromSeconds(20));
            Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))));
            var result = await run;
            Assert.Equal(3, result.ExitStatus);
            Assert.Equal("broken\n", result.StandardError);
        }

        /// <summary>Six commands that each wait for all six to have started: they can only finish if they run at once.</summary>
        [Fact]
        public async Task Concurrent_commands_share_one_connection()
        {
            var before = _sshd.AcceptedLogins;
            var dir = _sshd.NewPath("barrier");
            Directory.CreateDirectory(dir);
            using var ssh = Open();
            var d = ShellQuote.Quote(dir);
            var tasks = Enumerable.Range(0, 6).Select(i => ssh.RunAsync(
                $"touch {d}/{i}; n=0; while [ $(ls {d} | wc -l) -lt 6 ]; do sleep 0.05; n=$((n+1)); [ $n -gt 400 ] && exit 9; done; echo {i}",
                CancellationToken.None)).ToArray();
            var results = await Task.WhenAll(tasks);
            Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{i}\n"), results.Select(r => r.StandardOutput));
            Assert.All(results, r => Assert.Equal(0, r.ExitStatus));
            // more commands than sshd allows sessions per connection: the rest queue for a channel
            var many = await Task.WhenAll(Enumerable.Range(0, 25).Select(i => ssh.RunAsync($"echo {i}", CancellationToken.None)));
            Assert.Equal(Enumerable.Range(0, 25).Select(i => $"{i}\n"), many.Select(r => r.StandardOutput));
            Assert.Equal(1, ssh.ConnectionsOpened);
            Assert.Equal(before + 1, _sshd.AcceptedLogins);
        }

        [Fact]
        public async Task Reuses_one_connection_for_sequential_commands()
        {
            var before = _sshd.AcceptedLogins;
            using var ssh = Open();
            for (var i = 0; i < 5; i++) Assert.Equal($"{i}\n", (await ssh.RunAsync($"echo {i}", CancellationToken.None)).StandardOutput);
            Assert.Equal(before + 1, _sshd.AcceptedLogins);
        }

        [Fact]
        public async Task Unknown_host_key_refuses_before_anything_runs()
        {
            var knownHosts = _sshd.NewPath("empty_known_hosts");
            File.WriteAllText(knownHosts, "");
            var marker = _sshd.NewPath("ran");
            var before = _sshd.AcceptedLogins;
            using var ssh = Open(_sshd.Options(knownHosts));
            var error = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync("touch " + ShellQuote.Quote(marker), CancellationToken.None));
            Assert.Equal("HostKeyUnknown", error.ErrorId);
            Assert.Contains($"127.0.0.1:{_sshd.Port}", error.Message);
            Assert.Contains(TestShell.KeygenFingerprint(_sshd.HostKeyEd25519 + ".pub"), error.Message);
            Assert.Contains("ssh-ed25519", error.Message);
            Assert.Contains("Get-DeevHostKey", error.Message);
            Assert.False(File.Exists(marker));
            Assert.Equal(before, _sshd.AcceptedLogins);
        }

        [Fact]
        public async Task Changed_host_key_is_a_mismatch_showing_both_fingerprints()
        {
            var impostorDir = _sshd.NewPath("impostor");
            Directory.CreateDirectory(impostorDir);
            var recorded = TestShell.KeyPair(impostorDir, "recorded") + ".pub";
            var knownHosts = _sshd.NewPath("changed_known_hosts");
            File.WriteAllText(knownHosts, "# line 1\n" + _sshd.KnownHostsLine(recorded) + "\n");
            var marker = _sshd.NewPath("ran");
            using var ssh = Open(_sshd.Options(knownHosts));
            var error = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync("touch " + ShellQuote.Quote(marker), CancellationToken.None));
            Assert.Equal("HostKeyMismatch", error.ErrorId);
            Assert.Contains(TestShell.KeygenFingerprint(recorded), error.Message);
            Assert.Contains(TestShell.KeygenFingerprint(_sshd.HostKeyEd25519 + ".pub"), error.Message);
            Assert.Contains(knownHosts + " line 2", error.Message);
            Assert.False(File.Exists(marker));
        }

        [Fact]
        public async Task A_recorded_rsa_key_is_asked_for_and_accepted()
        {
            var knownHosts = _sshd.NewPath("rsa_known_hosts");
            File.WriteAllText(knownHosts, _sshd.KnownHostsLine(_sshd.HostKeyRsa + ".pub") + "\n");
            using var ssh = Open(_sshd.Options(knownHosts));
            Assert.Equal("ok\n", (await ssh.RunAsync("echo ok", CancellationToken.None)).StandardOutput);
        }

        [Fact]
        public async Task Wrong_client_key_is_AuthenticationFailed_without_secrets()
        {
            using var ssh = Open(_sshd.Options(key: _sshd.WrongClientKey));
            var error = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync("true", CancellationToken.None));
            Assert.Equal("AuthenticationFailed", error.ErrorId);
            var privateKey = File.ReadAllText(_sshd.WrongClientKey);
            var body = privateKey.Split('\n')[1];
            Assert.DoesNotContain(body, error.ToString());
        }

        [Fact]
        public async Task Unreadable_key_file_is_AuthenticationFailed_naming_the_file()
        {
            var bogus = _sshd.NewPath("bogus_key");
            File.WriteAllText(bogus, "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==\n-----END OPENSSH PRIVATE KEY-----\n");
            using var ssh = Open(_sshd.Options(key: bogus));
            var error = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync("true", CancellationToken.None));
            Assert.Equal("AuthenticationFailed", error.ErrorId);
            Assert.Contains(bogus, error.Message);
            Assert.DoesNotContain("c2VjcmV0", error.ToString());
        }

        [Fact]
        public async Task Refused_port_is_ConnectionFailed_with_host_and_port()
        {
            using var refused = new RefusedPort();
            var port = refused.Port;
            using var ssh = new SshTransport(Via.Ssh(_sshd.User, "127.0.0.1", port), _sshd.Options());
            var error = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync("true", CancellationToken.None));
            Assert.Equal("ConnectionFailed", error.ErrorId);
            Assert.Contains($"127.0.0.1:{port}", error.Message);
        }

        [Fact]
        public async Task Cancel_during_a_long_command_returns_promptly_and_stops_it_on_the_server()
        {
            var tag = "31." + new Random().Next(100000, 999999);
            using var ssh = Open();
            await ssh.RunAsync("true", CancellationToken.None);   // connect first: this test is about the command
            using var cts = new CancellationTokenSource();
            var watch = Stopwatch.StartNew();
            var run = ssh.RunAsync($"echo started; sleep {tag}; echo never", cts.Token);
            await WaitUntil(() => Pgrep(tag));
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"cancellation took {watch.Elapsed}");
            await WaitUntil(() => !Pgrep(tag));
            Assert.False(Pgrep(tag), "the remote sleep is still running");
            Assert.Equal("still\n", (await ssh.RunAsync("echo still", CancellationToken.None)).StandardOutput);
        }

        [Fact]
        public async Task Command_timeout_is_CommandTimeout()
        {
            using var ssh = Open();
            var error = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync("sleep 30", CancellationToken.None, timeout: TimeSpan.FromSeconds(1)));
            Assert.Equal("CommandTimeout", error.ErrorId);
            Assert.Contains("'sleep'", error.Message);
        }

        [Fact]
        public async Task Probe_reads_the_host_key_without_logging_in()
        {
            var before = _sshd.AcceptedLogins;
            var empty = _sshd.NewPath("probe_known_hosts");
            var unknown = await HostKeyProbe.GetAsync("127.0.0.1", _sshd.Port, empty, TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Equal(HostKeyStatus.Unknown, unknown.Status);
            Assert.Equal(TestShell.KeygenFingerprint(_sshd.HostKeyEd25519 + ".pub"), unknown.Fingerprint);
            var known = await HostKeyProbe.GetAsync("127.0.0.1", _sshd.Port, _sshd.KnownHostsPath, TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Equal(HostKeyStatus.Known, known.Status);
            Assert.Equal(before, _sshd.AcceptedLogins);
            // once added, the transport accepts it
            KnownHostsFile.Add(empty, "127.0.0.1", _sshd.Port, unknown.Key);
            using var ssh = Open(_sshd.Options(empty));
            Assert.Equal("ok\n", (await ssh.RunAsync("echo ok", CancellationToken.None)).StandardOutput);
        }

        [Fact]
        public async Task Pool_shares_one_connection_per_endpoint_and_closes_it_on_dispose()
        {
            var before = _sshd.AcceptedLogins;
            var pool = new TransportPool();
            var a = pool.Get(_sshd.Via, _sshd.Options());
            var b = pool.Get(_sshd.Via, _sshd.Options());
            using (a) await a.RunAsync("true", CancellationToken.None);   // disposing a borrowed transport keeps it open
            await b.RunAsync("true", CancellationToken.None);
            Assert.Equal(Via.Local, pool.Get(Via.Local, _sshd.Options()).Via);
            Assert.Equal(2, pool.Count);
            Assert.Equal(before + 1, _sshd.AcceptedLogins);
            Assert.Equal(1, EstablishedConnections());
            pool.Dispose();
            await WaitUntil(() => EstablishedConnections() == 0);
            Assert.Equal(0, EstablishedConnections());
        }

        private int EstablishedConnections() =>
            TestShell.Run("ss", "-Htn", "state", "established", "dst", "127.0.0.1", "dport", "=", _sshd.Port.ToString())
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

        private static bool Pgrep(string tag)
        {
            var psi = new ProcessStartInfo("pgrep", $"-f \"sleep {tag}\"") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }

        private static async Task WaitUntil(Func<bool> condition)
        {
            for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(50);
        }

        /// <summary>Gives one byte, then blocks until <see cref="End"/>, then ends (an input that ends on a signal).</summary>
        private sealed class EndsOnSignal : TestStreams.Source
        {
            private readonly ManualResetEventSlim _end = new ManualResetEventSlim();
            private bool _gave;

            public void End() => _end.Set();

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (!_gave)
                {
                    _gave = true;
                    buffer[offset] = (byte)'\n';
                    return 1;
                }
                _end.Wait();
                return 0;
            }
        }

        /// <summary>Ends the given input as soon as any output arrives.</summary>
        private sealed class SignalOnOutput : TestStreams.Sink
        {
            private readonly EndsOnSignal _input;

            public SignalOnOutput(EndsOnSignal input) => _input = input;

            public override void Write(byte[] buffer, int offset, int count) => _input.End();
        }

        /// <summary>An input that never ends: 64 KiB of 'x' on every read.</summary>
        private sealed class EndlessStream : TestStreams.Source
        {
            public override int Read(byte[] buffer, int offset, int count)
            {
                var n = Math.Min(count, 65536);
                buffer.AsSpan(offset, n).Fill((byte)'x');
                return n;
            }
        }

        /// <summary>Counts what it is given without keeping it; creates a marker file once it has seen everything.</summary>
        private sealed class CountingSink : TestStreams.Sink
        {
            private readonly long _expected;
            private readonly string _marker;

            public CountingSink(long expected, string marker)
            {
                _expected = expected;
                _marker = marker;
            }

            public long Count { get; private set; }

            public override void Write(byte[] buffer, int offset, int count)
            {
                Count += count;
                if (Count == _expected) File.WriteAllText(_marker, "");
            }
        }
    }
}
