using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>"It answers at its address": a TCP connection to the VM's address and port (SSH by default) succeeds.</summary>
    public static class VmReadiness
    {
        public static async Task WaitForTcpAsync(string name, IPAddress address, int port, TimeSpan timeout, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var started = DateTime.UtcNow;
            var activity = $"VM {name}";
            string? last = null;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var waited = DateTime.UtcNow - started;
                progress?.Report(new OperationProgress(activity, $"Waiting for {address}:{port} to answer ({waited.TotalSeconds:0} s of {timeout.TotalSeconds:0} s)",
                    (int)Math.Min(99, 100 * waited.TotalSeconds / Math.Max(1, timeout.TotalSeconds))));
                using (var client = new TcpClient(address.AddressFamily))
                using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    attempt.CancelAfter(TimeSpan.FromSeconds(3));
                    try
                    {
                        await client.ConnectAsync(address, port, attempt.Token).ConfigureAwait(false);
                        progress?.Report(new OperationProgress(activity, "Answering", 100, completed: true));
                        return;
                    }
                    catch (SocketException ex)
                    {
                        last = ex.SocketErrorCode.ToString();
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        last = "no answer within 3 s";
                    }
                }
                if (DateTime.UtcNow - started >= timeout)
                    throw VmErrors.Create(VmErrors.VmWaitTimeout, DeevErrorKind.OperationTimeout,
                        $"{name} did not answer at {address}:{port} within {timeout.TotalSeconds:0} s (last attempt: {last}).", name,
                        "Check the VM's console, that it took its reserved address (Get-DeevDhcpReservation), and the -WaitPort/-WaitTimeout values.");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
