using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// Runs checks concurrently with a bounded degree. Each check has its own timeout; a check that hangs, throws or
    /// ignores its token becomes a Failed result at its timeout while the rest go on. Only the caller's token
    /// (Ctrl+C) ends the run early, with <see cref="OperationCanceledException"/>.
    /// </summary>
    public sealed class CheckRunner
    {
        public const int DefaultThrottleLimit = 32;
        public const int DefaultPerEndpointLimit = 6;
        public const string Activity = "Testing the extended services tier";

        public CheckRunner(int throttleLimit = DefaultThrottleLimit, int perEndpointLimit = DefaultPerEndpointLimit)
        {
            if (throttleLimit < 1) throw new ArgumentOutOfRangeException(nameof(throttleLimit), "The throttle limit must be at least 1.");
            if (perEndpointLimit < 1) throw new ArgumentOutOfRangeException(nameof(perEndpointLimit), "The per-endpoint limit must be at least 1.");
            ThrottleLimit = throttleLimit;
            PerEndpointLimit = perEndpointLimit;
        }

        /// <summary>How many checks run at the same time.</summary>
        public int ThrottleLimit { get; }

        /// <summary>How many of them may connect to the same endpoint at the same time (like a browser's per-host limit).</summary>
        public int PerEndpointLimit { get; }

        /// <summary>Runs every check and returns one result per check, in the order given.</summary>
        public async Task<IReadOnlyList<CheckResult>> RunAsync(IReadOnlyList<CheckItem> items, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var results = new CheckResult[items.Count];
            var done = 0;
            var lastPercent = -1;
            using var gate = new SemaphoreSlim(ThrottleLimit, ThrottleLimit);
            var endpoints = new Dictionary<string, SemaphoreSlim>(StringComparer.OrdinalIgnoreCase);
            foreach (var item in items)
            {
                if (item.Endpoint != null && !endpoints.ContainsKey(item.Endpoint)) endpoints.Add(item.Endpoint, new SemaphoreSlim(PerEndpointLimit, PerEndpointLimit));
            }
            var tasks = new Task[items.Count];
            for (var i = 0; i < items.Count; i++)
            {
                var index = i;
                tasks[i] = Task.Run(async () =>
                {
                    // The endpoint's slot first: a check waiting for a busy server must not hold one of the run's slots.
                    var endpoint = items[index].Endpoint is string e ? endpoints[e] : null;
                    if (endpoint != null) await endpoint.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                        try
                        {
                            results[index] = await RunOneAsync(items[index], cancellationToken).ConfigureAwait(false);
                        }
                        finally
                        {
                            gate.Release();
                        }
                    }
                    finally
                    {
                        endpoint?.Release();
                    }
                    var finished = Interlocked.Increment(ref done);
                    var percent = finished * 100 / items.Count;
                    // One report per percent step: a thousand checks must not flood Write-Progress.
                    if (progress != null && Interlocked.Exchange(ref lastPercent, percent) != percent)
                    {
                        progress.Report(new OperationProgress(Activity, $"{finished} of {items.Count} checks done", percent, Describe(items[index])));
                    }
                }, cancellationToken);
            }
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            finally
            {
                progress?.Report(new OperationProgress(Activity, "done", 100, completed: true));
                foreach (var endpoint in endpoints.Values) endpoint.Dispose();
            }
            cancellationToken.ThrowIfCancellationRequested();
            return results;
        }

        /// <summary>Runs one check under its timeout; never throws except when the caller cancels.</summary>
        public static async Task<CheckResult> RunOneAsync(CheckItem item, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(item.Timeout);
            CheckOutcome outcome;
            Task<CheckOutcome>? work = null;
            try
            {
                work = Task.Run(() => item.Run(limit.Token), limit.Token);
                // Waits on the timeout as well: a check that ignores its token must not hold the run.
                outcome = await work.WaitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException)
            {
                outcome = TimedOut(item);
            }
            catch (Exception ex)
            {
                outcome = CheckOutcome.Fail(Explain(ex));
            }
            finally
            {
                // A check abandoned at its timeout may still fault later; observe it so it cannot crash the process.
                if (work != null && !work.IsCompleted)
                {
                    _ = work.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
                }
            }
            return item.ToResult(outcome, watch.Elapsed);
        }

        private static CheckOutcome TimedOut(CheckItem item) =>
            CheckOutcome.Fail($"No answer within {item.Timeout.TotalSeconds:0.###} s (timeout).");

        /// <summary>An exception as one line an operator can read: Core's own message, else type and message.</summary>
        public static string Explain(Exception ex)
        {
            if (ex is AggregateException agg && agg.InnerExceptions.Count == 1) ex = agg.InnerExceptions[0];
            if (ex is DeevException) return ex.Message;
            var text = ex.Message;
            for (var inner = ex.InnerException; inner != null; inner = inner.InnerException)
            {
                if (!text.Contains(inner.Message)) text += " " + inner.Message;
            }
            return text;
        }

        private static string Describe(CheckItem item) => $"{item.Check} {item.Target}";
    }
}
