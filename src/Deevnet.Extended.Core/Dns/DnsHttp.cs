using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Security;
using System.Runtime.Serialization.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Xml;
using System.Xml.Linq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// Minimal JSON for the HTTP back ends, with nothing beyond netstandard2.0: the framework's JSON reader maps a
    /// document onto XML (objects and arrays become elements), which is enough to walk API answers; requests are
    /// written by hand with <see cref="Quote"/>.
    /// </summary>
    internal static class Json
    {
        public static XElement Parse(string text)
        {
            using var reader = JsonReaderWriterFactory.CreateJsonReader(Encoding.UTF8.GetBytes(text), XmlDictionaryReaderQuotas.Max);
            return XElement.Load(reader);
        }

        /// <summary>A member of an object (keys that are not XML names come as <c>&lt;item item="key"&gt;</c>).</summary>
        public static XElement? Member(XElement? obj, string name) => obj?.Elements().FirstOrDefault(e =>
            (e.Name.LocalName == name && e.Name.NamespaceName.Length == 0 && e.Attribute("item") == null) ||
            (e.Name.LocalName == "item" && (string?)e.Attribute("item") == name));

        /// <summary>Name of a member: its element name, or the key it was escaped from.</summary>
        public static string KeyOf(XElement member) => (string?)member.Attribute("item") ?? member.Name.LocalName;

        public static string? Str(XElement? obj, string name) => Member(obj, name)?.Value;

        public static IEnumerable<XElement> Items(XElement? array) => array?.Elements() ?? Enumerable.Empty<XElement>();

        public static string Quote(string value) => Text.JsonText.Quote(value);
    }

    /// <summary>HTTP client set-up shared by the PowerDNS and OPNsense back ends: timeout, certificate trust, errors.</summary>
    internal static class DnsHttp
    {
        public static HttpClient CreateClient(BackendSpec spec, TimeSpan timeout)
        {
            var handler = new HttpClientHandler();
            var pin = spec.Get("tlsFingerprint")?.Replace(":", "").ToLowerInvariant();
            var caFile = spec.Get("caFile");
            var skip = string.Equals(spec.Get("skipTlsVerify"), "true", StringComparison.OrdinalIgnoreCase);
            if (pin != null || caFile != null || skip)
            {
                var ca = caFile != null ? new X509Certificate2(File.ReadAllBytes(caFile)) : null;
                handler.ServerCertificateCustomValidationCallback = (_, cert, chain, errors) =>
                {
                    if (skip) return true;
                    if (cert == null) return false;
                    if (pin != null) return Sha256Hex(cert.RawData) == pin;
                    if (errors == SslPolicyErrors.None) return true;
                    if (ca == null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var own = new X509Chain();
                    own.ChainPolicy.ExtraStore.Add(ca);
                    own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    own.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                    return own.Build(cert) && own.ChainElements[own.ChainElements.Count - 1].Certificate.Thumbprint == ca.Thumbprint;
                };
            }
            return new HttpClient(handler) { Timeout = timeout };
        }

        private static string Sha256Hex(byte[] data)
        {
            using var sha = System.Security.Cryptography.SHA256.Create();
            return string.Concat(sha.ComputeHash(data).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        }

        /// <summary>Sends a request; a connection failure or timeout becomes <c>DnsServerUnreachable</c> naming the server.</summary>
        public static async Task<(int Status, string Body)> SendAsync(HttpClient client, HttpRequestMessage request, string server, TimeSpan timeout, CancellationToken cancellationToken)
        {
            try
            {
                using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
                var body = response.Content == null ? "" : await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                return ((int)response.StatusCode, body);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new DeevException(DnsErrors.ServerUnreachable, DeevErrorKind.ConnectionError,
                    $"{server} did not answer {request.Method} {request.RequestUri?.AbsolutePath} within {timeout.TotalSeconds:0} s: {ex.GetBaseException().Message}", server, ex)
                { RecommendedAction = "Check that the API runs and that dns.endpoint in the tier file points at it." };
            }
        }

        public static StringContent JsonBody(string json) => new StringContent(json, new UTF8Encoding(false), "application/json");
    }
}
