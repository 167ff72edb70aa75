using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Http;
using Deevnet.Extended.Core.Text;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// PowerDNS Authoritative through its HTTP API (<c>/api/v1/servers/&lt;serverId&gt;/zones/&lt;zone&gt;</c>), key from
    /// <c>dns.apiKeyEnv</c>/<c>apiKeyFile</c>. Ownership is a comment on the RRset (account <c>Deevnet.Extended</c>),
    /// which PowerDNS stores with the zone (the SQLite back end keeps it in its <c>comments</c> table) and returns on
    /// every read; RRsets without it, such as the lab's <c>handmade</c>, are never part of a PATCH.
    /// A batch is one PATCH per zone: PowerDNS applies a PATCH in one database transaction, all or nothing. When a later
    /// zone's PATCH fails, the zones already patched are put back with an inverse PATCH.
    /// The API speaks plain http, so the endpoint is normally <c>http://127.0.0.1:8081</c> on the server of <c>dns.via</c>,
    /// reached through an SSH tunnel over that connection (<see cref="RestClient"/>); the key never crosses a network in clear.
    /// </summary>
    public sealed class PowerDnsBackend : DnsBackendBase
    {
        internal const string Account = "Deevnet.Extended";
        internal const string CommentText = "Managed by Deevnet.Extended; do not edit";
        private static readonly RestErrorIds Errors = new RestErrorIds(DnsErrors.ServerUnreachable, "AuthenticationFailed", DnsErrors.ServerUnreachable);
        private readonly RestClient _rest;
        private readonly string _base;
        private Dictionary<string, string> _zoneIds = new Dictionary<string, string>(StringComparer.Ordinal);

        public PowerDnsBackend(DnsBackendSettings settings) : base(settings)
        {
            _base = $"/api/v1/servers/{Uri.EscapeDataString(settings.Spec.Get("serverId") ?? "localhost")}";
            var key = settings.Spec.ResolveSecret("apiKey") ?? throw new DeevException(DnsErrors.NotConfigured, DeevErrorKind.InvalidData,
                "dns.apiKeyEnv or dns.apiKeyFile must name the PowerDNS API key.", "dns");
            var tunnel = settings.Spec.Via is { IsLocal: false } ? settings.RequireTransport() : null;
            _rest = new RestClient(settings.Spec, "powerdns", ("X-API-Key", key), new[] { key }, settings.Log, settings.Timeout, tunnel, Errors);
        }

        public override string Kind => "powerdns";
        public override string Server => _rest.Server;

        public override async Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken)
        {
            var list = Json.Parse(await GetAsync(_base + "/zones", cancellationToken).ConfigureAwait(false));
            var ids = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var z in Json.Items(list))
                ids[(Json.Str(z, "name") ?? "").TrimEnd('.').ToLowerInvariant()] = Json.Str(z, "id") ?? Json.Str(z, "name")!;
            if (!ids.ContainsKey(Zone))
                throw new DeevException(DnsErrors.ZoneNotServed, DeevErrorKind.ObjectNotFound, $"{Server} has no zone {Zone}.", Zone)
                { RecommendedAction = "Create the zone in PowerDNS (pdnsutil create-zone) or fix dns.zone." };
            var candidates = new HashSet<string>(Settings.ReverseZoneCandidates(), StringComparer.Ordinal) { Zone };
            foreach (var n in names ?? Enumerable.Empty<string>())
                if (n.EndsWith(".in-addr.arpa", StringComparison.Ordinal)) candidates.UnionWith(BindDnsBackend.ParentZones(n));
            _zoneIds = ids.Where(kv => candidates.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

            var owned = new List<DnsRecord>();
            var foreign = new List<DnsRecord>();
            var zones = await Task.WhenAll(_zoneIds.Values.Select(id => GetAsync($"{_base}/zones/{Uri.EscapeDataString(id)}", cancellationToken))).ConfigureAwait(false);
            foreach (var zone in zones.Select(Json.Parse))
            {
                foreach (var rrset in Json.Items(Json.Member(zone, "rrsets")))
                {
                    var type = Json.Str(rrset, "type");
                    if (type != "A" && type != "PTR" && type != "CNAME") continue;
                    var isOwned = Json.Items(Json.Member(rrset, "comments")).Any(c => Json.Str(c, "account") == Account);
                    if (!int.TryParse(Json.Str(rrset, "ttl") ?? "0", System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ttl)) continue;
                    foreach (var rec in Json.Items(Json.Member(rrset, "records")))
                    {
                        if (Json.Flag(rec, "disabled")) continue;
                        var r = DnsRecord.TryRead(Json.Str(rrset, "name"), (DnsRecordType)Enum.Parse(typeof(DnsRecordType), type), Json.Str(rec, "content"), ttl);
                        if (r != null) (isOwned ? owned : foreign).Add(r.As(isOwned, Server));
                    }
                }
            }
            return new DnsRecordSet(DesiredRecords.Sort(owned), DesiredRecords.Sort(foreign));
        }

        protected override bool CanHold(DnsRecord record) => ZoneOf(record.Name) != null;

        private string? ZoneOf(string name) => _zoneIds.Keys.Where(z => DnsRecord.IsInZone(name, z)).OrderByDescending(z => z.Length).FirstOrDefault();

        protected override async Task<bool> CommitAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var before = plan.Current.Owned.ToLookup(r => r.Key, StringComparer.Ordinal);
            var after = plan.TargetOwned.ToLookup(r => r.Key, StringComparer.Ordinal);
            var keys = before.Select(g => g.Key).Union(after.Select(g => g.Key), StringComparer.Ordinal)
                .Where(k => !SameSet(before[k], after[k])).ToList();
            var byZone = keys.GroupBy(k => ZoneOf(k.Substring(0, k.IndexOf(' '))) ?? Zone).ToList();
            var done = new List<(string Zone, List<string> Keys)>();
            foreach (var zone in byZone)
            {
                var body = Patch(zone, k => after[k].ToList());
                var answer = await PatchAsync(zone.Key, body, cancellationToken).ConfigureAwait(false);
                if (!answer.IsSuccess)
                {
                    foreach (var d in Enumerable.Reverse(done))
                    {
                        var undo = await PatchAsync(d.Zone, Patch(d.Keys, k => before[k].ToList()), CancellationToken.None).ConfigureAwait(false);
                        if (!undo.IsSuccess) Log.Warning($"{Server}: reverting the earlier PATCH of {d.Zone} failed: {_rest.Clean(undo.Body)}");
                    }
                    throw new DeevException(DnsErrors.UpdateRejected, DeevErrorKind.InvalidData,
                        $"{Server} refused the PATCH of {zone.Key} (HTTP {answer.Status}); nothing of the batch was kept: {_rest.Clean(answer.Body)}", Server);
                }
                done.Add((zone.Key, zone.ToList()));
            }
            return false;
        }

        private static bool SameSet(IEnumerable<DnsRecord> a, IEnumerable<DnsRecord> b) =>
            new HashSet<string>(a.Select(r => r.Value + "/" + r.Ttl)).SetEquals(b.Select(r => r.Value + "/" + r.Ttl));

        /// <summary>The PATCH body: REPLACE an RRset with its records and the ownership comment, or DELETE it.</summary>
        private static string Patch(IEnumerable<string> keys, Func<string, List<DnsRecord>> recordsOf)
        {
            var rrsets = new List<object>();
            foreach (var key in keys)
            {
                var space = key.IndexOf(' ');
                var name = key.Substring(0, space) + ".";
                var type = key.Substring(space + 1);
                var records = recordsOf(key);
                if (records.Count == 0)
                {
                    rrsets.Add(new { name, type, changetype = "DELETE" });
                    continue;
                }
                rrsets.Add(new
                {
                    name, type, ttl = records[0].Ttl, changetype = "REPLACE",
                    records = records.Select(r => new { content = r.Type == DnsRecordType.A ? r.Value : r.Value + ".", disabled = false }),
                    comments = new[] { new { content = CommentText, account = Account } },
                });
            }
            return Json.Write(new { rrsets });
        }

        private Task<string> GetAsync(string path, CancellationToken cancellationToken) => _rest.CallAsync(HttpMethod.Get, path, null, cancellationToken);

        private Task<RestResponse> PatchAsync(string zone, string body, CancellationToken cancellationToken) =>
            _rest.SendAsync(HttpMethod.Patch, $"{_base}/zones/{Uri.EscapeDataString(_zoneIds.TryGetValue(zone, out var id) ? id : zone + ".")}",
                new StringContent(body, new UTF8Encoding(false), "application/json"), cancellationToken);

        public override void Dispose() => _rest.Dispose();
    }
}
