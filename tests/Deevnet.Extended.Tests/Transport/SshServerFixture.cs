using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>
    /// A private sshd on 127.0.0.1 (free port ≥ 2200) under a temp folder, with an ed25519 and an RSA host key, an
    /// authorised client key, a key that is not authorised, and a known_hosts file recording the ed25519 host key.
    /// Dispose kills sshd (and its session children) and deletes the folder.
    /// </summary>
    public sealed class SshServerFixture : IDisposable
    {
        private readonly Process _sshd;

        public SshServerFixture()
        {
            Directory = TestShell.TempDirectory("deev-sshd-");
            System.IO.Directory.CreateDirectory("/run/sshd");   // sshd's privilege separation folder
            HostKeyEd25519 = TestShell.KeyPair(Directory, "host_ed25519");
            HostKeyRsa = TestShell.KeyPair(Directory, "host_rsa", "rsa");
            ClientKey = TestShell.KeyPair(Directory, "client_ed25519");
            WrongClientKey = TestShell.KeyPair(Directory, "wrong_ed25519");
            File.Copy(ClientKey + ".pub", Path.Combine(Directory, "authorized_keys"));
            Port = FreePort();
            User = Environment.UserName;
            LogPath = Path.Combine(Directory, "sshd.log");
            var config = Path.Combine(Directory, "sshd_config");
            File.WriteAllText(config, string.Join("\n",
                $"Port {Port}", "ListenAddress 127.0.0.1", $"HostKey {HostKeyEd25519}", $"HostKey {HostKeyRsa}",
                $"PidFile {Path.Combine(Directory, "sshd.pid")}", $"AuthorizedKeysFile {Path.Combine(Directory, "authorized_keys")}",
                "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password", "LogLevel VERBOSE", "MaxStartups 50", "") );
            KnownHostsPath = Path.Combine(Directory, "known_hosts");
            File.WriteAllText(KnownHostsPath, KnownHostsLine(HostKeyEd25519 + ".pub") + "\n");
            // exec: the Process is sshd itself, so killing it needs no shell in between.
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("exec /usr/sbin/sshd -D -e -f \"$1\" 2>>\"$2\"");
            psi.ArgumentList.Add("sh");
            psi.ArgumentList.Add(config);
            psi.ArgumentList.Add(LogPath);
            _sshd = Process.Start(psi)!;
            WaitUntilListening();
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

        private void WaitUntilListening()
        {
            for (var i = 0; i < 100; i++)
            {
                if (_sshd.HasExited) throw new InvalidOperationException("sshd exited: " + (File.Exists(LogPath) ? ReadLog() : ""));
                try
                {
                    using var probe = new TcpClient();
                    probe.Connect(IPAddress.Loopback, Port);
                    return;
                }
                catch (SocketException)
                {
                    Thread.Sleep(50);
                }
            }
            throw new InvalidOperationException("sshd did not listen on port " + Port);
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;   // ephemeral ports are ≥ 32768, well above 2200
        }

        public void Dispose()
        {
            try
            {
                if (!_sshd.HasExited) _sshd.Kill(entireProcessTree: true);
                _sshd.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            _sshd.Dispose();
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
