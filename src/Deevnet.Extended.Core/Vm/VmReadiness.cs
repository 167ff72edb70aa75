using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// "It answers at its address": a TCP connection to the host's address and port (SSH by default) succeeds, tried
    /// with the checks' own probe (<see cref="TcpProbe"/>) until it does or the time is up.
    /// </summary>
    public static class VmReadiness
    {
        private static readonly TimeSpan Attempt = TimeSpan.FromSeconds(3);

        public static Task WaitForTcpAsync(string name, IPAddress address, int port, TimeSpan timeout, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
            WaitForTcpAsync(name, address.ToString(), port, timeout, progress, cancellationToken);

        /// <summary>Waits until <paramref name="host"/> (an address or a name) accepts TCP on <paramref name="port"/>; <c>VmWaitTimeout</c> when the time is up.</summary>
        public static async Task WaitForTcpAsync(string name, string host, int port, TimeSpan timeout, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var started = DateTime.UtcNow;
            var activity = $"Waiting for {name}";
            string? last = null;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var waited = DateTime.UtcNow - started;
                progress?.Report(new OperationProgress(activity, $"Waiting for {host}:{port} to answer ({waited.TotalSeconds:0} s of {timeout.TotalSeconds:0} s)",
                    (int)Math.Min(99, 100 * waited.TotalSeconds / Math.Max(1, timeout.TotalSeconds))));
                var limit = timeout < Attempt ? timeout : Attempt;
                using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    attempt.CancelAfter(limit);
                    try
                    {
                        var addresses = IPAddress.TryParse(host, out var ip) ? new[] { ip } : await System.Net.Dns.GetHostAddressesAsync(host, attempt.Token).ConfigureAwait(false);
                        using var socket = await TcpProbe.ConnectAsync(addresses, port, attempt.Token).ConfigureAwait(false);
                        progress?.Report(new OperationProgress(activity, "Answering", 100, completed: true));
                        return;
                    }
                    catch (CheckFailedException ex)
                    {
                        last = ex.Message;
                    }
                    catch (SocketException ex)
                    {
                        last = $"{host} does not resolve: {ex.Message}";
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        last = $"no answer within {limit.TotalSeconds:0} s";
                    }
                }
                if (DateTime.UtcNow - started >= timeout)
                {
                    progress?.Report(new OperationProgress(activity, "Gave up", 100, completed: true));
                    throw VmErrors.Create(VmErrors.VmWaitTimeout, DeevErrorKind.OperationTimeout,
                        $"{name} did not answer at {host}:{port} within {timeout.TotalSeconds:0} s (last attempt: {last}).", name,
                        "Check the VM's console and that it took its reserved address (Get-DeevDhcpReservation); allow more time with -TimeoutSec (Wait-DeevMgmtHost) or -WaitTimeoutSec (New-DeevMgmtVm).");
                }
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
