using System;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// How to log in over SSH and how long to wait. Built from the tier's <c>access</c> section or given explicitly
    /// (cmdlet parameters). There is deliberately no way to accept unknown host keys.
    /// </summary>
    public sealed class SshTransportOptions
    {
        public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);
        public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(60);

        /// <summary>OpenSSH private key file (ed25519, ECDSA or RSA), or null when logging in with a password.</summary>
        public string? KeyFile { get; set; }

        /// <summary>Pass phrase of <see cref="KeyFile"/>, if it has one. Never logged.</summary>
        public string? KeyPassphrase { get; set; }

        /// <summary>Password for password authentication (the cmdlets take it from a PSCredential). Never logged.</summary>
        public string? Password { get; set; }

        /// <summary>known_hosts file checked strictly.</summary>
        public string KnownHostsPath { get; set; } = KnownHostsFile.DefaultPath;

        public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

        /// <summary>Default limit of one command; <see cref="IHostTransport.RunAsync(string, System.Threading.CancellationToken, string?, TimeSpan?)"/> can override it.</summary>
        public TimeSpan CommandTimeout { get; set; } = DefaultCommandTimeout;

        /// <summary>
        /// How many commands may run at once on the one connection. OpenSSH allows 10 sessions per connection
        /// (MaxSessions); callers beyond this wait for a free channel instead of failing.
        /// </summary>
        public int MaxConcurrentCommands { get; set; } = 8;

        public static SshTransportOptions FromAccess(AccessSettings access) => new SshTransportOptions
        {
            KeyFile = access.IdentityFile,
            KnownHostsPath = access.KnownHostsFile,
            ConnectTimeout = access.ConnectTimeout,
            CommandTimeout = access.CommandTimeout,
        };

        public SshTransportOptions Clone() => (SshTransportOptions)MemberwiseClone();
    }
}
