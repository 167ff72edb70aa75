using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>Opens TCP connections that end when the token fires.</summary>
    public static class TcpProbe
    {
        /// <summary>Connects to the first address that accepts; throws <see cref="CheckFailedException"/> with why not.</summary>
        public static async Task<Socket> ConnectAsync(IPAddress[] addresses, int port, CancellationToken cancellationToken)
        {
            string? why = null;
            foreach (var address in addresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
                    return socket;
                }
                catch (OperationCanceledException)
                {
                    socket.Dispose();
                    throw;
                }
                catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException)
                {
                    socket.Dispose();
                    cancellationToken.ThrowIfCancellationRequested();
                    why = ex is SocketException s ? Describe(s.SocketErrorCode, s.Message) : ex.Message;
                    why = $"{address}:{port}: {why}";
                }
            }
            throw new CheckFailedException("Cannot connect to " + (why ?? $"port {port}: no address"));
        }

        public static string Describe(SocketError code, string message)
        {
            switch (code)
            {
                case SocketError.ConnectionRefused: return "connection refused (port closed)";
                case SocketError.HostUnreachable: return "host unreachable";
                case SocketError.NetworkUnreachable: return "network unreachable";
                case SocketError.TimedOut: return "connection timed out";
                default: return message;
            }
        }

        /// <summary>A <c>tcp</c> check: the port accepts a connection.</summary>
        public static async Task<CheckOutcome> CheckAsync(CheckResolver resolver, string host, int port, CancellationToken cancellationToken)
        {
            var addresses = await resolver.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
            using var socket = await ConnectAsync(addresses, port, cancellationToken).ConfigureAwait(false);
            return CheckOutcome.Pass($"{socket.RemoteEndPoint} accepts connections.");
        }
    }
}
