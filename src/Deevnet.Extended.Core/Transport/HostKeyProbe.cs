using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Renci.SshNet;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>What a server offered as its host key, and what known_hosts says about it.</summary>
    public sealed class HostKeyReport
    {
        public HostKeyReport(string hostName, int port, HostKeyCheck check)
        {
            HostName = hostName;
            Port = port;
            Check = check;
        }

        public string HostName { get; }
        public int Port { get; }
        public string KeyType => Check.Offered.KeyType;
        public string Fingerprint => Check.Offered.Fingerprint;
        public HostKeyStatus Status => Check.Status;

        /// <summary>Fingerprint recorded in known_hosts when it differs from the offered one (Changed), else null.</summary>
        public string? RecordedFingerprint => Check.Status == HostKeyStatus.Changed ? Check.Recorded!.Key.Fingerprint : null;

        /// <summary>The known_hosts line that matched or conflicts, or null.</summary>
        public int? KnownHostsLine => Check.Recorded?.LineNumber;
        public string KnownHostsPath => Check.KnownHostsPath;
        public HostKey Key => Check.Offered;

        /// <summary>
        /// The offered key is trusted only through a first-boot line: the key the module handed to a rebuilt VM
        /// (or the operator accepted for its first boot), not yet the host's lasting key.
        /// </summary>
        public bool IsFirstBootKey => Check.Status == HostKeyStatus.Known && Check.Recorded!.IsFirstBoot;

        /// <summary>Fingerprints of the lasting keys known_hosts records for the host (first-boot lines not counted).</summary>
        public IReadOnlyList<string> RecordedFingerprints => Check.ForHost.Where(e => !e.IsFirstBoot).Select(e => e.Key.Fingerprint).Distinct().ToList();

        /// <summary>Fingerprints of the first-boot keys known_hosts trusts for the host until its lasting key is back.</summary>
        public IReadOnlyList<string> FirstBootFingerprints => Check.ForHost.Where(e => e.IsFirstBoot).Select(e => e.Key.Fingerprint).Distinct().ToList();
        internal HostKeyCheck Check { get; }

        /// <summary>The error a transport would raise for this key (HostKeyUnknown, HostKeyMismatch), or null when it is known.</summary>
        public TransportException? ToException() => Check.ToException();
    }

    /// <summary>
    /// Reads a server's host key without logging in: the key exchange is run and then refused, so no
    /// credentials are offered to a server whose key has not been verified.
    /// </summary>
    public static class HostKeyProbe
    {
        public static async Task<HostKeyReport> GetAsync(string host, int port, string knownHostsPath, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var knownHosts = KnownHostsFile.Load(knownHostsPath);
            // "none" authentication is never reached: the host key callback below always refuses.
            var info = new ConnectionInfo(host, port, "deevnet-hostkey-probe", new NoneAuthenticationMethod("deevnet-hostkey-probe")) { Timeout = timeout };
            SshConnector.PreferRecordedKeyTypes(info, knownHosts, host, port);
            using var client = new SshClient(info);
            HostKey? seen = null;
            client.HostKeyReceived += (_, e) =>
            {
                seen = new HostKey(SshConnector.KeyTypeOf(e.HostKey) ?? e.HostKeyName, e.HostKey);
                e.CanTrust = false;
            };
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await client.ConnectAsync(limit.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (seen == null && !cancellationToken.IsCancellationRequested)
            {
                throw SshConnector.Map(ex, host, port, timeout);
            }
            catch (Exception) when (seen != null)
            {
                // Expected: we refused the key on purpose.
            }
            if (seen == null)
            {
                throw new TransportException("ConnectionFailed", DeevErrorKind.ConnectionError, $"{host}:{port} completed a login without showing a host key.", $"{host}:{port}");
            }
            return new HostKeyReport(host, port, knownHosts.Check(host, port, seen));
        }
    }
}
