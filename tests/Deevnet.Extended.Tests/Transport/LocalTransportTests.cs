using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    public sealed class LocalTransportTests
    {
        [Fact]
        public async Task Returns_exit_status_stdout_and_stderr()
        {
            using var local = new LocalTransport();
            var result = await local.RunAsync("echo out; echo err >&2; exit 3", CancellationToken.None);
            Assert.Equal(3, result.ExitStatus);
            Assert.Equal("out\n", result.StandardOutput);
            Assert.Equal("err\n", result.StandardError);
            Assert.False(result.Succeeded);
        }

        [Fact]
        public async Task Feeds_stdin()
        {
            using var local = new LocalTransport();
            var result = await local.RunAsync("tr a-z A-Z", CancellationToken.None, "hello\nworld");
            Assert.Equal("HELLO\nWORLD", result.StandardOutput);
        }

        [Fact]
        public async Task Streams_stdout_into_a_stream()
        {
            using var local = new LocalTransport();
            using var sink = new MemoryStream();
            var result = await local.RunAsync("head -c 1000000 /dev/zero", sink, CancellationToken.None);
            Assert.Equal(0, result.ExitStatus);
            Assert.Equal(1000000, sink.Length);
        }

        [Fact]
        public async Task Timeout_is_CommandTimeout()
        {
            using var local = new LocalTransport();
            var error = await Assert.ThrowsAsync<TransportException>(() => local.RunAsync("sleep 20", CancellationToken.None, timeout: TimeSpan.FromMilliseconds(300)));
            Assert.Equal("CommandTimeout", error.ErrorId);
        }

        [Fact]
        public async Task Cancellation_stops_the_command()
        {
            using var local = new LocalTransport();
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var watch = Stopwatch.StartNew();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => local.RunAsync("sleep 20", cts.Token));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), "cancellation waited for the command");
        }
    }
}
