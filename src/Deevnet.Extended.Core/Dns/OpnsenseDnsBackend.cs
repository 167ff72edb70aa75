using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Text.Json.Nodes;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// OPNsense's Unbound (production Deevnet core router) through its REST API, HTTP Basic with key and secret from
    /// <c>dns.apiKey*</c>/<c>dns.apiSecret*</c>. A host's A record is a host override
    /// (<c>unbound/settings/addHostOverride</c>, <c>setHostOverride/&lt;uuid&gt;</c>, <c>delHostOverride/&lt;uuid&gt;</c>);
    /// OPNsense answers its PTR itself. A service CNAME is a host alias (<c>addHostAlias</c> …) on the override of the
    /// target host. Ownership: a description starting with <c>Deevnet.Extended - </c>; rows of other writers
    /// ("Ansible managed - ", "Deevnet API - ", hand-made) are read and never changed.
    /// A batch is staged with add/set/del calls, which change OPNsense's configuration but not the running Unbound,
    /// then made live with one <c>unbound/service/reconfigure</c>. When a call fails, the calls already made are undone
    /// in reverse order and nothing is reconfigured, so the running resolver never sees half a batch.
    /// </summary>
    public sealed class OpnsenseDnsBackend : DnsBackendBase
    {
        internal const string Prefix = "Deevnet.Extended - ";
        private readonly HttpClient _client;
        private readonly string _base;
        private readonly string _endpoint;
        private List<Row> _rows = new List<Row>();

        public OpnsenseDnsBackend(DnsBackendSettings settings) : base(settings)
        {
            _endpoint = settings.Spec.Require("endpoint").TrimEnd('/');
            _base = _endpoint + "/api/";
            var key = settings.Spec.ResolveSecret("apiKey");
            var secret = settings.Spec.ResolveSecret("apiSecret");
            if (key == null || secret == null)
                throw new DeevException(DnsErrors.NotConfigured, DeevErrorKind.InvalidData, "dns.apiKeyEnv/apiKeyFile and dns.apiSecretEnv/apiSecretFile must name the OPNsense API key and secret.", "dns");
            _client = DnsHttp.CreateClient(settings.Spec, settings.Timeout);
            _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":" + secret)));
        }

        public override string Kind => "opnsense";
        public override string Server => $"opnsense {_endpoint}";

        /// <summary>A host override or alias as OPNsense holds it.</summary>
        private sealed class Row
        {
            public string Uuid = "";
            public bool IsAlias;
            public bool Enabled;
            public string Hostname = "";
            public string Domain = "";
            public string Server = "";
            public string HostUuid = "";
            public string Description = "";
            public string Fqdn => (Hostname.Length > 0 ? Hostname + "." : "") + Domain.TrimEnd('.').ToLowerInvariant();
            public bool Owned => Description.StartsWith(Prefix, StringComparison.Ordinal);
        }

        public override async Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken)
        {
            var doc = Json.Parse(await CallAsync(HttpMethod.Get, "unbound/settings/get", null, cancellationToken).ConfigureAwait(false));
            var unbound = Json.Member(doc, "unbound");
            var rows = new List<Row>();
            foreach (var h in Json.Items(Json.Member(Json.Member(unbound, "hosts"), "host")))
            {
                rows.Add(new Row
                {
                    Uuid = Json.KeyOf(h), Enabled = Field(h, "enabled") == "1", Hostname = Field(h, "hostname").ToLowerInvariant(),
                    Domain = Field(h, "domain").ToLowerInvariant(), Server = Field(h, "server"), Description = Field(h, "description"),
                });
            }
            foreach (var a in Json.Items(Json.Member(Json.Member(unbound, "aliases"), "alias")))
            {
                rows.Add(new Row
                {
                    Uuid = Json.KeyOf(a), IsAlias = true, Enabled = Field(a, "enabled") == "1", Hostname = Field(a, "hostname").ToLowerInvariant(),
                    Domain = Field(a, "domain").ToLowerInvariant(), HostUuid = Field(a, "host"), Description = Field(a, "description"),
                });
            }
            _rows = rows;
            var owned = new List<DnsRecord>();
            var foreign = new List<DnsRecord>();
            foreach (var r in rows.Where(r => r.Enabled))
            {
                foreach (var rec in ToRecords(r, rows)) (r.Owned ? owned : foreign).Add(rec.As(r.Owned, Server));
            }
            return new DnsRecordSet(DesiredRecords.Sort(owned), DesiredRecords.Sort(foreign));
        }

        private static IEnumerable<DnsRecord> ToRecords(Row r, List<Row> rows)
        {
            var list = new List<DnsRecord>();
            try
            {
                if (!r.IsAlias)
                {
                    list.AddRange(DesiredRecords.ForHost(r.Fqdn, r.Server));
                }
                else
                {
                    var host = rows.FirstOrDefault(h => !h.IsAlias && h.Uuid == r.HostUuid);
                    if (host != null) list.Add(DesiredRecords.ForAlias(r.Fqdn, host.Fqdn));
                }
            }
            catch (DeevException)
            {
                // Wildcards, AAAA and MX overrides are not records the module writes.
            }
            return list;
        }

        /// <summary>A plain string field, or the selected key of an OPNsense option field (<c>{key: {value, selected}}</c>).</summary>
        private static string Field(JsonNode row, string name)
        {
            var m = Json.Member(row, name);
            if (m == null) return "";
            if (m is not JsonObject) return Json.TextOf(m);
            var selected = Json.Items(m).FirstOrDefault(e => Json.Str(e, "selected") == "1");
            return selected == null ? "" : Json.KeyOf(selected);
        }

        protected override async Task<bool> CommitAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var targetA = plan.TargetOwned.Where(r => r.Type == DnsRecordType.A).ToDictionary(r => r.Name, StringComparer.Ordinal);
            var lonePtr = plan.TargetOwned.FirstOrDefault(p => p.Type == DnsRecordType.PTR &&
                !(targetA.TryGetValue(p.Value, out var a) && DnsRecord.ReverseName(IPAddress.Parse(a.Value)) == p.Name));
            if (lonePtr != null)
                throw DnsRecord.Invalid($"OPNsense answers PTRs from host overrides only; {lonePtr.Name} PTR {lonePtr.Value} has no matching A record.", lonePtr.Name);
            var targetCname = plan.TargetOwned.Where(r => r.Type == DnsRecordType.CNAME).ToDictionary(r => r.Name, StringComparer.Ordinal);
            var ownedHosts = _rows.Where(r => r.Owned && !r.IsAlias).ToList();
            var ownedAliases = _rows.Where(r => r.Owned && r.IsAlias).ToList();
            var undo = new Stack<Func<Task>>();
            try
            {
                // Aliases that go or change target first, then hosts, then new aliases (they need their host's uuid).
                foreach (var alias in ownedAliases.Where(a => !targetCname.ContainsKey(a.Fqdn)))
                {
                    await CallAsync(HttpMethod.Post, "unbound/settings/delHostAlias/" + alias.Uuid, "", cancellationToken).ConfigureAwait(false);
                    var copy = alias;
                    undo.Push(() => CallAsync(HttpMethod.Post, "unbound/settings/addHostAlias", AliasBody(copy.Hostname, copy.Domain, copy.HostUuid, copy.Description), CancellationToken.None));
                }
                var hostUuids = _rows.Where(r => !r.IsAlias && r.Enabled).GroupBy(r => r.Fqdn).ToDictionary(g => g.Key, g => g.First().Uuid, StringComparer.Ordinal);
                foreach (var host in ownedHosts)
                {
                    if (!targetA.TryGetValue(host.Fqdn, out var a))
                    {
                        await CallAsync(HttpMethod.Post, "unbound/settings/delHostOverride/" + host.Uuid, "", cancellationToken).ConfigureAwait(false);
                        var copy = host;
                        undo.Push(() => CallAsync(HttpMethod.Post, "unbound/settings/addHostOverride", HostBody(copy.Hostname, copy.Domain, copy.Server, copy.Description), CancellationToken.None));
                    }
                    else if (a.Value != host.Server)
                    {
                        await CallAsync(HttpMethod.Post, "unbound/settings/setHostOverride/" + host.Uuid, HostBody(host.Hostname, host.Domain, a.Value, Describe(a)), cancellationToken).ConfigureAwait(false);
                        var copy = host;
                        undo.Push(() => CallAsync(HttpMethod.Post, "unbound/settings/setHostOverride/" + copy.Uuid, HostBody(copy.Hostname, copy.Domain, copy.Server, copy.Description), CancellationToken.None));
                    }
                }
                foreach (var a in targetA.Values.Where(a => !ownedHosts.Any(h => h.Fqdn == a.Name)))
                {
                    var (host, domain) = Split(a.Name);
                    var answer = await CallAsync(HttpMethod.Post, "unbound/settings/addHostOverride", HostBody(host, domain, a.Value, Describe(a)), cancellationToken).ConfigureAwait(false);
                    var uuid = Json.Str(Json.Parse(answer), "uuid") ?? throw Rejected("addHostOverride returned no uuid", answer);
                    hostUuids[a.Name] = uuid;
                    undo.Push(() => CallAsync(HttpMethod.Post, "unbound/settings/delHostOverride/" + uuid, "", CancellationToken.None));
                }
                foreach (var c in targetCname.Values)
                {
                    if (!hostUuids.TryGetValue(c.Value, out var targetUuid))
                        throw DnsRecord.Invalid($"OPNsense aliases point at host overrides; {c.Value} (target of {c.Name}) has none.", c.Name);
                    var existing = ownedAliases.FirstOrDefault(x => x.Fqdn == c.Name);
                    var (host, domain) = Split(c.Name);
                    if (existing == null)
                    {
                        var answer = await CallAsync(HttpMethod.Post, "unbound/settings/addHostAlias", AliasBody(host, domain, targetUuid, Describe(c)), cancellationToken).ConfigureAwait(false);
                        var uuid = Json.Str(Json.Parse(answer), "uuid") ?? throw Rejected("addHostAlias returned no uuid", answer);
                        undo.Push(() => CallAsync(HttpMethod.Post, "unbound/settings/delHostAlias/" + uuid, "", CancellationToken.None));
                    }
                    else if (existing.HostUuid != targetUuid)
                    {
                        await CallAsync(HttpMethod.Post, "unbound/settings/setHostAlias/" + existing.Uuid, AliasBody(host, domain, targetUuid, Describe(c)), cancellationToken).ConfigureAwait(false);
                        undo.Push(() => CallAsync(HttpMethod.Post, "unbound/settings/setHostAlias/" + existing.Uuid, AliasBody(existing.Hostname, existing.Domain, existing.HostUuid, existing.Description), CancellationToken.None));
                    }
                }
            }
            catch (DeevException)
            {
                while (undo.Count > 0)
                {
                    try { await undo.Pop()().ConfigureAwait(false); }
                    catch (DeevException ex) { Log.Warning($"{Server}: undoing a staged change failed: {ex.Message}"); }
                }
                throw;
            }
            var status = await CallAsync(HttpMethod.Post, "unbound/service/reconfigure", "", cancellationToken).ConfigureAwait(false);
            if (Json.Str(Json.Parse(status), "status")?.ToLowerInvariant() != "ok")
                throw new DeevException(DnsErrors.ReloadFailed, DeevErrorKind.WriteError, $"{Server}: unbound/service/reconfigure did not report ok: {Trim(status)}", Server);
            return false;
        }

        private (string Host, string Domain) Split(string fqdn)
        {
            if (!DnsRecord.IsInZone(fqdn, Zone) || fqdn == Zone) throw DnsRecord.Invalid($"{fqdn} is not a name in {Zone}.", fqdn);
            return (fqdn.Substring(0, fqdn.Length - Zone.Length - 1), Zone);
        }

        private static string Describe(DnsRecord r) => Prefix + r.Name;

        private static string HostBody(string host, string domain, string ip, string description) =>
            Json.Write(new { host = new { enabled = "1", hostname = host, domain, server = ip, description } });

        private static string AliasBody(string host, string domain, string hostUuid, string description) =>
            Json.Write(new { alias = new { enabled = "1", host = hostUuid, hostname = host, domain, description } });

        private DeevException Rejected(string what, string body) =>
            new DeevException(DnsErrors.UpdateRejected, DeevErrorKind.InvalidData, $"{Server} refused the change ({what}); nothing of the batch was applied: {Trim(body)}", Server);

        /// <summary>One API call; HTTP errors and <c>"result":"failed"</c> answers become errors naming the call.</summary>
        private async Task<string> CallAsync(HttpMethod method, string path, string? body, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, _base + path);
            if (body != null) request.Content = DnsHttp.JsonBody(body.Length == 0 ? "{}" : body);
            var (status, text) = await DnsHttp.SendAsync(_client, request, Server, Settings.Timeout, cancellationToken).ConfigureAwait(false);
            if (status == 401 || status == 403)
                throw new DeevException("AuthenticationFailed", DeevErrorKind.PermissionDenied, $"{Server} refused the API key and secret (HTTP {status}).", Server);
            if (status / 100 != 2) throw Rejected($"{path}: HTTP {status}", text);
            if (method == HttpMethod.Post && body != null && text.Contains("\"result\""))
            {
                var result = Json.Str(Json.Parse(text), "result");
                if (result != null && result != "saved" && result != "deleted") throw Rejected(path, text);
            }
            return text;
        }

        public override void Dispose() => _client.Dispose();
    }
}
