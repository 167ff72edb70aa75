using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Opens SSH.NET connections with strict host-key checking and turns every way a connection can fail into a
    /// <see cref="TransportException"/> with a stable id. Shared by <see cref="SshTransport"/> and the key probe.
    /// </summary>
    internal static class SshConnector
    {
        /// <summary>
        /// Connects <paramref name="client"/>; the host key is checked on SSH.NET's thread against
        /// <paramref name="knownHosts"/> and anything but a recorded key aborts the key exchange, before authentication.
        /// </summary>
        public static async Task ConnectAsync(BaseClient client, string host, int port, KnownHostsFile knownHosts, TimeSpan timeout,
            Action<HostKey>? keySeen, CancellationToken cancellationToken)
        {
            TransportException? hostKeyFailure = null;
            client.HostKeyReceived += (_, e) =>
            {
                // Runs on SSH.NET's receive thread: decide and record only; never log or write from here.
                var key = new HostKey(KeyTypeOf(e.HostKey) ?? e.HostKeyName, e.HostKey);
                keySeen?.Invoke(key);
                var check = knownHosts.Check(host, port, key);
                hostKeyFailure = check.ToException();
                e.CanTrust = hostKeyFailure == null;
            };
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await client.ConnectAsync(limit.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (hostKeyFailure != null)
            {
                throw hostKeyFailure.WithInner(ex);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (!(ex is TransportException))
            {
                throw Map(ex, host, port, timeout);
            }
        }

        private static TransportException WithInner(this TransportException failure, Exception inner) =>
            new TransportException(failure.ErrorId, failure.Kind, failure.Message, failure.Target, inner) { RecommendedAction = failure.RecommendedAction };

        public static TransportException Map(Exception ex, string host, int port, TimeSpan timeout)
        {
            var endpoint = $"{host}:{port}";
            switch (ex)
            {
                case SshAuthenticationException _:
                    return new TransportException("AuthenticationFailed", DeevErrorKind.SecurityError,
                        $"{endpoint} refused the login: {ex.Message}", endpoint, ex)
                    { RecommendedAction = "Check the user name and that the key (or password) is authorised on the server." };
                case OperationCanceledException _:
                case SshOperationTimeoutException _:
                case SocketException s when s.SocketErrorCode == SocketError.TimedOut:
                    return new TransportException("ConnectTimeout", DeevErrorKind.OperationTimeout,
                        $"No SSH connection to {endpoint} within {timeout.TotalSeconds:0.#} s.", endpoint, ex);
                case SocketException s:
                    return new TransportException("ConnectionFailed", DeevErrorKind.ConnectionError,
                        $"Could not connect to {endpoint}: {Describe(s.SocketErrorCode, ex.Message)}.", endpoint, ex);
                default:
                    return new TransportException("ConnectionFailed", DeevErrorKind.ConnectionError,
                        $"The SSH connection to {endpoint} failed: {ex.Message}", endpoint, ex);
            }
        }

        private static string Describe(SocketError code, string message)
        {
            switch (code)
            {
                case SocketError.ConnectionRefused: return "connection refused (is sshd running on that port?)";
                case SocketError.HostUnreachable:
                case SocketError.NetworkUnreachable: return "host unreachable";
                case SocketError.HostNotFound:
                case SocketError.NoData: return "host name not found";
                default: return message;
            }
        }

        /// <summary>The key type named inside an SSH public key blob (its first string field), e.g. <c>ssh-rsa</c>.</summary>
        public static string? KeyTypeOf(byte[] blob)
        {
            if (blob.Length < 4) return null;
            var length = (blob[0] << 24) | (blob[1] << 16) | (blob[2] << 8) | blob[3];
            if (length <= 0 || length > 64 || blob.Length < 4 + length) return null;
            return Encoding.ASCII.GetString(blob, 4, length);
        }

        /// <summary>
        /// Host key algorithms for a connection: certificates are dropped (known_hosts here holds plain keys), and the
        /// key types already recorded for the host go first, so a server with several keys shows the one we know —
        /// the same preference OpenSSH applies.
        /// </summary>
        public static void PreferRecordedKeyTypes(ConnectionInfo info, KnownHostsFile knownHosts, string host, int port)
        {
            var recorded = new HashSet<string>(knownHosts.Find(host, port).Select(e => HostKey.Family(e.Key.KeyType)), StringComparer.Ordinal);
            var all = info.HostKeyAlgorithms.Where(a => a.Key.IndexOf("-cert-", StringComparison.Ordinal) < 0).ToList();
            info.HostKeyAlgorithms.Clear();
            foreach (var a in all.Where(a => recorded.Contains(HostKey.Family(a.Key))).Concat(all.Where(a => !recorded.Contains(HostKey.Family(a.Key)))))
            {
                info.HostKeyAlgorithms.Add(a.Key, a.Value);
            }
        }

        /// <summary>
        /// Puts the AES-GCM ciphers first. SSH.NET offers aes128-ctr with hmac-sha2-256 first: two passes over every
        /// byte, the MAC in managed code, on both ends. AES-GCM is one pass, done by the runtime's (hardware) AesGcm, and
        /// is what OpenSSH itself prefers after chacha20-poly1305; on bulk transfers it is the difference between the
        /// module and <c>ssh</c> (bench/Backup.Bench.ps1). Every cipher SSH.NET offers stays on the list, after them.
        /// </summary>
        public static void PreferAeadCiphers(ConnectionInfo info)
        {
            var all = info.Encryptions.ToList();
            info.Encryptions.Clear();
            foreach (var c in all.Where(c => c.Key.EndsWith("-gcm@openssh.com", StringComparison.Ordinal)).Concat(all.Where(c => !c.Key.EndsWith("-gcm@openssh.com", StringComparison.Ordinal))))
            {
                info.Encryptions.Add(c.Key, c.Value);
            }
        }

        /// <summary>
        /// Builds the login methods. Secrets go straight to SSH.NET; failures name the key file, never its content.
        /// </summary>
        public static AuthenticationMethod[] AuthenticationMethods(string user, SshTransportOptions options, string endpoint)
        {
            var methods = new List<AuthenticationMethod>();
            if (options.KeyFile != null)
            {
                PrivateKeyFile key;
                try
                {
                    key = options.KeyPassphrase == null ? new PrivateKeyFile(options.KeyFile) : new PrivateKeyFile(options.KeyFile, options.KeyPassphrase);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw new TransportException("AuthenticationFailed", DeevErrorKind.SecurityError,
                        $"Cannot read the SSH key file '{options.KeyFile}': {ex.Message}", endpoint, ex);
                }
                catch (Exception ex) when (ex is SshException || ex is ArgumentException || ex is FormatException || ex is InvalidOperationException || ex is NotSupportedException)
                {
                    // Only the type of the exception: SSH.NET's text about a key could quote parts of it.
                    throw new TransportException("AuthenticationFailed", DeevErrorKind.SecurityError,
                        $"The SSH key file '{options.KeyFile}' is not a usable OpenSSH private key (wrong format, or a wrong or missing pass phrase; {ex.GetType().Name}).", endpoint);
                }
                methods.Add(new PrivateKeyAuthenticationMethod(user, key));
            }
            if (options.Password != null)
            {
                methods.Add(new PasswordAuthenticationMethod(user, options.Password));
                // Servers with PAM ask for the password through keyboard-interactive; answer only password prompts.
                var interactive = new KeyboardInteractiveAuthenticationMethod(user);
                var password = options.Password;
                interactive.AuthenticationPrompt += (_, e) =>
                {
                    foreach (var prompt in e.Prompts)
                    {
                        if (prompt.Request.IndexOf("password", StringComparison.OrdinalIgnoreCase) >= 0) prompt.Response = password;
                    }
                };
                methods.Add(interactive);
            }
            if (methods.Count == 0)
            {
                throw new TransportException("AuthenticationFailed", DeevErrorKind.InvalidArgument,
                    $"No way to log in to {endpoint}: give a key file (access.identityFile, -KeyFile) or a credential.", endpoint);
            }
            return methods.ToArray();
        }
    }
}
