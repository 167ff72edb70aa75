using System;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Reaching a machine failed: <c>ConnectionFailed</c>, <c>CommandTimeout</c>, <c>AuthenticationFailed</c>,
    /// <c>HostKeyUnknown</c>, <c>HostKeyMismatch</c>, <c>RemoteCommandFailed</c>.
    /// </summary>
    public sealed class TransportException : DeevException
    {
        public TransportException(string errorId, DeevErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(errorId, kind, message, target, inner)
        {
        }
    }
}
