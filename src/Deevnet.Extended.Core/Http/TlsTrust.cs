using System;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
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
        private static readonly Regex PinPrefix = new Regex("^sha-?256(//|/|:|=)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private readonly byte[]? _pin;
        private readonly X509Certificate2? _ca;
        private readonly bool _skip;

        private TlsTrust(byte[]? pin = null, X509Certificate2? ca = null, bool skip = false)
        {
            _pin = pin;
            _ca = ca;
            _skip = skip;
        }

        /// <summary>Why the last handshake was refused, or null.</summary>
        public string? Refusal { get; private set; }

        public static TlsTrust System => new TlsTrust();

        /// <summary>The policy a tier section asks for; warns through <paramref name="log"/> when verification is off or a skip is overruled.</summary>
        public static TlsTrust FromSpec(BackendSpec spec, IOperationLog log)
        {
            var pin = spec.Get("tlsFingerprint");
            var caFile = spec.Get("caFile");
            var skip = string.Equals(spec.Get("skipTlsVerify"), "true", StringComparison.OrdinalIgnoreCase);
            if (skip && (pin != null || caFile != null))
                log.Warning($"{spec.Section}: skipTlsVerify is ignored because {(pin != null ? "tlsFingerprint" : "caFile")} is set; " +
                            $"the certificate of {spec.Get("endpoint")} is still checked. Remove skipTlsVerify from the tier file.");
            else if (skip)
                log.Warning($"TLS VERIFICATION IS OFF for {spec.Section} ({spec.Get("endpoint")}, skipTlsVerify: true): anyone on the path can read " +
                            "the credential and change what this back end manages. Pin the certificate with tlsFingerprint or name a caFile instead.");
            if (pin != null)
                return new TlsTrust(pin: ParsePin(pin) ?? throw new DeevException("TlsFingerprintInvalid", DeevErrorKind.InvalidArgument,
                    $"{spec.Section}.tlsFingerprint '{pin}' is not a SHA-256 fingerprint.", spec.Section));
            if (caFile == null) return new TlsTrust(skip: skip);
            try
            {
                return new TlsTrust(ca: new X509Certificate2(caFile));
            }
            catch (Exception ex) when (ex is CryptographicException || ex is System.IO.IOException || ex is UnauthorizedAccessException)
            {
                throw new DeevException("TlsCaFileInvalid", DeevErrorKind.InvalidArgument, $"{spec.Section}.caFile '{caFile}' cannot be read as a certificate: {ex.Message}", caFile, ex);
            }
        }

        /// <summary>
        /// A SHA-256 fingerprint in any common notation: hex with or without <c>:</c>, <c>-</c> or spaces (any case), or
        /// base64 (padded or not), optionally prefixed <c>sha256:</c>, <c>sha256/</c>, <c>sha256//</c> or <c>sha256=</c>. Null when it is none.
        /// </summary>
        public static byte[]? ParsePin(string text)
        {
            var t = PinPrefix.Replace(text.Trim(), "");
            var hex = new string(t.Where(c => c != ':' && c != '-' && !char.IsWhiteSpace(c)).ToArray());
            if (hex.Length == 64 && hex.All(Uri.IsHexDigit)) return Convert.FromHexString(hex);
            var bytes = new byte[33];
            return t.TrimEnd('=').Length == 43 && Convert.TryFromBase64String(t.TrimEnd('=') + "=", bytes, out var n) && n == 32 ? bytes[..32] : null;
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
            var built = chain.Build(certificate);
            var root = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
            why = built
                ? $"the certificate is issued by '{certificate.Issuer}' and its chain ends in '{root.Subject}', not in the CA of caFile ('{roots[0].Subject}')"
                : "the certificate chain does not build: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
            return built && roots.Cast<X509Certificate2>().Any(r => r.RawData.AsSpan().SequenceEqual(root.RawData));
        }

        /// <summary>The decision for one handshake (the handler's validation callback); records <see cref="Refusal"/>.</summary>
        public bool Validate(string host, X509Certificate? certificate, SslPolicyErrors errors)
        {
            Refusal = null;
            if (_skip) return true;
            if (certificate == null) return Refuse("the server sent no certificate");
            using var cert = new X509Certificate2(certificate);
            if (_pin != null)
                return SHA256.HashData(cert.RawData).AsSpan().SequenceEqual(_pin) || Refuse($"the server certificate's SHA-256 fingerprint is {FingerprintOf(cert)}, not the pinned tlsFingerprint");
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                return Refuse($"the certificate is not issued to {host} (it is for {cert.GetNameInfo(X509NameType.DnsName, false)})");
            if (_ca != null) return ChainEndsIn(cert, new X509Certificate2Collection(_ca), out var why) || Refuse(why);
            return errors == SslPolicyErrors.None || Refuse($"the certificate is not trusted by this system ({errors}); set tlsFingerprint or caFile");
        }

        private bool Refuse(string why)
        {
            Refusal = why;
            return false;
        }
    }
}
