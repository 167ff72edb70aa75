using System;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Http
{
    /// <summary>
    /// The one certificate trust policy of every REST back end (tier keys <c>tlsFingerprint</c>, <c>caFile</c>,
    /// <c>skipTlsVerify</c>), strongest first: a pinned SHA-256 fingerprint of the leaf, else a CA file the chain must
    /// end in (and the name must match), else the system store. <c>skipTlsVerify</c> counts only when nothing stronger
    /// is set, and then always with a warning; beside a pin or CA file it is ignored, with a warning saying so.
    /// A refusal remembers why, so the error can name the fingerprint seen, the chain problem or the name.
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

        /// <summary>Why the last handshake was refused, or null.</summary>
        public string? Refusal { get; private set; }

        public static TlsTrust System => new TlsTrust(null, null, false);

        /// <summary>The policy a tier section asks for; warns through <paramref name="log"/> when verification is off or a skip is overruled.</summary>
        public static TlsTrust FromSpec(BackendSpec spec, IOperationLog log)
        {
            var pinText = spec.Get("tlsFingerprint");
            var caFile = spec.Get("caFile");
            var skip = string.Equals(spec.Get("skipTlsVerify"), "true", StringComparison.OrdinalIgnoreCase);
            var endpoint = spec.Get("endpoint") ?? spec.Section;
            if (pinText != null || caFile != null)
            {
                if (skip)
                    log.Warning($"{spec.Section}: skipTlsVerify is ignored because {(pinText != null ? "tlsFingerprint" : "caFile")} is set; " +
                                $"the certificate of {endpoint} is still checked. Remove skipTlsVerify from the tier file.");
                if (pinText != null)
                    return new TlsTrust(ParsePin(pinText) ?? throw new DeevException("TlsFingerprintInvalid", DeevErrorKind.InvalidArgument,
                        $"{spec.Section}.tlsFingerprint '{pinText}' is not a SHA-256 fingerprint.", spec.Section), null, false);
                return new TlsTrust(null, LoadCa(caFile!, spec.Section), false);
            }
            if (skip)
            {
                log.Warning($"TLS VERIFICATION IS OFF for {spec.Section} ({endpoint}, skipTlsVerify: true): anyone on the path can read the " +
                            "credential and change what this back end manages. Pin the certificate with tlsFingerprint or name a caFile instead.");
                return new TlsTrust(null, null, true);
            }
            return System;
        }

        /// <summary>
        /// A SHA-256 fingerprint in any common notation: hex with or without <c>:</c>, spaces or <c>-</c> (any case), base64
        /// (padded or not), each optionally prefixed <c>sha256:</c>, <c>sha256/</c>, <c>sha256//</c> or <c>sha256=</c>. Null when it is none.
        /// </summary>
        public static byte[]? ParsePin(string text)
        {
            var t = text.Trim();
            foreach (var prefix in new[] { "sha256//", "sha256/", "sha256:", "sha256=", "sha-256:" })
                if (t.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) { t = t.Substring(prefix.Length); break; }
            var hex = new string(t.Where(c => c != ':' && c != '-' && !char.IsWhiteSpace(c)).ToArray());
            if (hex.Length == 64 && hex.All(Uri.IsHexDigit)) return Convert.FromHexString(hex);
            var b64 = t.TrimEnd('=');
            if (b64.Length != 43) return null;
            try
            {
                var bytes = Convert.FromBase64String(b64 + "=");
                return bytes.Length == 32 ? bytes : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        /// <summary>SHA-256 over the certificate's DER bytes as colon-separated uppercase hex (what <c>openssl x509 -fingerprint -sha256</c> prints).</summary>
        public static string FingerprintOf(X509Certificate certificate) =>
            string.Join(":", SHA256.HashData(certificate.GetRawCertData()).Select(b => b.ToString("X2")));

        /// <summary>True when <paramref name="certificate"/>'s chain, built with <paramref name="roots"/> as extra roots, ends in one of them.</summary>
        public static bool ChainEndsIn(X509Certificate2 certificate, X509Certificate2Collection roots, out string why)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            chain.ChainPolicy.ExtraStore.AddRange(roots);
            if (!chain.Build(certificate))
            {
                why = $"the chain of the certificate (issued by '{certificate.Issuer}') does not build: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
                return false;
            }
            var root = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
            why = $"the certificate is issued by '{certificate.Issuer}' and its chain ends in '{root.Subject}', not in the CA of caFile ('{roots[0].Subject}')";
            return roots.Cast<X509Certificate2>().Any(r => r.RawData.AsSpan().SequenceEqual(root.RawData));
        }

        /// <summary>The decision for one handshake (the handler's validation callback); records <see cref="Refusal"/>.</summary>
        public bool Validate(string host, X509Certificate? certificate, SslPolicyErrors errors)
        {
            Refusal = null;
            if (SkipVerify) return true;
            if (certificate == null) return Refuse("the server sent no certificate");
            using var cert = new X509Certificate2(certificate);
            if (_pin != null)
            {
                return SHA256.HashData(cert.RawData).AsSpan().SequenceEqual(_pin)
                    ? true
                    : Refuse($"the server certificate's SHA-256 fingerprint is {FingerprintOf(cert)}, not the pinned tlsFingerprint");
            }
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                return Refuse($"the certificate is not issued to {host} (it is for {cert.GetNameInfo(X509NameType.DnsName, false)})");
            if (_ca != null)
                return ChainEndsIn(cert, new X509Certificate2Collection(_ca), out var why) ? true : Refuse(why);
            return errors == SslPolicyErrors.None ? true : Refuse($"the certificate is not trusted by this system ({errors}); set tlsFingerprint or caFile");
        }

        private bool Refuse(string why)
        {
            Refusal = why;
            return false;
        }

        private static X509Certificate2 LoadCa(string path, string section)
        {
            try
            {
                return new X509Certificate2(path);
            }
            catch (Exception ex) when (ex is CryptographicException || ex is System.IO.IOException || ex is UnauthorizedAccessException)
            {
                throw new DeevException("TlsCaFileInvalid", DeevErrorKind.InvalidArgument, $"{section}.caFile '{path}' cannot be read as a certificate: {ex.Message}", path, ex);
            }
        }
    }
}
