using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>
    /// <see cref="SshTransport.StreamAsync"/> against a real sshd: a consumer that stops holds the server back (the
    /// process never holds the whole output), and the shared connection keeps working meanwhile.
    /// </summary>
    [Collection(SshServerCollection.Name)]
    public sealed class SshFlowControlTests
    {
        private const int Chunk = 512 * 1024;
        private readonly SshServerFixture _sshd;

        public SshFlowControlTests(SshServerFixture sshd) => _sshd = sshd;

        private SshTransport Open() => new SshTransport(_sshd.Via, _sshd.Options());

        /// <summary>
        /// The server writes 200 chunks of 512 KiB (100 MiB), counting them in a file. The sink takes the first write
        /// and then stops for 3 s: without flow control SSH.NET would take all 100 MiB in that time (its window is
        /// 2 GiB); with it the server gets no further than what TCP, sshd and the transport's few packets hold.
        /// </summary>
        [Fact]
        public async Task A_stalled_consumer_holds_the_server_back_and_the_shared_connection_still_answers()
        {
            var counter = _sshd.NewPath("chunks");
            var c = ShellQuote.Quote(counter);
            using var ssh = Open();
            using var sink = new StallingSink();
            var stream = ssh.StreamAsync($"i=0; while [ $i -lt 200 ]; do head -c {Chunk} /dev/zero; i=$((i+1)); echo $i > {c}; done",
                sink, CancellationToken.None, timeout: TimeSpan.FromSeconds(120));
            Assert.True(sink.FirstWrite.Wait(TimeSpan.FromSeconds(30)), "no output arrived");
            await Task.Delay(TimeSpan.FromSeconds(3));

            var produced = await ssh.RunAsync($"cat {c}", CancellationToken.None, timeout: TimeSpan.FromSeconds(10));
            Assert.Equal(0, produced.ExitStatus);
            var chunks = int.Parse(produced.StandardOutput.Trim());
            Assert.True(chunks < 64, $"the server wrote {chunks} chunks ({chunks / 2} MiB) while the consumer was stalled");

            sink.Release();
            var result = await stream;
            Assert.Equal(0, result.ExitStatus);
            Assert.Equal(200L * Chunk, sink.Count);
            Assert.Equal(2, ssh.ConnectionsOpened);
        }

        /// <summary>A sink that fails stops an endless command, on the server too, at once and reports the sink's own error.</summary>
        [Fact]
        public async Task A_failing_consumer_stops_the_command_with_its_error()
        {
            var tag = "47." + new Random().Next(100000, 999999);
            using var ssh = Open();
            var watch = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<IOException>(() => ssh.StreamAsync($"while true; do head -c 65536 /dev/zero; done; sleep {tag}",
                new FailingSink(), CancellationToken.None, timeout: TimeSpan.FromSeconds(60)));
            Assert.Equal("the consumer failed", error.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"stopping took {watch.Elapsed}");
            for (var i = 0; i < 100 && Running(tag); i++) await Task.Delay(100);
            Assert.False(Running(tag), "the command still runs on the server");
            Assert.Equal("still\n", (await ssh.RunAsync("echo still", CancellationToken.None)).StandardOutput);
        }

        private static bool Running(string tag) => TestShell.Run("sh", "-c", $"pgrep -f 'slee[p] {tag}' || true").Trim().Length > 0;

        private sealed class StallingSink : TestStreams.Sink
        {
            private readonly ManualResetEventSlim _release = new ManualResetEventSlim();

            public ManualResetEventSlim FirstWrite { get; } = new ManualResetEventSlim();
            public long Count { get; private set; }

            public void Release() => _release.Set();

            public override void Write(byte[] buffer, int offset, int count)
            {
                Count += count;
                FirstWrite.Set();
                _release.Wait();
            }
        }

        private sealed class FailingSink : TestStreams.Sink
        {
            public override void Write(byte[] buffer, int offset, int count) => throw new IOException("the consumer failed");
        }
    }
}
