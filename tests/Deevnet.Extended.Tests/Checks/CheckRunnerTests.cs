using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Diagnostics;
using Xunit;

namespace Deevnet.Extended.Tests.Checks
{
    public class CheckRunnerTests
    {
        private static CheckItem Item(string name, Func<CancellationToken, Task<CheckOutcome>> run, double timeoutSeconds = 5) =>
            new CheckItem("svc", "host", "observability", name, name, TimeSpan.FromSeconds(timeoutSeconds), run);

        [Fact]
        public async Task ResultsComeBackInPlanOrderWithTheirIdentity()
        {
            var items = Enumerable.Range(0, 50).Select(i => Item("c" + i, async t => { await Task.Delay(50 - i, t); return CheckOutcome.Pass("ok " + i); })).ToList();
            var results = await new CheckRunner(8).RunAsync(items, null, CancellationToken.None);
            Assert.Equal(items.Select(i => i.Check), results.Select(r => r.Check));
            Assert.All(results, r => Assert.Equal(CheckStatus.Passed, r.Status));
            Assert.Equal("ok 7", results[7].Detail);
        }

        [Fact]
        public async Task NeverRunsMoreThanTheThrottleLimitAtOnce()
        {
            var running = 0;
            var peak = 0;
            var items = Enumerable.Range(0, 40).Select(i => Item("c" + i, async t =>
            {
                var now = Interlocked.Increment(ref running);
                int seen;
                while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen) { }
                await Task.Delay(20, t);
                Interlocked.Decrement(ref running);
                return CheckOutcome.Pass("ok");
            })).ToList();
            await new CheckRunner(4).RunAsync(items, null, CancellationToken.None);
            Assert.InRange(peak, 2, 4);
        }

        [Fact]
        public async Task LimitsChecksPerEndpointWithoutHoldingBackOtherEndpoints()
        {
            var perEndpoint = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
            var peaks = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
            var items = Enumerable.Range(0, 40).Select(i =>
            {
                var endpoint = i % 2 == 0 ? "a:80" : "b:80";
                var item = Item("c" + i, async t =>
                {
                    var now = perEndpoint.AddOrUpdate(endpoint, 1, (_, v) => v + 1);
                    peaks.AddOrUpdate(endpoint, now, (_, v) => Math.Max(v, now));
                    await Task.Delay(15, t);
                    perEndpoint.AddOrUpdate(endpoint, 0, (_, v) => v - 1);
                    return CheckOutcome.Pass("ok");
                });
                item.Endpoint = endpoint;
                return item;
            }).ToList();
            await new CheckRunner(32, perEndpointLimit: 3).RunAsync(items, null, CancellationToken.None);
            Assert.InRange(peaks["a:80"], 2, 3);
            Assert.InRange(peaks["b:80"], 2, 3);
        }

        [Fact]
        public async Task ACheckThatIgnoresItsTokenFailsAtItsTimeoutAndTheOthersStillRun()
        {
            var hang = new TaskCompletionSource<CheckOutcome>();
            var items = new[]
            {
                Item("hangs", _ => hang.Task, timeoutSeconds: 0.3),
                Item("throws", _ => throw new InvalidOperationException("boom from the check")),
                Item("fine", _ => Task.FromResult(CheckOutcome.Pass("fine"))),
            };
            var results = await new CheckRunner().RunAsync(items, null, CancellationToken.None);
            CheckTestKit.AssertStatus(results[0], CheckStatus.Failed, "No answer within 0.3 s");
            CheckTestKit.AssertStatus(results[1], CheckStatus.Failed, "boom from the check");
            CheckTestKit.AssertStatus(results[2], CheckStatus.Passed);
            hang.SetResult(CheckOutcome.Pass("too late"));
        }

        [Fact]
        public async Task CancellingTheRunEndsItWithOperationCanceled()
        {
            using var cts = new CancellationTokenSource();
            var items = Enumerable.Range(0, 20).Select(i => Item("c" + i, async t => { await Task.Delay(Timeout.Infinite, t); return CheckOutcome.Pass("never"); }, 60)).ToList();
            var run = new CheckRunner(4).RunAsync(items, null, cts.Token);
            cts.CancelAfter(200);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        [Fact]
        public async Task ReportsProgressAndCompletes()
        {
            var reports = new System.Collections.Concurrent.ConcurrentBag<OperationProgress>();
            var items = Enumerable.Range(0, 10).Select(i => Item("c" + i, _ => Task.FromResult(CheckOutcome.Pass("ok")))).ToList();
            await new CheckRunner().RunAsync(items, new SyncProgress(reports.Add), CancellationToken.None);
            Assert.Contains(reports, r => r.Completed);
            Assert.Contains(reports, r => !r.Completed && r.PercentComplete == 100);
        }

        private sealed class SyncProgress : IProgress<OperationProgress>
        {
            private readonly Action<OperationProgress> _report;
            public SyncProgress(Action<OperationProgress> report) => _report = report;
            public void Report(OperationProgress value) => _report(value);
        }
    }
}
