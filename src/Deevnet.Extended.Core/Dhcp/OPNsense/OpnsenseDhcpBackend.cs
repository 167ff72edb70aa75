using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dhcp.OPNsense
{
    /// <summary>
    /// OPNsense's Kea DHCPv4 through its REST API (production Deevnet): <c>kea/dhcpv4/search_subnet</c>,
    /// <c>search_reservation</c>, <c>add_reservation</c>, <c>set_reservation/&lt;uuid&gt;</c>, <c>del_reservation/&lt;uuid&gt;</c>,
    /// then one <c>kea/service/reconfigure</c>. Rows whose description starts with <see cref="OwnerPrefix"/> are the
    /// module's; the Ansible roles' and the Deevnet API's rows are listed and left alone. MACs go UPPERCASE on the wire.
    /// The API has no transaction: when a call fails mid-batch, the calls already made are undone before the error.
    /// </summary>
    public sealed class OpnsenseDhcpBackend : IDhcpBackend, IDisposable
    {
        public const string OwnerPrefix = "Deevnet.Extended - ";
        private static readonly string SearchBody = "{\"current\":1,\"rowCount\":-1,\"searchPhrase\":\"\"}";

        private readonly HttpClient _http;
        private readonly Uri _api;
        private readonly IOperationLog _log;

        /// <summary>
        /// <paramref name="endpoint"/> is the router's base URL (<c>https://router</c>); plain http is accepted only for
        /// loopback test doubles. <paramref name="handler"/> replaces the TLS-checking handler (tests).
        /// </summary>
        public OpnsenseDhcpBackend(Uri endpoint, string apiKey, string apiSecret, TlsTrust trust, IOperationLog? log = null, HttpMessageHandler? handler = null)
        {
            if (endpoint.Scheme != Uri.UriSchemeHttps && !(endpoint.Scheme == Uri.UriSchemeHttp && endpoint.IsLoopback))
                throw new DeevException("EndpointInsecure", DeevErrorKind.SecurityError, $"{endpoint} is not https; the API key would travel in clear text.", endpoint.ToString());
            _log = log ?? NullOperationLog.Instance;
            if (trust.SkipVerify) _log.Warning($"TLS certificate checking is OFF for {endpoint} (skipTlsVerify): anyone on the path can read the API key and change reservations. Pin the certificate with tlsFingerprint instead.");
            if (handler == null)
            {
                handler = new HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = (_, cert, chain, errors) => trust.Validate(cert, chain, errors),
                    UseProxy = false,
                };
            }
            _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(apiKey + ":" + apiSecret));
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", basic);
            _api = new Uri(endpoint.ToString().TrimEnd('/') + "/api/");
            Server = $"opnsense {endpoint.GetLeftPart(UriPartial.Authority)}";
        }

        public string Server { get; }

        public void Dispose() => _http.Dispose();

        private sealed class Row
        {
            public Row(string uuid, DhcpReservation reservation, string subnetUuid)
            {
                Uuid = uuid;
                Reservation = reservation;
                SubnetUuid = subnetUuid;
            }

            public string Uuid { get; }
            public DhcpReservation Reservation { get; }
            public string SubnetUuid { get; }
        }

        private sealed class State
        {
            public Dictionary<string, Ipv4Network> Subnets { get; } = new Dictionary<string, Ipv4Network>(StringComparer.Ordinal);
            public List<Row> Rows { get; } = new List<Row>();
        }

        public async Task<IReadOnlyList<DhcpReservation>> ReadAsync(CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return state.Rows.Select(r => r.Reservation).OrderBy(r => r.ClientId, StringComparer.Ordinal).ThenBy(r => r.IsOwned ? 0 : 1).ToList();
        }

        public async Task<DhcpPlan> PlanAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return DhcpPlanner.Plan(state.Rows.Select(r => r.Reservation).ToList(), state.Subnets.Values.ToList(), batch, Server);
        }

        public async Task<DhcpPlan> ApplyAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            var plan = DhcpPlanner.Plan(state.Rows.Select(r => r.Reservation).ToList(), state.Subnets.Values.ToList(), batch, Server);
            if (!plan.Plan.HasChanges) return plan;

            var owned = state.Rows.Where(r => r.Reservation.IsOwned).GroupBy(r => r.Reservation.ClientId).ToDictionary(g => g.Key, g => g.First());
            var wanted = plan.Owned.ToDictionary(r => r.ClientId);
            var undo = new Stack<Func<Task>>();
            try
            {
                foreach (var change in plan.Plan.Changes)
                {
                    var mac = change.Key;
                    switch (change.Action)
                    {
                        case Plans.ChangeAction.Add:
                        {
                            var uuid = await AddAsync(wanted[mac], state, cancellationToken).ConfigureAwait(false);
                            undo.Push(() => DeleteAsync(uuid, CancellationToken.None));
                            break;
                        }
                        case Plans.ChangeAction.Change:
                        {
                            var row = owned[mac];
                            await SetAsync(row.Uuid, wanted[mac], state, cancellationToken).ConfigureAwait(false);
                            undo.Push(() => SetAsync(row.Uuid, row.Reservation, state, CancellationToken.None));
                            break;
                        }
                        case Plans.ChangeAction.Remove:
                        {
                            var row = owned[mac];
                            await DeleteAsync(row.Uuid, cancellationToken).ConfigureAwait(false);
                            undo.Push(async () => await AddAsync(row.Reservation, state, CancellationToken.None).ConfigureAwait(false));
                            break;
                        }
                    }
                }
                await CallAsync("kea/service/reconfigure", "{}", cancellationToken, expect: ("status", "ok")).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DeevException || ex is OperationCanceledException)
            {
                var restored = await UndoAsync(undo).ConfigureAwait(false);
                if (ex is OperationCanceledException) throw;
                throw DhcpErrors.Reload(Server, ex.Message, restored);
            }
            _log.Verbose($"{Server}: {plan.Plan.Summary}; Kea reconfigured.");
            return plan;
        }

        private async Task<bool> UndoAsync(Stack<Func<Task>> undo)
        {
            var ok = true;
            while (undo.Count > 0)
            {
                try { await undo.Pop()().ConfigureAwait(false); }
                catch (DeevException ex) { ok = false; _log.Warning($"{Server}: undoing a step failed: {ex.Message}"); }
            }
            if (ok) _log.Verbose($"{Server}: every call of the failed batch was undone; Kea was not reconfigured.");
            return ok;
        }

        private async Task<State> ReadStateAsync(CancellationToken cancellationToken)
        {
            var state = new State();
            var subnets = await CallAsync("kea/dhcpv4/search_subnet", SearchBody, cancellationToken).ConfigureAwait(false);
            foreach (var row in Rows(subnets))
            {
                var uuid = Str(row, "uuid");
                var cidr = Str(row, "subnet");
                if (uuid == null || cidr == null || !Ipv4Network.TryParse(cidr.Trim(), out var net, out _))
                    throw DhcpErrors.Response(Server, $"search_subnet returned a row without a valid uuid/subnet: {row.ToJsonString(Text.JsonText.Options)}");
                state.Subnets[uuid] = net;
            }
            var reservations = await CallAsync("kea/dhcpv4/search_reservation", SearchBody, cancellationToken).ConfigureAwait(false);
            foreach (var row in Rows(reservations))
            {
                var uuid = Str(row, "uuid");
                var hw = Str(row, "hw_address");
                var ipText = Str(row, "ip_address");
                if (uuid == null || hw == null || ipText == null || !Ipv4Network.TryParseAddress(ipText.Trim(), out var ip))
                {
                    _log.Verbose($"{Server}: skipping a reservation row without uuid, MAC or address: {row.ToJsonString(Text.JsonText.Options)}");
                    continue;
                }
                // search rows show the subnet as its uuid or as its display value (the CIDR); accept both.
                var subnetField = Str(row, "subnet") ?? "";
                var subnetUuid = state.Subnets.ContainsKey(subnetField) ? subnetField
                    : state.Subnets.FirstOrDefault(s => s.Value.ToString() == subnetField.Trim()).Key ?? "";
                var scope = subnetUuid.Length > 0 ? state.Subnets[subnetUuid].ToString() : null;
                var description = Str(row, "description") ?? "";
                var owned = description.StartsWith(OwnerPrefix, StringComparison.Ordinal);
                var hostname = Str(row, "hostname");
                string mac;
                try { mac = DhcpFields.NormalizeMac(hw); }
                catch (DeevException) { mac = "hw_address:" + hw; owned = false; }
                var own = owned ? description.Substring(OwnerPrefix.Length) : null;
                var reservation = new DhcpReservation(mac, ip!, string.IsNullOrEmpty(hostname) ? null : hostname,
                    owned ? (own == hostname || own == mac ? null : own) : description, scope, owned, Server,
                    owned ? null : $"OPNsense reservation {uuid}");
                state.Rows.Add(new Row(uuid, reservation, subnetUuid));
            }
            return state;
        }

        private static IEnumerable<JsonNode> Rows(JsonNode? answer) => answer is JsonObject o && o["rows"] is JsonArray rows ? rows.OfType<JsonNode>() : Enumerable.Empty<JsonNode>();

        /// <summary>A string member of an object, or null (absent, or not a string).</summary>
        private static string? Str(JsonNode? node, string name) =>
            node is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        private static string OwnedDescription(DhcpReservation r) => OwnerPrefix + (r.Description ?? r.Name ?? r.ClientId);

        private string Body(DhcpReservation r, State state)
        {
            var subnet = state.Subnets.FirstOrDefault(s => s.Value.ToString() == r.ScopeId).Key
                         ?? throw DhcpErrors.Response(Server, $"no subnet {r.ScopeId} on the router for {r.ClientId}.");
            var reservation = new
            {
                subnet,
                ip_address = r.IPAddress.ToString(),
                hw_address = r.ClientId.ToUpperInvariant(),
                hostname = r.Name ?? "",
                description = OwnedDescription(r),
            };
            return JsonSerializer.Serialize(new { reservation }, Text.JsonText.Options);
        }

        private async Task<string> AddAsync(DhcpReservation r, State state, CancellationToken cancellationToken)
        {
            var answer = await CallAsync("kea/dhcpv4/add_reservation", Body(r, state), cancellationToken, expect: ("result", "saved")).ConfigureAwait(false);
            return Str(answer, "uuid") ?? throw DhcpErrors.Response(Server, $"add_reservation for {r.ClientId} returned no uuid.");
        }

        private Task SetAsync(string uuid, DhcpReservation r, State state, CancellationToken cancellationToken) =>
            CallAsync("kea/dhcpv4/set_reservation/" + Uri.EscapeDataString(uuid), Body(r, state), cancellationToken, expect: ("result", "saved"));

        private Task DeleteAsync(string uuid, CancellationToken cancellationToken) =>
            CallAsync("kea/dhcpv4/del_reservation/" + Uri.EscapeDataString(uuid), "{}", cancellationToken, expect: ("result", "deleted"));

        private async Task<JsonNode?> CallAsync(string path, string body, CancellationToken cancellationToken, (string Key, string Value)? expect = null)
        {
            HttpResponseMessage response;
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            try
            {
                response = await _http.PostAsync(new Uri(_api, path), content, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                // The inner exception says why TLS failed (untrusted, name mismatch, pin mismatch); never the key.
                throw new DeevException("ConnectionFailed", DeevErrorKind.ConnectionError, $"{Server}: {path} failed: {ex.GetBaseException().Message}", Server, ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DeevException("CommandTimeout", DeevErrorKind.OperationTimeout, $"{Server}: {path} timed out.", Server, ex);
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Unauthorized || response.StatusCode == HttpStatusCode.Forbidden)
                    throw new DeevException("AuthenticationFailed", DeevErrorKind.PermissionDenied, $"{Server} refused the API key ({(int)response.StatusCode}) for {path}.", Server)
                    { RecommendedAction = "Check dhcp.apiKeyEnv/apiKeyFile and apiSecretEnv/apiSecretFile, and the key's privileges for Kea DHCP." };
                if (!response.IsSuccessStatusCode)
                    throw DhcpErrors.Response(Server, $"{path} answered {(int)response.StatusCode}: {Short(text)}");
                JsonNode? answer;
                try { answer = JsonNode.Parse(text); }
                catch (JsonException ex) { throw DhcpErrors.Response(Server, $"{path} did not answer JSON: {Short(text)}", ex); }
                if (expect is { } e && Str(answer, e.Key) != e.Value)
                    throw DhcpErrors.Response(Server, $"{path} answered {Short(answer?.ToJsonString(Text.JsonText.Options) ?? "null")}");
                return answer;
            }
        }

        private static string Short(string text) => text.Length <= 300 ? text : text.Substring(0, 300) + "…";
    }
}
