using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Http;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// The PVE REST API (<c>/api2/json</c>) with an API token, over <see cref="RestClient"/> (trust, limits, error mapping).
    /// Every answer's <c>data</c> is returned parsed; HTTP errors carry PVE's own message and per-parameter errors, never the token.
    /// Asynchronous calls return a UPID, which <see cref="WaitTaskAsync"/> follows until the task has stopped.
    /// </summary>
    internal sealed class ProxmoxClient : IDisposable
    {
        private static readonly RestErrorIds Errors = new RestErrorIds(VmErrors.VmBackendFailed, VmErrors.HypervisorAuthFailed, VmErrors.VmBackendFailed);
        private const string Base = "/api2/json";
        private readonly RestClient _rest;
        private readonly string _section;

        public ProxmoxClient(Hypervisor hypervisor, IOperationLog log)
        {
            _section = hypervisor.Section;
            var secret = hypervisor.ResolveSecret("tokenSecret")
                ?? throw VmErrors.Create(VmErrors.HypervisorAuthFailed, DeevErrorKind.InvalidData, $"{_section} has neither tokenSecretEnv nor tokenSecretFile.", _section);
            var token = $"PVEAPIToken={hypervisor.Require("tokenId")}={secret}";
            _rest = new RestClient(hypervisor, _section, ("Authorization", token), new[] { secret }, log, TimeSpan.FromSeconds(60), null, Errors);
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
                if (Json.Str(status, "status") == "stopped")
                {
                    var exit = Json.Str(status, "exitstatus");
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
                var text = (lines ?? new JsonArray()).Select(l => Json.Str(l, "t")).Where(t => t != null).ToList();
                return text.Count == 0 ? "  (empty)" : string.Join(Environment.NewLine, text.Skip(Math.Max(0, text.Count - 40)).Select(t => "  " + t));
            }
            catch (DeevException ex)
            {
                return "  (the task log could not be read: " + ex.Message + ")";
            }
        }

        private async Task<JsonNode?> SendAsync(HttpMethod method, string path, IEnumerable<KeyValuePair<string, string>>? form, CancellationToken ct)
        {
            var body = await _rest.CallAsync(method, Base + path, form == null ? null : new FormUrlEncodedContent(form), ct).ConfigureAwait(false);
            try
            {
                return Json.Member(Json.Parse(body), "data");
            }
            catch (JsonException ex)
            {
                throw VmErrors.BackendFailed(_section, $"{method} {path}", "the answer is not JSON: " + ex.Message);
            }
        }

        public void Dispose() => _rest.Dispose();
    }
}
