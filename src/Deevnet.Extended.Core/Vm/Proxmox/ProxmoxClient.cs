using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// The PVE REST API (<c>/api2/json</c>) with an API token. Every answer's <c>data</c> is returned parsed; HTTP errors
    /// become typed exceptions that carry PVE's own message and per-parameter errors, never the token.
    /// Asynchronous calls return a UPID, which <see cref="WaitTaskAsync"/> follows until the task has stopped.
    /// </summary>
    internal sealed class ProxmoxClient : IDisposable
    {
        private readonly HttpClient _http;
        private readonly ProxmoxTls _tls;
        private readonly string _base;
        private readonly string _section;

        public ProxmoxClient(Hypervisor hypervisor, IOperationLog log)
        {
            _section = hypervisor.Section;
            var endpoint = hypervisor.Require("endpoint").TrimEnd('/');
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
                throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.InvalidData, $"{_section}.endpoint '{endpoint}' is not an https:// URL.", _section);
            _base = endpoint + "/api2/json";
            var secret = hypervisor.ResolveSecret("tokenSecret")
                ?? throw VmErrors.Create(VmErrors.HypervisorAuthFailed, DeevErrorKind.InvalidData, $"{_section} has neither tokenSecretEnv nor tokenSecretFile.", _section);
            _tls = new ProxmoxTls(hypervisor, log);
            _http = new HttpClient(_tls.CreateHandler(), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(60) };
            // The header value is the only place the secret lives; no message below includes request headers.
            _http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"PVEAPIToken={hypervisor.Require("tokenId")}={secret}");
        }

        /// <summary>How often a running task is polled; tests shorten it.</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

        public Task<JsonNode?> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

        public Task<JsonNode?> PostAsync(string path, IEnumerable<KeyValuePair<string, string>> form, CancellationToken ct) => SendAsync(HttpMethod.Post, path, form, ct);

        public Task<JsonNode?> PutAsync(string path, IEnumerable<KeyValuePair<string, string>> form, CancellationToken ct) => SendAsync(HttpMethod.Put, path, form, ct);

        public Task<JsonNode?> DeleteAsync(string path, IEnumerable<KeyValuePair<string, string>> query, CancellationToken ct) =>
            SendAsync(HttpMethod.Delete, path + "?" + string.Join("&", query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))), null, ct);

        /// <summary>
        /// Polls <c>/nodes/{node}/tasks/{upid}/status</c> until the task has stopped; an exit status other than OK is a
        /// <c>VmTaskFailed</c> carrying the end of the task log.
        /// </summary>
        public async Task WaitTaskAsync(string node, JsonNode? upidData, string what, CancellationToken ct)
        {
            if (!(upidData is JsonValue value && value.TryGetValue<string>(out var upid)) || !upid.StartsWith("UPID:", StringComparison.Ordinal)) return; // synchronous answer: nothing to follow
            var taskPath = $"/nodes/{Uri.EscapeDataString(node)}/tasks/{Uri.EscapeDataString(upid)}";
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var status = await GetAsync(taskPath + "/status", ct).ConfigureAwait(false);
                if (Str(status, "status") == "stopped")
                {
                    var exit = Str(status, "exitstatus");
                    if (exit == "OK") return;
                    var log = await ReadTaskLogAsync(taskPath, ct).ConfigureAwait(false);
                    throw VmErrors.Create(VmErrors.VmTaskFailed, DeevErrorKind.InvalidOperation,
                        $"{_section}: {what} failed ({exit ?? "no exit status"}). Task {upid} log:{Environment.NewLine}{log}", upid,
                        "Read the task log above; the same log is in the PVE web UI under Tasks.");
                }
                await Task.Delay(PollInterval, ct).ConfigureAwait(false);
            }
        }

        private async Task<string> ReadTaskLogAsync(string taskPath, CancellationToken ct)
        {
            try
            {
                var lines = await GetAsync(taskPath + "/log?start=0&limit=500", ct).ConfigureAwait(false) as JsonArray;
                var text = (lines ?? new JsonArray()).Select(l => Str(l, "t")).Where(t => t != null).ToList();
                return text.Count == 0 ? "  (empty)" : string.Join(Environment.NewLine, text.Skip(Math.Max(0, text.Count - 40)).Select(t => "  " + t));
            }
            catch (DeevException ex)
            {
                return "  (the task log could not be read: " + ex.Message + ")";
            }
        }

        private async Task<JsonNode?> SendAsync(HttpMethod method, string path, IEnumerable<KeyValuePair<string, string>>? form, CancellationToken ct)
        {
            using var request = new HttpRequestMessage(method, _base + path);
            if (form != null) request.Content = new FormUrlEncodedContent(form);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (_tls.Refusal != null || ex.InnerException is AuthenticationException)
            {
                throw VmErrors.Create(VmErrors.TlsVerificationFailed, DeevErrorKind.SecurityError,
                    $"{_section}: refused to talk to {new Uri(_base).Authority}: {_tls.Refusal ?? ex.InnerException?.Message}. Nothing was sent.", _section,
                    "Check the pinned tlsFingerprint (pvenode cert info on the node) or the caFile in the tier file.", ex);
            }
            catch (HttpRequestException ex)
            {
                throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.ConnectionError, $"{_section}: cannot reach {new Uri(_base).Authority}: {ex.Message}", _section, null, ex);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.OperationTimeout, $"{_section}: {method} {path} did not answer within {_http.Timeout.TotalSeconds:0} s.", _section);
            }
            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Unauthorized || response.StatusCode == HttpStatusCode.Forbidden)
                    throw VmErrors.Create(VmErrors.HypervisorAuthFailed, DeevErrorKind.PermissionDenied,
                        $"{_section}: {method} {path} was refused ({(int)response.StatusCode} {response.ReasonPhrase}).", _section,
                        "Check tokenId and the token secret, and that the token has the VM.* privileges on the node.");
                if (!response.IsSuccessStatusCode)
                    throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.InvalidOperation,
                        $"{_section}: {method} {path} failed: {(int)response.StatusCode} {response.ReasonPhrase}{Describe(body)}", _section);
                try
                {
                    return JsonNode.Parse(body) is JsonObject answer && answer.TryGetPropertyValue("data", out var data) ? data : null;
                }
                catch (JsonException ex)
                {
                    throw VmErrors.BackendFailed(_section, $"{method} {path}", "the answer is not JSON: " + ex.Message);
                }
            }
        }

        /// <summary>PVE puts per-parameter problems into <c>errors</c>: show them, they say exactly what was wrong.</summary>
        private static string Describe(string body)
        {
            try
            {
                var answer = JsonNode.Parse(body) as JsonObject;
                if (answer?["errors"] is JsonObject errors && errors.Count > 0)
                    return ": " + string.Join("; ", errors.Select(kv => $"{kv.Key}: {Text(kv.Value)}"));
                if (answer?["message"] is JsonValue m && m.TryGetValue<string>(out var s)) return ": " + s.Trim();
            }
            catch (JsonException)
            {
            }
            return "";
        }

        /// <summary>A member of an object as text (PVE mixes <c>1</c> and <c>"1"</c> for the same field), or null.</summary>
        public static string? Str(JsonNode? obj, string key) => obj is JsonObject o && o.TryGetPropertyValue(key, out var v) ? Text(v) : null;

        /// <summary>A value as text: strings as they are, numbers as written, true/false as 1/0, null as null.</summary>
        public static string? Text(JsonNode? value) => value switch
        {
            null => null,
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => v.GetValue<string>(),
                JsonValueKind.True => "1",
                JsonValueKind.False => "0",
                JsonValueKind.Null => null,
                _ => v.ToJsonString(),
            },
            _ => value.ToJsonString(),
        };

        public void Dispose() => _http.Dispose();
    }
}
