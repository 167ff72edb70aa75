using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// One transport per machine for a whole check run: every command check on a host shares the connection, and a
    /// host that cannot be reached fails all its checks with the same reason after one connect attempt instead of one
    /// timeout each. Connecting runs under the run's token, so one check's timeout does not break the shared attempt.
    /// </summary>
    public sealed class CheckTransportPool : ICheckTransports, IDisposable
    {
        private readonly Func<Via, CancellationToken, Task<IHostTransport>> _open;
        private readonly CancellationToken _runToken;
        private readonly Dictionary<Via, Task<IHostTransport>> _transports = new Dictionary<Via, Task<IHostTransport>>();

        /// <param name="open">Opens a transport (e.g. the transport pool of the SSH back end, or LocalTransport for local).</param>
        /// <param name="runToken">The run's token (Ctrl+C).</param>
        public CheckTransportPool(Func<Via, CancellationToken, Task<IHostTransport>> open, CancellationToken runToken)
        {
            _open = open;
            _runToken = runToken;
        }

        public Task<IHostTransport> GetAsync(Via via, CancellationToken cancellationToken)
        {
            Task<IHostTransport> task;
            lock (_transports)
            {
                if (!_transports.TryGetValue(via, out task!))
                {
                    task = Task.Run(() => _open(via, _runToken), _runToken);
                    _transports[via] = task;
                }
            }
            return task.WaitAsync(cancellationToken);
        }

        public void Dispose()
        {
            lock (_transports)
            {
                foreach (var task in _transports.Values)
                {
                    if (task.Status == TaskStatus.RanToCompletion) task.Result.Dispose();
                    else _ = task.ContinueWith(t => { if (t.Status == TaskStatus.RanToCompletion) t.Result.Dispose(); }, TaskScheduler.Default);
                }
                _transports.Clear();
            }
        }
    }
}
