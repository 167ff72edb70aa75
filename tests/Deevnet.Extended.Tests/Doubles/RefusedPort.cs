using System;
using System.Net;
using System.Net.Sockets;

namespace Deevnet.Extended.Tests.Doubles
{
    /// <summary>
    /// A loopback TCP port that refuses connections for as long as this object lives: a socket bound to 127.0.0.1:0
    /// that never listens, so a connection attempt gets a reset ("connection refused") and no other socket can take
    /// the port meanwhile. (A listener started and stopped to find a "closed" port promises nothing: by the time the
    /// test connects, anything may listen there.)
    /// </summary>
    internal sealed class RefusedPort : IDisposable
    {
        private readonly Socket _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public RefusedPort()
        {
            _socket.ExclusiveAddressUse = true;   // no SO_REUSEADDR: nobody else binds this port while we hold it
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        }

        public int Port { get; }

        public void Dispose() => _socket.Dispose();
    }
}
