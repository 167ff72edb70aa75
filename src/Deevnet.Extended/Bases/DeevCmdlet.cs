using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended
{
    /// <summary>
    /// Base of every cmdlet. It owns four things so that no cmdlet repeats them:
    /// <list type="bullet">
    /// <item>Ctrl+C: <see cref="StopProcessing"/> cancels <see cref="CancellationToken"/>, which every Core call takes
    /// (PowerShellStandard 5.1 has no PipelineStopToken).</item>
    /// <item>Work on other threads: <see cref="RunAsync{T}"/> waits for Core on the pipeline thread and relays its
    /// progress and messages there, because Write* may only be called from the pipeline thread.</item>
    /// <item>Errors: typed Core exceptions become ErrorRecords with their stable id and an honest category.</item>
    /// <item>Connections: one <see cref="Pool"/> per invocation, so a pipeline of many records uses one connection per
    /// host, closed when the cmdlet ends (or at Ctrl+C).</item>
    /// </list>
    /// </summary>
    public abstract class DeevCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ConcurrentQueue<Action> _pending = new ConcurrentQueue<Action>();
        private readonly AutoResetEvent _signal = new AutoResetEvent(false);
        private TransportPool? _pool;

        /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops.</summary>
        protected CancellationToken CancellationToken => _stop.Token;

        /// <summary>Progress sink for Core, relayed to Write-Progress on the pipeline thread.</summary>
        protected IProgress<OperationProgress> Progress => new QueuedProgress(this);

        /// <summary>Message sink for Core, relayed to Write-Verbose / Write-Warning on the pipeline thread.</summary>
        protected IOperationLog Log => new QueuedLog(this);

        /// <summary>The transports of this invocation, opened on first use.</summary>
        protected TransportPool Pool => _pool ??= new TransportPool(log: Log);

        /// <summary>Closes every connection of this invocation (a later use of <see cref="Pool"/> opens new ones).</summary>
        protected void ClosePool()
        {
            _pool?.Dispose();
            _pool = null;
        }

        protected override void StopProcessing() => _stop.Cancel();

        /// <summary>
        /// Runs Core work and blocks the pipeline thread until it ends, relaying progress and messages as they come.
        /// Ctrl+C cancels the token; the work's OperationCanceledException then becomes a pipeline stop.
        /// </summary>
        protected T RunAsync<T>(Func<CancellationToken, Task<T>> work)
        {
            var task = Task.Run(() => work(CancellationToken));
            // Not task.Wait(50): it throws an AggregateException for a failed task, hiding Core's typed exception.
            while (!task.IsCompleted)
            {
                Drain();
                _signal.WaitOne(50);
            }
            Drain();
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>As <see cref="RunAsync{T}"/> for work without a result.</summary>
        protected void RunAsync(Func<CancellationToken, Task> work) =>
            RunAsync<bool>(async token => { await work(token).ConfigureAwait(false); return true; });

        /// <summary>Writes a Core exception as a non-terminating error with its stable id.</summary>
        protected void WriteDeevError(DeevException exception) => WriteError(ToErrorRecord(exception));

        /// <summary>Stops the cmdlet with a Core exception as a terminating error with its stable id.</summary>
        protected void ThrowDeevError(DeevException exception) => ThrowTerminatingError(ToErrorRecord(exception));

        /// <summary>Builds an ErrorRecord for a failure the cmdlet itself detects.</summary>
        protected static ErrorRecord NewError(string errorId, ErrorCategory category, string message, object? target, string? recommendedAction = null)
        {
            // What the host shows is escaped (a name may carry ESC or a newline); the raw value stays the target.
            message = SafeText.PrintableLines(message);
            var record = new ErrorRecord(new InvalidOperationException(message), errorId, category, target);
            if (recommendedAction != null) record.ErrorDetails = new ErrorDetails(message) { RecommendedAction = recommendedAction };
            return record;
        }

        public static ErrorRecord ToErrorRecord(DeevException exception)
        {
            var record = new ErrorRecord(exception, exception.ErrorId, MapCategory(exception.Kind), exception.Target);
            // The host shows ErrorDetails.Message when set: always set it, escaped, so a name from a file or a server
            // cannot repaint the terminal; the exception keeps the raw text for code that needs it.
            record.ErrorDetails = new ErrorDetails(SafeText.PrintableLines(exception.Message)) { RecommendedAction = exception.RecommendedAction };
            return record;
        }

        public static ErrorCategory MapCategory(DeevErrorKind kind)
        {
            switch (kind)
            {
                case DeevErrorKind.InvalidData: return ErrorCategory.InvalidData;
                case DeevErrorKind.InvalidArgument: return ErrorCategory.InvalidArgument;
                case DeevErrorKind.InvalidOperation: return ErrorCategory.InvalidOperation;
                case DeevErrorKind.ObjectNotFound: return ErrorCategory.ObjectNotFound;
                case DeevErrorKind.ResourceExists: return ErrorCategory.ResourceExists;
                case DeevErrorKind.ResourceUnavailable: return ErrorCategory.ResourceUnavailable;
                case DeevErrorKind.ConnectionError: return ErrorCategory.ConnectionError;
                case DeevErrorKind.OperationTimeout: return ErrorCategory.OperationTimeout;
                case DeevErrorKind.SecurityError: return ErrorCategory.SecurityError;
                case DeevErrorKind.PermissionDenied: return ErrorCategory.PermissionDenied;
                case DeevErrorKind.WriteError: return ErrorCategory.WriteError;
                case DeevErrorKind.OperationStopped: return ErrorCategory.OperationStopped;
                default: return ErrorCategory.NotSpecified;
            }
        }

        public void Dispose()
        {
            Dispose(true);
            GC.SuppressFinalize(this);
        }

        protected virtual void Dispose(bool disposing)
        {
            if (!disposing) return;
            ClosePool();
            _stop.Dispose();
            _signal.Dispose();
        }

        private void Enqueue(Action action)
        {
            _pending.Enqueue(action);
            try { _signal.Set(); } catch (ObjectDisposedException) { }
        }

        private void Drain()
        {
            while (_pending.TryDequeue(out var action)) action();
        }

        private sealed class QueuedProgress : IProgress<OperationProgress>
        {
            private readonly DeevCmdlet _owner;

            public QueuedProgress(DeevCmdlet owner) => _owner = owner;

            public void Report(OperationProgress value) => _owner.Enqueue(() =>
            {
                var id = Math.Abs(value.Activity.GetHashCode() % 1000);
                var record = new ProgressRecord(id, value.Activity, string.IsNullOrEmpty(value.Status) ? value.Activity : value.Status)
                {
                    PercentComplete = value.PercentComplete,
                    CurrentOperation = value.CurrentOperation,
                    RecordType = value.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                };
                _owner.WriteProgress(record);
            });
        }

        private sealed class QueuedLog : IOperationLog
        {
            private readonly DeevCmdlet _owner;

            public QueuedLog(DeevCmdlet owner) => _owner = owner;

            public void Verbose(string message) => _owner.Enqueue(() => _owner.WriteVerbose(message));

            public void Warning(string message) => _owner.Enqueue(() => _owner.WriteWarning(message));
        }
    }
}
