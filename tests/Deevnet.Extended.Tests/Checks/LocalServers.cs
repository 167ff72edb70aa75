using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Tests.Checks
{
    /// <summary>
    /// A tiny HTTP(S) server on 127.0.0.1 for check tests: answers every request with a fixed status and body, or
    /// (silent) accepts and never answers, to play a hung server.
    /// </summary>
    internal sealed class TinyHttpServer : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        public TinyHttpServer(int status, string body, X509Certificate2? certificate = null, bool silent = false, bool chunked = false)
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client;
                    try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                    catch { return; }
                    _ = Task.Run(() => Serve(client, status, body, certificate, silent, chunked));
                }
            });
        }

        public int Port { get; }

        private async Task Serve(TcpClient client, int status, string body, X509Certificate2? certificate, bool silent, bool chunked)
        {
            using (client)
            {
                try
                {
                    Stream stream = client.GetStream();
                    if (certificate != null)
                    {
                        var ssl = new SslStream(stream);
                        await ssl.AuthenticateAsServerAsync(certificate);
                        stream = ssl;
                    }
                    var buffer = new byte[8192];
                    var seen = new StringBuilder();
                    while (!seen.ToString().Contains("\r\n\r\n"))
                    {
                        var n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0) return;
                        seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }
                    if (silent)
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                        return;
                    }
                    var bytes = Encoding.UTF8.GetBytes(body);
                    var head = $"HTTP/1.1 {status} Test\r\nContent-Type: text/plain\r\n" +
                               (chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {bytes.Length}\r\n") + "\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                    if (chunked)
                    {
                        // Two chunks and keep the connection open: the reader must stop at the last chunk, not at close.
                        var half = bytes.Length / 2;
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{half:x}\r\n"));
                        await stream.WriteAsync(bytes.AsMemory(0, half));
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"\r\n{bytes.Length - half:x}\r\n"));
                        await stream.WriteAsync(bytes.AsMemory(half));
                        await stream.WriteAsync(Encoding.ASCII.GetBytes("\r\n0\r\n\r\n"));
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }
                    else
                    {
                        await stream.WriteAsync(bytes);
                    }
                }
                catch
                {
                    // The client went away or the test ended; nothing to report from a test server.
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }

    /// <summary>A UDP socket that swallows DNS queries: a DNS server that does not answer.</summary>
    internal sealed class SilentUdpServer : IDisposable
    {
        private readonly UdpClient _udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;
        public void Dispose() => _udp.Dispose();
    }

    /// <summary>Certificates made with openssl in a temporary folder: a CA and leaf certificates it signs.</summary>
    public sealed class TestCertificates : IDisposable
    {
        public TestCertificates()
        {
            Dir = Path.Combine(Path.GetTempPath(), "deev-certs-" + Guid.NewGuid().ToString("n"));
            Directory.CreateDirectory(Dir);
            Openssl($"req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 -subj /CN=Deevnet-Test-CA");
            Openssl($"req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key -out other-ca.pem -days 30 -subj /CN=Other-CA");
        }

        public string Dir { get; }
        public string CaFile => Path.Combine(Dir, "ca.pem");

        /// <summary>A leaf certificate for <paramref name="dnsName"/>, valid <paramref name="days"/> (-1: expired yesterday).</summary>
        public X509Certificate2 Leaf(string id, string dnsName, int days, string ca = "ca")
        {
            Openssl($"req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {id}.key -out {id}.csr -subj /CN={dnsName}");
            File.WriteAllText(Path.Combine(Dir, id + ".ext"), $"subjectAltName=DNS:{dnsName}\n");
            Openssl($"x509 -req -in {id}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -days {days} -extfile {id}.ext -out {id}.pem");
            Openssl($"pkcs12 -export -in {id}.pem -inkey {id}.key -out {id}.p12 -passout pass:test");
            return X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(Dir, id + ".p12"), "test");
        }

        private void Openssl(string args)
        {
            var psi = new ProcessStartInfo("openssl", args) { WorkingDirectory = Dir, RedirectStandardError = true, RedirectStandardOutput = true };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"openssl {args} failed: {err}");
        }

        public void Dispose() => Directory.Delete(Dir, true);
    }

    /// <summary>
    /// dnsmasq as a DNS server on 127.0.0.1 with the records given (dnsmasq options), for DNS check tests.
    /// dnsmasq cannot bind port 0 (<c>--port=0</c> turns DNS off) nor take a socket handed over, so the port is one the
    /// OS just gave out and dnsmasq's own bind decides: dnsmasq binds UDP and TCP on it without SO_REUSEPORT and exits
    /// when either is taken ("Address already in use"); then it starts again on another port. Once it answers, the
    /// port is dnsmasq's: no other socket can bind it while dnsmasq holds it.
    /// </summary>
    internal sealed class TestDnsServer : IDisposable
    {
        private const int Attempts = 10;
        private readonly Process _process;

        public TestDnsServer(params string[] records)
        {
            var failures = new List<string>();
            for (var attempt = 0; attempt < Attempts; attempt++)
            {
                var port = CandidatePort();
                var process = Start(port, records);
                var (ready, error) = WaitUntilAnswering(process, port);
                if (ready)
                {
                    Port = port;
                    _process = process;
                    return;
                }
                Stop(process);
                if (!error.Contains("Address already in use", StringComparison.Ordinal))
                    throw new InvalidOperationException($"dnsmasq on port {port}: {error}");
                failures.Add($"port {port}: {error.Trim()}");
            }
            throw new InvalidOperationException($"dnsmasq found no free port in {Attempts} attempts: " + string.Join("; ", failures));
        }

        public int Port { get; }
        public IPEndPoint EndPoint => new IPEndPoint(IPAddress.Loopback, Port);

        /// <summary>A port that was free for UDP a moment ago; only dnsmasq's own bind (checked by the caller) makes it ours.</summary>
        private static int CandidatePort()
        {
            using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            return ((IPEndPoint)u.Client.LocalEndPoint!).Port;
        }

        private static Process Start(int port, string[] records)
        {
            var args = $"--keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 --port={port} --user=root " + string.Join(" ", records);
            return Process.Start(new ProcessStartInfo("dnsmasq", args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        }

        /// <summary>Ready when it answers on its port (a query for a name it does not know still gets an answer); else dnsmasq's error.</summary>
        private static (bool Ready, string Error) WaitUntilAnswering(Process process, int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(5);
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            while (DateTime.UtcNow < deadline)
            {
                if (process.HasExited) return (false, "dnsmasq exited: " + process.StandardError.ReadToEnd());
                var query = new byte[] { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, (byte)'x', 0, 0, 1, 0, 1 };
                udp.Send(query, query.Length, new IPEndPoint(IPAddress.Loopback, port));
                if (!udp.Client.Poll(100_000, SelectMode.SelectRead)) continue;
                try
                {
                    var from = new IPEndPoint(IPAddress.Any, 0);
                    var answer = udp.Receive(ref from);
                    if (from.Port == port && answer.Length >= 2 && answer[0] == 0x12 && answer[1] == 0x34) return (true, "");
                }
                catch (SocketException)
                {
                    // ICMP port unreachable: nothing listens there yet.
                }
            }
            return (false, "dnsmasq did not answer on port " + port);
        }

        private static void Stop(Process process)
        {
            try { process.Kill(); process.WaitForExit(2000); } catch (InvalidOperationException) { }
            process.Dispose();
        }

        public void Dispose() => Stop(_process);
    }
}
