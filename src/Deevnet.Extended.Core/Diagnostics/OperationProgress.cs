namespace Deevnet.Extended.Core.Diagnostics
{
    /// <summary>
    /// One progress report from long work in Core. The cmdlet layer turns it into Write-Progress;
    /// Core reports through <see cref="System.IProgress{T}"/> and never writes to a host itself.
    /// </summary>
    public sealed class OperationProgress
    {
        public OperationProgress(string activity, string status, int percentComplete = -1, string? currentOperation = null, bool completed = false)
        {
            Activity = activity;
            Status = status;
            PercentComplete = percentComplete;
            CurrentOperation = currentOperation;
            Completed = completed;
        }

        public string Activity { get; }
        public string Status { get; }

        /// <summary>0–100, or -1 when unknown.</summary>
        public int PercentComplete { get; }
        public string? CurrentOperation { get; }

        /// <summary>The activity has ended; the progress bar goes away.</summary>
        public bool Completed { get; }
    }

    /// <summary>
    /// Messages from Core that an operator may want to see (-Verbose) or must see (warnings).
    /// Implementations must be thread-safe: Core calls them from worker threads.
    /// Never pass a secret to either method.
    /// </summary>
    public interface IOperationLog
    {
        void Verbose(string message);
        void Warning(string message);
    }

    /// <summary>A log that drops everything, for callers that do not care.</summary>
    public sealed class NullOperationLog : IOperationLog
    {
        public static readonly NullOperationLog Instance = new NullOperationLog();
        public void Verbose(string message) { }
        public void Warning(string message) { }
    }
}
