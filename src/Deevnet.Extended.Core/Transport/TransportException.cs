using System;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Reaching a machine failed: <c>ConnectionFailed</c>, <c>ConnectTimeout</c>, <c>CommandTimeout</c>, <c>AuthenticationFailed</c>,
    /// <c>HostKeyUnknown</c>, <c>HostKeyMismatch</c>, <c>RemoteCommandFailed</c>, <c>KnownHostsWriteFailed</c>.
    /// (<see cref="ManagedFile"/> raises <c>BackendValidationFailed</c>, <c>BackendReloadFailed</c>, <c>ManagedFileLocked</c> as DeevException.)
    /// </summary>
    public sealed class TransportException : DeevException
    {
        public TransportException(string errorId, DeevErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(errorId, kind, message, target, inner)
        {
        }
    }
}
