using System;

namespace Deevnet.Extended.Core.Errors
{
    /// <summary>
    /// What kind of failure an error is. The cmdlet layer maps each kind to a PowerShell
    /// ErrorCategory; Core never references PowerShell itself.
    /// </summary>
    public enum DeevErrorKind
    {
        NotSpecified,
        InvalidData,
        InvalidArgument,
        InvalidOperation,
        ObjectNotFound,
        ResourceExists,
        ResourceUnavailable,
        ConnectionError,
        OperationTimeout,
        SecurityError,
        PermissionDenied,
        WriteError,
        OperationStopped,
    }

    /// <summary>
    /// Base of every exception Core throws on purpose. <see cref="ErrorId"/> is public contract:
    /// it becomes the ErrorRecord id (e.g. <c>TierFileInvalid</c>, <c>HostKeyMismatch</c>) and tests assert it.
    /// </summary>
    public class DeevException : Exception
    {
        public DeevException(string errorId, DeevErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
        }

        /// <summary>Stable error id, e.g. <c>ReservationConflict</c>.</summary>
        public string ErrorId { get; }

        /// <summary>The kind of failure; mapped to an ErrorCategory by the cmdlets.</summary>
        public DeevErrorKind Kind { get; }

        /// <summary>What the error is about (a host name, a file, a MAC), if anything.</summary>
        public object? Target { get; }

        /// <summary>What the operator can do about it, if Core knows. Shown as the error's recommended action.</summary>
        public string? RecommendedAction { get; set; }
    }
}
