using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>
    /// A private sshd on 127.0.0.1 under a temp folder, with an ed25519 and an RSA host key, an authorised client key,
    /// a key that is not authorised, and a known_hosts file recording the ed25519 host key.
    /// The fixture owns the listening socket, bound to 127.0.0.1:0 (sshd itself refuses <c>Port 0</c>, and choosing a
    /// free port for it to bind later races with everything else on the machine). Each accepted connection gets its own
    /// <c>sshd -i</c> (inetd mode) with the bytes relayed both ways (64 KiB at a time, half-closes passed on) between the
    /// socket and sshd's stdin/stdout; sshd's stderr is appended to <see cref="LogPath"/> directly, so a log line is in
    /// the file before sshd sends its next packet. Dispose stops accepting, kills every sshd it started (with its session children) and deletes the folder.
    /// </summary>
    public sealed class SshServerFixture : IDisposable
    {
        private const int RelayBufferSize = 64 * 1024;
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ConcurrentDictionary<Connection, byte> _connections = new ConcurrentDictionary<Connection, byte>();
        private readonly string _config;
        private readonly Thread _acceptLoop;

        public SshServerFixture()
        {
            Directory = TestShell.TempDirectory("deev-sshd-");
            System.IO.Directory.CreateDirectory("/run/sshd");   // sshd's privilege separation folder
            HostKeyEd25519 = TestShell.KeyPair(Directory, "host_ed25519");
            HostKeyRsa = TestShell.KeyPair(Directory, "host_rsa", "rsa");
            ClientKey = TestShell.KeyPair(Directory, "client_ed25519");
            WrongClientKey = TestShell.KeyPair(Directory, "wrong_ed25519");
            File.Copy(ClientKey + ".pub", Path.Combine(Directory, "authorized_keys"));
            User = Environment.UserName;
            LogPath = Path.Combine(Directory, "sshd.log");
            File.WriteAllText(LogPath, "");
            _config = Path.Combine(Directory, "sshd_config");
            // No Port/ListenAddress/PidFile: in inetd mode sshd serves the connection on its stdin/stdout.
            // SetEnv HOME: the session's login shell must not run this machine's ~/.bashrc (noise on stderr, races).
            var home = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "home")).FullName;
            File.WriteAllText(_config, string.Join("\n", $"SetEnv HOME={home}",
                $"HostKey {HostKeyEd25519}", $"HostKey {HostKeyRsa}",
                $"AuthorizedKeysFile {Path.Combine(Directory, "authorized_keys")}",
                "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password", "LogLevel VERBOSE", ""));
            CheckConfig();
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            KnownHostsPath = Path.Combine(Directory, "known_hosts");
            File.WriteAllText(KnownHostsPath, KnownHostsLine(HostKeyEd25519 + ".pub") + "\n");
            _acceptLoop = StartThread(AcceptLoop, "sshd accept");
        }

        public string Directory { get; }
        public int Port { get; }
        public string User { get; }
        public string HostKeyEd25519 { get; }
        public string HostKeyRsa { get; }
        public string ClientKey { get; }
        public string WrongClientKey { get; }
        public string KnownHostsPath { get; }
        public string LogPath { get; }
        public Via Via => Via.Ssh(User, "127.0.0.1", Port);

        /// <summary>The known_hosts line for a host public key file at this server's address.</summary>
        public string KnownHostsLine(string publicKeyFile)
        {
            var parts = File.ReadAllText(publicKeyFile).Split(' ');
            return $"[127.0.0.1]:{Port} {parts[0]} {parts[1]}";
        }

        public SshTransportOptions Options(string? knownHosts = null, string? key = null) => new SshTransportOptions
        {
            KeyFile = key ?? ClientKey,
            KnownHostsPath = knownHosts ?? KnownHostsPath,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            CommandTimeout = TimeSpan.FromSeconds(60),
        };

        /// <summary>How many logins sshd has accepted so far (one per SSH connection).</summary>
        public int AcceptedLogins => ReadLog().Split('\n').Count(l => l.Contains("Accepted publickey for", StringComparison.Ordinal));

        public string ReadLog()
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd();
        }

        /// <summary>A private file path in the fixture folder.</summary>
        public string NewPath(string name) => Path.Combine(Directory, Guid.NewGuid().ToString("N").Substring(0, 8) + "-" + name);

        /// <summary>sshd -t: a bad configuration fails here, with sshd's words, instead of in every connection.</summary>
        private void CheckConfig()
        {
            var psi = new ProcessStartInfo("/usr/sbin/sshd") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-t", "-f", _config }) psi.ArgumentList.Add(arg);
            using var check = Process.Start(psi)!;
            var stdout = check.StandardOutput.ReadToEndAsync();
            var error = check.StandardError.ReadToEnd();
            check.WaitForExit();
            if (check.ExitCode != 0) throw new InvalidOperationException($"sshd -t failed ({check.ExitCode}): {error}{stdout.Result}");
        }

        // The accept loop and the relays run on threads of their own, with blocking I/O: .NET's "async" reads and
        // writes on a process's stdin/stdout pipes block thread-pool threads, and the SSH client in the same test
        // process blocks pool threads too. A relay on the pool stalled until the pool grew (the first 50 MB took
        // seconds instead of a quarter of one); on its own threads it moves bytes whatever the tests do to the pool.
        private void AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try { socket = _listener.AcceptSocket(); }
                catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException || ex is InvalidOperationException) { return; }   // Dispose stopped the listener
                StartThread(() => Serve(socket), "sshd relay " + socket.RemoteEndPoint);
            }
        }

        private static Thread StartThread(Action body, string name)
        {
            var thread = new Thread(() => body()) { IsBackground = true, Name = name };
            thread.Start();
            return thread;
        }

        /// <summary>One connection: a fresh <c>sshd -i</c>, bytes relayed both ways, half-closes passed on.</summary>
        private void Serve(Socket socket)
        {
            var connection = new Connection(socket);
            _connections[connection] = 0;
            try
            {
                socket.NoDelay = true;
                // exec: the Process is sshd itself, so killing its tree needs no shell in between; 2>>: sshd's log goes
                // straight to the file (O_APPEND, one write per line), in order with what it sends to the client.
                var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add("exec /usr/sbin/sshd -i -e -f \"$1\" 2>>\"$2\"");
                psi.ArgumentList.Add("sh");
                psi.ArgumentList.Add(_config);
                psi.ArgumentList.Add(LogPath);
                Process sshd;
                lock (connection)
                {
                    if (_stop.IsCancellationRequested) return;   // Dispose has run or is running: start nothing more
                    sshd = connection.Sshd = Process.Start(psi)!;
                }
                var toSshd = sshd.StandardInput.BaseStream;
                var fromSshd = sshd.StandardOutput.BaseStream;

                // Client → sshd; when the client half-closes (or the socket fails), sshd's stdin ends.
                var upstream = StartThread(() =>
                {
                    var up = new byte[RelayBufferSize];
                    try
                    {
                        int n;
                        while ((n = socket.Receive(up)) > 0) toSshd.Write(up, 0, n);
                    }
                    catch (Exception ex) when (IsRelayEnd(ex)) { }
                    finally { try { toSshd.Dispose(); } catch (Exception ex) when (IsRelayEnd(ex)) { } }
                }, "sshd relay up");

                // sshd → client; when sshd's stdout ends, the socket's send side is shut down (FIN after the last byte).
                var down = new byte[RelayBufferSize];
                try
                {
                    int n;
                    while ((n = fromSshd.Read(down, 0, down.Length)) > 0) socket.Send(down, 0, n, SocketFlags.None);
                }
                catch (Exception ex) when (IsRelayEnd(ex)) { }
                finally { try { socket.Shutdown(SocketShutdown.Send); } catch (Exception ex) when (IsRelayEnd(ex)) { } }

                upstream.Join();
                // Both directions ended: sshd has closed its stdout and the client its side; sshd exits on its own.
                sshd.WaitForExit(10_000);
            }
            catch (Exception ex) when (IsRelayEnd(ex) || ex is System.ComponentModel.Win32Exception)
            {
            }
            finally
            {
                _connections.TryRemove(connection, out _);
                connection.Dispose();
            }
        }

        private static bool IsRelayEnd(Exception ex) =>
            ex is IOException || ex is SocketException || ex is ObjectDisposedException || ex is OperationCanceledException || ex is InvalidOperationException;

        /// <summary>An accepted socket and the sshd serving it.</summary>
        private sealed class Connection : IDisposable
        {
            public Connection(Socket socket) => Socket = socket;

            public Socket Socket { get; }
            public Process? Sshd { get; set; }

            /// <summary>Kills sshd with every process it started (privilege-separated child, session shells), closes the socket.</summary>
            public void Dispose()
            {
                Process? sshd;
                lock (this) sshd = Sshd;
                if (sshd != null)
                {
                    try
                    {
                        if (!sshd.HasExited) sshd.Kill(entireProcessTree: true);
                        sshd.WaitForExit(5000);
                    }
                    catch (Exception ex) when (ex is InvalidOperationException || ex is System.ComponentModel.Win32Exception)
                    {
                    }
                }
                Socket.Dispose();
                sshd?.Dispose();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _acceptLoop.Join(TimeSpan.FromSeconds(5));
            foreach (var connection in _connections.Keys) connection.Dispose();
            try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Not parallel: these tests measure the process's managed memory while streaming and count sshd connections,
    /// which other test classes running at the same time would distort. xunit runs such a collection alone.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class SshServerCollection : ICollectionFixture<SshServerFixture>
    {
        public const string Name = "sshd";
    }
}
