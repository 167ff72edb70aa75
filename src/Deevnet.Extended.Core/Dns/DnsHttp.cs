using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// JSON for the HTTP back ends: answers are walked as System.Text.Json nodes; requests are serialized with
    /// <see cref="Write"/>. The helpers take null for "absent", so a walk down a missing path yields nothing.
    /// </summary>
    internal static class Json
    {
        public static JsonNode? Parse(string text) => JsonNode.Parse(text);

        /// <summary>A member of an object, or null when absent (or JSON null).</summary>
        public static JsonNode? Member(JsonNode? obj, string name) => obj is JsonObject o && o.TryGetPropertyValue(name, out var v) ? v : null;

        /// <summary>Name of an object member (e.g. the uuid key of an OPNsense row).</summary>
        public static string KeyOf(JsonNode member) => member.Parent is JsonObject ? member.GetPropertyName() : "item";

        /// <summary>A member as text (numbers as written, booleans as true/false, JSON null as ""), or null when absent.</summary>
        public static string? Str(JsonNode? obj, string name) =>
            obj is JsonObject o && o.TryGetPropertyValue(name, out var v) ? TextOf(v) : null;

        /// <summary>The items of an array or the member values of an object (OPNsense keys rows by uuid).</summary>
        public static IEnumerable<JsonNode> Items(JsonNode? container) => container switch
        {
            JsonArray a => a.OfType<JsonNode>(),
            JsonObject o => o.Select(m => m.Value).OfType<JsonNode>(),
            _ => Enumerable.Empty<JsonNode>(),
        };

        /// <summary>The text of a value; for an object or array, its values' texts run together.</summary>
        public static string TextOf(JsonNode? node) => node switch
        {
            null => "",
            JsonObject or JsonArray => string.Concat(Items(node).Select(TextOf)),
            _ => node.GetValueKind() switch
            {
                JsonValueKind.String => node.GetValue<string>(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Null => "",
                _ => node.ToJsonString(),
            },
        };

        /// <summary>A request body: compact JSON, members in declaration order.</summary>
        public static string Write<T>(T value) => JsonSerializer.Serialize(value, Text.JsonText.Options);
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
                    if (pin != null) return Convert.ToHexString(SHA256.HashData(cert.RawData)).ToLowerInvariant() == pin;
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

        /// <summary>Sends a request; a connection failure or timeout becomes <c>DnsServerUnreachable</c> naming the server.</summary>
        public static async Task<(int Status, string Body)> SendAsync(HttpClient client, HttpRequestMessage request, string server, TimeSpan timeout, CancellationToken cancellationToken)
        {
            try
            {
                using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
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
