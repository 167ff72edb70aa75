using System;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// Records what the TLS handshake saw and judges it afterwards, so the check can say exactly what is wrong
    /// (expired, wrong name, untrusted) instead of the handshake's generic failure. <see cref="Record"/> only records;
    /// <see cref="Problem"/> decides, still inside the handshake, before any request is sent.
    /// </summary>
    internal sealed class TlsVerdict
    {
        private readonly X509Certificate2Collection? _trustedRoots;
        private SslPolicyErrors _errors;
        private string _chainStatus = "";

        public TlsVerdict(string name, X509Certificate2Collection? trustedRoots)
        {
            Name = name;
            _trustedRoots = trustedRoots;
        }

        public string Name { get; }
        public X509Certificate2? Certificate { get; private set; }

        public bool Record(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            Certificate = certificate == null ? null : new X509Certificate2(certificate);
            _errors = errors;
            if (chain != null)
            {
                _chainStatus = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            }
            return true;
        }

        /// <summary>Why the certificate is not acceptable, or null when it is.</summary>
        public string? Problem(DateTime utcNow)
        {
            var cert = Certificate;
            if (cert == null || (_errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return $"{Name} sent no TLS certificate.";
            var notAfter = cert.NotAfter.ToUniversalTime();
            var notBefore = cert.NotBefore.ToUniversalTime();
            if (utcNow > notAfter) return $"The certificate of {Name} expired on {notAfter:yyyy-MM-dd HH:mm} UTC ({Names(cert)}).";
            if (utcNow < notBefore) return $"The certificate of {Name} is not valid before {notBefore:yyyy-MM-dd HH:mm} UTC.";
            if ((_errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return $"The certificate does not match the name {Name}: it is for {Names(cert)}.";
            }
            if ((_errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && !ChainsToTrustedRoot(cert))
            {
                var why = _chainStatus.Length > 0 ? _chainStatus : "its issuer is not trusted";
                return $"The certificate of {Name} is not trusted ({why}); issuer: {cert.Issuer}.";
            }
            return null;
        }

        /// <summary>True when the certificate chains to one of the extra trusted roots (a site or lab CA).</summary>
        private bool ChainsToTrustedRoot(X509Certificate2 cert) =>
            _trustedRoots != null && _trustedRoots.Count > 0 && Http.TlsTrust.ChainEndsIn(cert, _trustedRoots, out _);

        /// <summary>The names a certificate is for: its DNS subject alternative names, else its subject.</summary>
        public static string Names(X509Certificate2 cert)
        {
            var san = cert.Extensions.Cast<X509Extension>().FirstOrDefault(e => e.Oid?.Value == "2.5.29.17");
            var text = san?.Format(false);
            return string.IsNullOrWhiteSpace(text) ? cert.Subject : text!;
        }
    }
}
