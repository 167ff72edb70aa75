using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Http;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.OPNsense
{
    /// <summary>Error ids of the OPNsense client, the same for its Kea DHCP and Unbound DNS users.</summary>
    public static class OpnsenseErrors
    {
        /// <summary>The tier names no API key or secret.</summary>
        public const string NotConfigured = "OpnsenseNotConfigured";

        /// <summary>The appliance refused a write (<c>"result": "failed"</c> with its validation messages) or a reconfigure.</summary>
        public const string Rejected = "OpnsenseRequestRejected";

        /// <summary>The appliance answered something that is not the API's answer (no JSON, no uuid, no rows).</summary>
        public const string ResponseInvalid = "OpnsenseResponseInvalid";
    }

    /// <summary>
    /// The one client of an OPNsense appliance's REST API (<c>https://router/api/&lt;module&gt;/&lt;controller&gt;/&lt;command&gt;</c>),
    /// for both the Kea DHCP and the Unbound DNS back end: HTTP Basic with the API key and secret, the HTTP rules of
    /// <see cref="RestClient"/>, and the API's conventions — <c>search_*</c>/<c>search*</c> with a rowCount of -1, <c>get</c>,
    /// <c>add*</c> answering <c>{"result":"saved","uuid":…}</c>, <c>set*/&lt;uuid&gt;</c> answering <c>saved</c>,
    /// <c>del*/&lt;uuid&gt;</c> answering <c>deleted</c>, <c>"result":"failed"</c> with <c>validations</c> on refusal, and
    /// <c>&lt;module&gt;/service/reconfigure</c> answering <c>{"status":"ok"}</c>. Rows the module owns carry <see cref="OwnerPrefix"/>
    /// in their description.
    /// </summary>
    public sealed class OpnsenseClient : IDisposable
    {
        public const string OwnerPrefix = "Deevnet.Extended - ";
        private static readonly string SearchAll = "{\"current\":1,\"rowCount\":-1,\"searchPhrase\":\"\"}";
        private readonly RestClient _rest;

        public OpnsenseClient(BackendSpec spec, string apiKey, string apiSecret, IOperationLog log, TimeSpan timeout)
        {
            var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(apiKey + ":" + apiSecret));
            _rest = new RestClient(spec, "opnsense", new KeyValuePair<string, string>("Authorization", basic), new[] { apiKey, apiSecret }, log, timeout);
        }

        /// <summary>The client for a tier's <c>dhcp</c> or <c>dns</c> section of kind <c>opnsense</c>.</summary>
        public static OpnsenseClient FromSpec(BackendSpec spec, IOperationLog log, TimeSpan timeout)
        {
            var key = spec.ResolveSecret("apiKey");
            var secret = spec.ResolveSecret("apiSecret");
            if (key == null || secret == null)
                throw new DeevException(OpnsenseErrors.NotConfigured, DeevErrorKind.InvalidData,
                    $"{spec.Section}: the OPNsense API {(key == null ? "key" : "secret")} is not set; apiKeyEnv/apiKeyFile and apiSecretEnv/apiSecretFile must name it.", spec.Section);
            return new OpnsenseClient(spec, key, secret, log, timeout);
        }

        /// <summary><c>opnsense &lt;endpoint&gt;</c>, how messages name the appliance.</summary>
        public string Server => _rest.Server;

        /// <summary><c>GET /api/&lt;path&gt;</c>, parsed.</summary>
        public async Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) =>
            Parse(path, await _rest.CallAsync(HttpMethod.Get, "/api/" + path, null, cancellationToken).ConfigureAwait(false));

        /// <summary>Every row of a <c>search_*</c> command.</summary>
        public async Task<IReadOnlyList<JsonNode>> SearchAsync(string path, CancellationToken cancellationToken)
        {
            var answer = await PostAsync(path, SearchAll, cancellationToken).ConfigureAwait(false);
            if (Json.Member(answer, "rows") is not JsonArray rows)
                throw Invalid($"{path} answered without rows: {_rest.Clean(answer?.ToJsonString() ?? "null")}");
            return rows.OfType<JsonNode>().ToList();
        }

        /// <summary>An <c>add*</c> command; returns the new row's uuid.</summary>
        public async Task<string> AddAsync(string path, object row, CancellationToken cancellationToken)
        {
            var answer = await WriteAsync(path, Json.Write(row), "saved", cancellationToken).ConfigureAwait(false);
            return Json.Str(answer, "uuid") is { Length: > 0 } uuid ? uuid : throw Invalid($"{path} saved a row but returned no uuid.");
        }

        /// <summary>A <c>set*/&lt;uuid&gt;</c> command.</summary>
        public Task SetAsync(string path, string uuid, object row, CancellationToken cancellationToken) =>
            WriteAsync(path + "/" + Uri.EscapeDataString(uuid), Json.Write(row), "saved", cancellationToken);

        /// <summary>A <c>del*/&lt;uuid&gt;</c> command.</summary>
        public Task DeleteAsync(string path, string uuid, CancellationToken cancellationToken) =>
            WriteAsync(path + "/" + Uri.EscapeDataString(uuid), "{}", "deleted", cancellationToken);

        /// <summary><c>&lt;module&gt;/service/reconfigure</c>: makes the staged configuration live; anything but status ok is a refusal.</summary>
        public async Task ReconfigureAsync(string module, CancellationToken cancellationToken)
        {
            var path = module + "/service/reconfigure";
            var answer = await PostAsync(path, "{}", cancellationToken).ConfigureAwait(false);
            if (!string.Equals(Json.Str(answer, "status"), "ok", StringComparison.OrdinalIgnoreCase))
                throw new DeevException(OpnsenseErrors.Rejected, DeevErrorKind.InvalidOperation,
                    $"{Server}: {path} did not report ok: {_rest.Clean(answer?.ToJsonString() ?? "null")}", Server);
        }

        public void Dispose() => _rest.Dispose();

        private async Task<JsonNode?> WriteAsync(string path, string body, string expected, CancellationToken cancellationToken)
        {
            var answer = await PostAsync(path, body, cancellationToken).ConfigureAwait(false);
            if (Json.Str(answer, "result") != expected)
                throw new DeevException(OpnsenseErrors.Rejected, DeevErrorKind.InvalidData,
                    $"{Server} refused {path}: {_rest.Clean(answer?.ToJsonString() ?? "null")}", Server);
            return answer;
        }

        private async Task<JsonNode?> PostAsync(string path, string body, CancellationToken cancellationToken)
        {
            using var content = new StringContent(body, new UTF8Encoding(false), "application/json");
            return Parse(path, await _rest.CallAsync(HttpMethod.Post, "/api/" + path, content, cancellationToken).ConfigureAwait(false));
        }

        private JsonNode? Parse(string path, string text)
        {
            try { return Json.Parse(text); }
            catch (JsonException ex) { throw Invalid($"{path} did not answer JSON: {_rest.Clean(text)}", ex); }
        }

        private DeevException Invalid(string what, Exception? inner = null) =>
            new DeevException(OpnsenseErrors.ResponseInvalid, DeevErrorKind.InvalidData, $"{Server}: {what}", Server, inner);
    }
}
