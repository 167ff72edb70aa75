using System;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Dhcp.OPNsense
{
    /// <summary>
    /// How the module trusts a router's certificate (tier keys <c>tlsFingerprint</c>, <c>caFile</c>, <c>skipTlsVerify</c>):
    /// a pinned SHA-256 fingerprint of the server certificate, a CA file the chain must end in (plus a matching name),
    /// the system's trust store, or — only when asked, loudly — nothing.
    /// </summary>
    public sealed class TlsTrust
    {
        private readonly byte[]? _pin;
        private readonly X509Certificate2? _ca;

        private TlsTrust(byte[]? pin, X509Certificate2? ca, bool skip)
        {
            _pin = pin;
            _ca = ca;
            SkipVerify = skip;
        }

        public bool SkipVerify { get; }

        public static TlsTrust System { get; } = new TlsTrust(null, null, false);

        public static TlsTrust Skip { get; } = new TlsTrust(null, null, true);

        /// <summary>A fingerprint as <c>ssl</c>/<c>openssl x509 -fingerprint -sha256</c> print it: hex, colons optional, any case.</summary>
        public static TlsTrust Pinned(string fingerprint)
        {
            var hex = new string(fingerprint.Where(c => c != ':' && !char.IsWhiteSpace(c)).ToArray());
            if (hex.StartsWith("sha256/", StringComparison.OrdinalIgnoreCase)) hex = hex.Substring(7);
            if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
                throw new DeevException("TlsFingerprintInvalid", DeevErrorKind.InvalidArgument, $"'{fingerprint}' is not a SHA-256 fingerprint (64 hex digits).", fingerprint);
            var bytes = new byte[32];
            for (var i = 0; i < 32; i++) bytes[i] = Convert.ToByte(hex.Substring(i * 2, 2), 16);
            return new TlsTrust(bytes, null, false);
        }

        public static TlsTrust FromCaFile(string path)
        {
            try
            {
                return new TlsTrust(null, new X509Certificate2(File.ReadAllBytes(path)), false);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is CryptographicException)
            {
                throw new DeevException("TlsCaFileInvalid", DeevErrorKind.InvalidArgument, $"Cannot read the CA certificate '{path}': {ex.Message}", path, ex);
            }
        }

        /// <summary>SHA-256 over the certificate's DER bytes, colon-separated uppercase hex (what operators compare).</summary>
        public static string FingerprintOf(X509Certificate certificate)
        {
            using var sha = SHA256.Create();
            return string.Join(":", sha.ComputeHash(certificate.GetRawCertData()).Select(b => b.ToString("X2")));
        }

        /// <summary>The decision for one handshake; used as the HttpClientHandler's validation callback.</summary>
        public bool Validate(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (SkipVerify) return true;
            if (certificate == null) return false;
            if (_pin != null)
            {
                using var sha = SHA256.Create();
                return sha.ComputeHash(certificate.RawData).SequenceEqual(_pin);
            }
            if (_ca != null)
            {
                if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
                using var own = new X509Chain();
                own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                own.ChainPolicy.ExtraStore.Add(_ca);
                own.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                if (!own.Build(certificate)) return false;
                var root = own.ChainElements[own.ChainElements.Count - 1].Certificate;
                return root.RawData.SequenceEqual(_ca.RawData);
            }
            return errors == SslPolicyErrors.None;
        }
    }
}
