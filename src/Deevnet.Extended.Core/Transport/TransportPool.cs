using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// One transport per (user, host, port) for the life of a cmdlet invocation or pipeline, so a batch opens one
    /// SSH connection per server however many commands it runs. Disposing the pool closes every connection;
    /// the transports it hands out ignore Dispose, so callers may use <c>using</c> freely.
    /// </summary>
    public sealed class TransportPool : IDisposable
    {
        private readonly object _gate = new object();
        private readonly Dictionary<string, IHostTransport> _open = new Dictionary<string, IHostTransport>(StringComparer.Ordinal);
        private readonly Func<Via, SshTransportOptions, IHostTransport> _sshFactory;
        private readonly Action<SshTransportOptions>? _overrides;
        private readonly IOperationLog _log;
        private bool _disposed;

        /// <param name="overrides">Applied to the options built from <c>access</c> (e.g. a cmdlet's -KeyFile or -Credential).</param>
        /// <param name="log">Receives connection messages; never secrets.</param>
        /// <param name="sshFactory">Creates SSH transports; tests may substitute it.</param>
        public TransportPool(Action<SshTransportOptions>? overrides = null, IOperationLog? log = null, Func<Via, SshTransportOptions, IHostTransport>? sshFactory = null)
        {
            _overrides = overrides;
            _log = log ?? NullOperationLog.Instance;
            _sshFactory = sshFactory ?? ((via, options) => new SshTransport(via, options, _log));
        }

        /// <summary>The shared transport for <paramref name="via"/>; its user defaults to <c>access.user</c>.</summary>
        public IHostTransport Get(Via via, AccessSettings access)
        {
            if (access is null) throw new ArgumentNullException(nameof(access));
            return Get(via.WithDefaultUser(access.User), () => SshTransportOptions.FromAccess(access));
        }

        /// <summary>The shared transport for <paramref name="via"/> (which must name its user unless local) with explicit options.</summary>
        public IHostTransport Get(Via via, SshTransportOptions options) => Get(via, () => options.Clone());

        private IHostTransport Get(Via via, Func<SshTransportOptions> options)
        {
            if (via is null) throw new ArgumentNullException(nameof(via));
            var key = via.IsLocal ? "local" : $"{via.User}@{via.Host.ToLowerInvariant()}:{via.Port}";
            lock (_gate)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(TransportPool));
                if (!_open.TryGetValue(key, out var transport))
                {
                    if (via.IsLocal)
                    {
                        transport = new LocalTransport();
                    }
                    else
                    {
                        var settings = options();
                        _overrides?.Invoke(settings);
                        transport = _sshFactory(via, settings);
                    }
                    _open.Add(key, transport);
                }
                return new Borrowed(transport);
            }
        }

        /// <summary>How many distinct transports the pool holds.</summary>
        public int Count
        {
            get { lock (_gate) return _open.Count; }
        }

        public void Dispose()
        {
            List<IHostTransport> all;
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                all = new List<IHostTransport>(_open.Values);
                _open.Clear();
            }
            foreach (var transport in all) transport.Dispose();
        }

        /// <summary>A handle on a pooled transport: everything but Dispose goes through.</summary>
        private sealed class Borrowed : IHostTransport, IPortForwarding
        {
            public Borrowed(IHostTransport inner) => Inner = inner;

            public IHostTransport Inner { get; }

            public Via Via => Inner.Via;

            public Task<CommandResult> RunAsync(string commandLine, CancellationToken cancellationToken, string? standardInput = null, TimeSpan? timeout = null) =>
                Inner.RunAsync(commandLine, cancellationToken, standardInput, timeout);

            public Task<CommandResult> RunAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null) =>
                Inner.RunAsync(commandLine, standardOutput, cancellationToken, standardInput, timeout);

            public Task<CommandResult> StreamAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null) =>
                Inner.StreamAsync(commandLine, standardOutput, cancellationToken, standardInput, timeout);

            public Task<int> ForwardAsync(string host, int port, CancellationToken cancellationToken) =>
                Inner is IPortForwarding forwarding ? forwarding.ForwardAsync(host, port, cancellationToken)
                    : throw new NotSupportedException($"{Inner.Via} cannot forward ports; only an ssh:// via can.");

            public void Dispose()
            {
                // The pool owns the connection.
            }

            public override string ToString() => Inner.Via.ToString();
        }
    }
}
