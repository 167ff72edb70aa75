using System;
using System.Linq;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// How the PVE server certificate is trusted: a pinned SHA-256 fingerprint of the leaf (<c>tlsFingerprint</c>, what
    /// <c>pvenode cert info</c> prints), a CA file (<c>caFile</c>), the system store, or — only with
    /// <c>skipTlsVerify: true</c> and a loud warning — not at all. A refusal is remembered so the caller can name it.
    /// </summary>
    internal sealed class ProxmoxTls
    {
        private readonly string? _pin;
        private readonly X509Certificate2? _ca;
        private readonly bool _skip;

        public ProxmoxTls(BackendSpec spec, IOperationLog log)
        {
            var pin = spec.Get("tlsFingerprint");
            try
            {
                _pin = pin == null ? null : NormalizeFingerprint(pin);
            }
            catch (FormatException ex)
            {
                throw VmErrors.Create(VmErrors.TlsVerificationFailed, Errors.DeevErrorKind.InvalidData, $"{spec.Section}.tlsFingerprint: {ex.Message}", spec.Section);
            }
            var caFile = spec.Get("caFile");
            if (caFile != null)
            {
                try
                {
                    _ca = new X509Certificate2(caFile);
                }
                catch (Exception ex) when (ex is CryptographicException || ex is System.IO.IOException)
                {
                    throw VmErrors.Create(VmErrors.TlsVerificationFailed, Errors.DeevErrorKind.SecurityError,
                        $"{spec.Section}.caFile '{caFile}' cannot be read as a certificate: {ex.Message}", spec.Section);
                }
            }
            _skip = string.Equals(spec.Get("skipTlsVerify"), "true", StringComparison.OrdinalIgnoreCase) && _pin == null && _ca == null;
            if (_skip)
                log.Warning($"TLS VERIFICATION IS OFF for {spec.Section} (skipTlsVerify: true). Anyone between this machine and the hypervisor can read the API token and change VMs. Pin the certificate with tlsFingerprint instead.");
        }

        /// <summary>Why the last certificate was refused, or null.</summary>
        public string? Refusal { get; private set; }

        public HttpClientHandler CreateHandler()
        {
            var handler = new HttpClientHandler { UseProxy = false, AllowAutoRedirect = false };
            handler.ServerCertificateCustomValidationCallback = Validate;
            return handler;
        }

        /// <summary><c>AB:CD:…</c> or <c>abcd…</c> (64 hex digits) to lowercase hex without separators.</summary>
        public static string NormalizeFingerprint(string text)
        {
            var hex = new string(text.Where(c => c != ':' && !char.IsWhiteSpace(c)).ToArray()).ToLowerInvariant();
            if (hex.Length != 64 || hex.Any(c => !Uri.IsHexDigit(c))) throw new FormatException($"'{text}' is not a SHA-256 fingerprint (64 hex digits).");
            return hex;
        }

        public static string Fingerprint(X509Certificate2 certificate) =>
            string.Join(":", SHA256.HashData(certificate.RawData).Select(b => b.ToString("X2")));

        private bool Validate(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            Refusal = null;
            if (_skip) return true;
            if (certificate == null) return Refuse("the server sent no certificate");
            if (_pin != null)
            {
                var actual = Fingerprint(certificate);
                return NormalizeFingerprint(actual) == _pin ? true : Refuse($"the server certificate's SHA-256 fingerprint is {actual}, not the pinned tlsFingerprint");
            }
            if (_ca != null)
            {
                if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return Refuse($"the certificate is not issued to {request.RequestUri?.Host}");
                using var own = new X509Chain();
                own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                own.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                own.ChainPolicy.ExtraStore.Add(_ca);
                if (!own.Build(certificate)) return Refuse("the certificate chain does not build: " + string.Join("; ", own.ChainStatus.Select(s => s.StatusInformation.Trim())));
                var root = own.ChainElements[own.ChainElements.Count - 1].Certificate;
                return root.Thumbprint == _ca.Thumbprint ? true : Refuse("the certificate is not issued by the CA in caFile");
            }
            return errors == SslPolicyErrors.None ? true : Refuse($"the certificate is not trusted by this system ({errors}); set tlsFingerprint or caFile");
        }

        private bool Refuse(string why)
        {
            Refusal = why;
            return false;
        }
    }
}
