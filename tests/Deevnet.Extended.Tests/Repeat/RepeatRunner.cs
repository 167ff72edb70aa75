using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Deevnet.Extended.Tests.Repeat
{
    /// <summary>
    /// Runs the tests of this assembly whose full names match a filter N times, one run after another, in this one
    /// process, with xunit's own discoverer and executor (the ones `dotnet test` drives through its adapter).
    /// Why in one process: a flaw that only shows after many runs (a pooled connection, a static cache, a leaked
    /// handle or a late EOF on a reused SSH connection) survives from one run into the next here, where separate
    /// `dotnet test` runs would start clean each time.
    /// </summary>
    internal static class RepeatRunner
    {
        public static int Run(int count, IReadOnlyList<string> filters)
        {
            var assembly = typeof(RepeatRunner).Assembly;
            var diagnostics = new NullSink();
            using var framework = new XunitTestFramework(diagnostics);
            var testCases = Discover(framework, assembly, filters);
            if (testCases.Count == 0)
            {
                Console.Error.WriteLine($"repeat: no test matches '{string.Join("|", filters)}'.");
                return 2;
            }
            Console.WriteLine($"repeat: {testCases.Count} test(s) matching '{string.Join("|", filters)}', {count} run(s) in process {Environment.ProcessId}");

            int totalPassed = 0, totalFailed = 0, totalSkipped = 0, badRuns = 0;
            for (var run = 1; run <= count; run++)
            {
                var started = DateTime.UtcNow;
                var sink = new CountingSink();
                using var probe = new ThreadPoolProbe();
                using (var executor = framework.GetExecutor(assembly.GetName()))
                {
                    executor.RunTests(testCases, sink, new Options());
                    sink.Finished.WaitOne();
                }
                var seconds = (DateTime.UtcNow - started).TotalSeconds;
                Console.WriteLine($"repeat: run {run}: thread pool: longest wait of a queued work item {probe.MaxDelayMs} ms, up to {probe.MaxThreads} threads");
                totalPassed += sink.Passed; totalFailed += sink.Failed; totalSkipped += sink.Skipped;
                // A skipped test did not pass: in a soak it means a server that did not start, so the run is bad.
                if (sink.Failed > 0 || sink.Skipped > 0) badRuns++;
                Console.WriteLine($"repeat: run {run} of {count}: {sink.Passed} passed, {sink.Failed} failed, {sink.Skipped} skipped in {seconds:0} s");
                foreach (var line in sink.Problems) Console.WriteLine("  " + line);
                // Where the time goes, once: the run's five slowest tests.
                if (run == 1)
                    foreach (var (time, name) in sink.Times.OrderByDescending(t => t.Seconds).Take(5))
                        Console.WriteLine($"  slowest: {time:0.0} s {name}");
            }
            Console.WriteLine($"repeat: {count} run(s), {badRuns} with a failure or a skip");
            Console.WriteLine($"{totalPassed} passed, {totalFailed} failed, {totalSkipped} skipped");
            return badRuns == 0 ? 0 : 1;
        }

        private static List<ITestCase> Discover(XunitTestFramework framework, Assembly assembly, IReadOnlyList<string> filters)
        {
            var sink = new DiscoverySink();
            using var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly));
            discoverer.Find(includeSourceInformation: false, sink, new Options());
            sink.Complete.WaitOne();
            // The same match as `dotnet test --filter FullyQualifiedName~X`: the class's full name, a dot, the method.
            return sink.TestCases
                .Where(tc => filters.Any(f => FullyQualifiedName(tc).Contains(f, StringComparison.OrdinalIgnoreCase)))
                .ToList();
        }

        private static string FullyQualifiedName(ITestCase testCase) =>
            testCase.TestMethod.TestClass.Class.Name + "." + testCase.TestMethod.Method.Name;

        /// <summary>
        /// Measures how long a work item queued to the thread pool waits before it runs, four times a second, from a
        /// thread of its own: seconds of waiting mean the pool is starved (threads blocked in synchronous waits), which
        /// delays every continuation — timeouts then fire on work that was never scheduled.
        /// </summary>
        private sealed class ThreadPoolProbe : IDisposable
        {
            private readonly CancellationTokenSource stop = new();
            private readonly Thread thread;
            private long maxDelayMs;
            private int maxThreads;

            public ThreadPoolProbe()
            {
                thread = new Thread(Loop) { IsBackground = true, Name = "thread pool probe" };
                thread.Start();
            }

            public long MaxDelayMs => Interlocked.Read(ref maxDelayMs);
            public int MaxThreads => Volatile.Read(ref maxThreads);

            private void Loop()
            {
                while (!stop.IsCancellationRequested)
                {
                    var queued = System.Diagnostics.Stopwatch.StartNew();
                    var ran = new ManualResetEventSlim(false);   // not disposed: the work item may still run after a stop
                    ThreadPool.UnsafeQueueUserWorkItem(_ => ran.Set(), null);
                    try { ran.Wait(stop.Token); } catch (OperationCanceledException) { return; }
                    var waited = queued.ElapsedMilliseconds;
                    if (waited > Interlocked.Read(ref maxDelayMs)) Interlocked.Exchange(ref maxDelayMs, waited);
                    if (ThreadPool.ThreadCount > maxThreads) Volatile.Write(ref maxThreads, ThreadPool.ThreadCount);
                    stop.Token.WaitHandle.WaitOne(250);
                }
            }

            public void Dispose()
            {
                stop.Cancel();
                thread.Join();
                stop.Dispose();
            }
        }

        /// <summary>Discovery and execution options; empty means xunit's defaults, as `dotnet test` uses here (no xunit.runner.json).</summary>
        private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
        {
            private readonly Dictionary<string, object?> values = new();

            public TValue GetValue<TValue>(string name) => values.TryGetValue(name, out var v) && v is TValue t ? t : default!;

            public void SetValue<TValue>(string name, TValue value) => values[name] = value;
        }

        private sealed class NullSink : LongLivedMarshalByRefObject, IMessageSink
        {
            public bool OnMessage(IMessageSinkMessage message) => true;
        }

        private sealed class DiscoverySink : LongLivedMarshalByRefObject, IMessageSink
        {
            public List<ITestCase> TestCases { get; } = new();
            public ManualResetEvent Complete { get; } = new(false);

            public bool OnMessage(IMessageSinkMessage message)
            {
                if (message is ITestCaseDiscoveryMessage found) lock (TestCases) TestCases.Add(found.TestCase);
                if (message is IDiscoveryCompleteMessage) Complete.Set();
                return true;
            }
        }

        private sealed class CountingSink : LongLivedMarshalByRefObject, IMessageSink
        {
            private int passed, failed, skipped;
            public int Passed => passed;
            public int Failed => failed;
            public int Skipped => skipped;
            public List<string> Problems { get; } = new();
            public List<(decimal Seconds, string Name)> Times { get; } = new();
            public ManualResetEvent Finished { get; } = new(false);

            public bool OnMessage(IMessageSinkMessage message)
            {
                switch (message)
                {
                    case ITestPassed p:
                        Interlocked.Increment(ref passed);
                        lock (Times) Times.Add((p.ExecutionTime, p.Test.DisplayName));
                        break;
                    case ITestFailed f:
                        Interlocked.Increment(ref failed);
                        Note($"FAILED {f.Test.DisplayName}: {First(f.ExceptionTypes)}: {First(f.Messages)}");
                        break;
                    case ITestSkipped s:
                        Interlocked.Increment(ref skipped);
                        Note($"SKIPPED {s.Test.DisplayName}: {s.Reason}");
                        break;
                    case IErrorMessage e:
                        // Outside any test (a crashed fixture or runner): counted as a failure, so it cannot look green.
                        Interlocked.Increment(ref failed);
                        Note($"ERROR: {First(e.ExceptionTypes)}: {First(e.Messages)}");
                        break;
                    case ITestCollectionCleanupFailure or ITestClassCleanupFailure or ITestAssemblyCleanupFailure:
                        Interlocked.Increment(ref failed);
                        Note($"CLEANUP FAILED: {First(((IFailureInformation)message).Messages)}");
                        break;
                    case ITestAssemblyFinished:
                        Finished.Set();
                        break;
                }
                return true;
            }

            private void Note(string line)
            {
                lock (Problems) Problems.Add(line.ReplaceLineEndings(" "));
            }

            private static string First(string[]? values) => values is { Length: > 0 } ? values[0] : "";
        }
    }
}
