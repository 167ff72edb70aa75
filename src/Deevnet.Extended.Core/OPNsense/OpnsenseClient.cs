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
        public const string NotConfigured = "OpnsenseNotConfigured";     // the tier names no API key or secret
        public const string Rejected = "OpnsenseRequestRejected";        // "result": "failed" (with its validations), or a reconfigure not ok
        public const string ResponseInvalid = "OpnsenseResponseInvalid"; // not the API's answer: no JSON, no uuid, no rows
    }

    /// <summary>
    /// The one client of an OPNsense appliance's API (<c>/api/&lt;module&gt;/&lt;controller&gt;/&lt;command&gt;</c>) for the Kea DHCP and
    /// the Unbound DNS back end: HTTP Basic with key and secret over <see cref="RestClient"/>, and the API's conventions —
    /// <c>search*</c> with rowCount -1, <c>get</c>, <c>add*</c> → <c>{"result":"saved","uuid":…}</c>, <c>set*/uuid</c> → <c>saved</c>,
    /// <c>del*/uuid</c> → <c>deleted</c>, <c>"failed"</c> with <c>validations</c> on refusal, <c>&lt;module&gt;/service/reconfigure</c> →
    /// <c>{"status":"ok"}</c>. Rows the module owns carry <see cref="OwnerPrefix"/> in their description.
    /// </summary>
    public sealed class OpnsenseClient : IDisposable
    {
        public const string OwnerPrefix = "Deevnet.Extended - ";
        private static readonly string SearchAll = "{\"current\":1,\"rowCount\":-1,\"searchPhrase\":\"\"}";
        private readonly RestClient _rest;

        public OpnsenseClient(BackendSpec spec, string apiKey, string apiSecret, IOperationLog log, TimeSpan timeout)
        {
            var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(apiKey + ":" + apiSecret));
            _rest = new RestClient(spec, "opnsense", ("Authorization", basic), new[] { apiKey, apiSecret }, log, timeout);
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

        /// <summary>
        /// Whether a <c>get*/&lt;uuid&gt;</c> command finds the row. Upstream <c>ApiMutableModelControllerBase::getBase</c>
        /// answers <c>{"&lt;item&gt;": {…}}</c> for a known uuid and an empty array for an unknown one.
        /// </summary>
        public async Task<bool> ExistsAsync(string path, string uuid, CancellationToken cancellationToken)
        {
            var answer = await GetAsync(path + "/" + Uri.EscapeDataString(uuid), cancellationToken).ConfigureAwait(false);
            return answer is JsonObject row && row.Any(m => m.Value is JsonObject);
        }

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

    /// <summary>One kind of row and its <c>get</c>/<c>add</c>/<c>set</c>/<c>del</c> commands (<c>addHostOverride</c>, <c>add_reservation</c>).</summary>
    public sealed record OpnsenseItem(string Get, string Add, string Set, string Del)
    {
        public static OpnsenseItem Camel(string controller, string item) =>
            new($"{controller}/get{item}", $"{controller}/add{item}", $"{controller}/set{item}", $"{controller}/del{item}");
        public static OpnsenseItem Snake(string controller, string item) =>
            new($"{controller}/get_{item}", $"{controller}/add_{item}", $"{controller}/set_{item}", $"{controller}/del_{item}");
    }

    /// <summary>
    /// The writes of one batch and how to take each back. The API has no transaction, so when a later call fails the
    /// earlier ones are undone newest first: an add by its delete, a set by setting the old row, a delete by adding it again.
    /// Two upstream facts shape the undo:
    /// <list type="bullet">
    /// <item>a deleted row comes back through <c>add</c> under a NEW uuid (<c>ApiMutableModelControllerBase::addBase</c>
    /// makes the uuid), so the batch remembers old → new and rewrites every later undo that names the old uuid (an alias's
    /// <c>host</c>, the uuid of a set);</item>
    /// <item><c>set*/&lt;uuid&gt;</c> on a uuid the appliance does not know CREATES the row (<c>setBase</c> is an "upsert" since
    /// OPNsense 23.1), so the undo of a set first asks <c>get*/&lt;uuid&gt;</c> whether the row is still there and, if someone
    /// deleted it meanwhile, leaves it deleted (and reports the undo incomplete) rather than resurrect it.</item>
    /// </list>
    /// </summary>
    public sealed class OpnsenseBatch
    {
        private readonly OpnsenseClient _api;
        private readonly Stack<Func<Task>> _undo = new Stack<Func<Task>>();
        private readonly Dictionary<string, string> _renamed = new Dictionary<string, string>(StringComparer.Ordinal);

        public OpnsenseBatch(OpnsenseClient api) => _api = api;

        public async Task<string> AddAsync(OpnsenseItem item, object row, CancellationToken cancellationToken)
        {
            var uuid = await _api.AddAsync(item.Add, row, cancellationToken).ConfigureAwait(false);
            _undo.Push(() => _api.DeleteAsync(item.Del, uuid, CancellationToken.None));
            return uuid;
        }

        public async Task SetAsync(OpnsenseItem item, string uuid, object row, object previous, CancellationToken cancellationToken)
        {
            await _api.SetAsync(item.Set, uuid, row, cancellationToken).ConfigureAwait(false);
            _undo.Push(async () =>
            {
                var current = Renamed(uuid);
                if (!await _api.ExistsAsync(item.Get, current, CancellationToken.None).ConfigureAwait(false))
                    throw new DeevException(OpnsenseErrors.Rejected, DeevErrorKind.InvalidOperation,
                        $"{_api.Server}: {item.Set}/{current} is gone (deleted by someone else); it is not re-created.", _api.Server);
                await _api.SetAsync(item.Set, current, Renamed(previous), CancellationToken.None).ConfigureAwait(false);
            });
        }

        public async Task DeleteAsync(OpnsenseItem item, string uuid, object previous, CancellationToken cancellationToken)
        {
            await _api.DeleteAsync(item.Del, uuid, cancellationToken).ConfigureAwait(false);
            _undo.Push(async () => _renamed[uuid] = await _api.AddAsync(item.Add, Renamed(previous), CancellationToken.None).ConfigureAwait(false));
        }

        /// <summary>Undoes every write, newest first, even after a cancel; false (each failure logged) when one could not be undone.</summary>
        public async Task<bool> UndoAsync(IOperationLog log)
        {
            var ok = true;
            while (_undo.Count > 0)
            {
                try { await _undo.Pop()().ConfigureAwait(false); }
                catch (DeevException ex) { ok = false; log.Warning($"{_api.Server}: undoing a call of the failed batch failed: {ex.Message}"); }
            }
            return ok;
        }

        private string Renamed(string uuid) => _renamed.TryGetValue(uuid, out var now) ? now : uuid;

        /// <summary>The row with every string that is a re-created row's old uuid replaced by its new one.</summary>
        private JsonNode Renamed(object row)
        {
            var node = JsonNode.Parse(Json.Write(row))!;
            Rewrite(node);
            return node;
        }

        private void Rewrite(JsonNode node)
        {
            if (node is JsonObject o)
            {
                foreach (var name in o.Select(m => m.Key).ToList())
                {
                    if (o[name] is JsonValue v && v.TryGetValue<string>(out var s) && _renamed.TryGetValue(s, out var now)) o[name] = now;
                    else if (o[name] is JsonNode child) Rewrite(child);
                }
            }
        }
    }
}
