using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using System.Text.Json.Nodes;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.OPNsense;
using Deevnet.Extended.Core.Text;

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
        private const string Prefix = OpnsenseClient.OwnerPrefix;
        private static readonly OpnsenseItem Host = OpnsenseItem.Camel("unbound/settings", "HostOverride");
        private static readonly OpnsenseItem Alias = OpnsenseItem.Camel("unbound/settings", "HostAlias");
        private readonly OpnsenseClient _api;
        private List<Row> _rows = new List<Row>();

        /// <summary>The back end over <paramref name="api"/>, which it owns (and disposes).</summary>
        public OpnsenseDnsBackend(DnsBackendSettings settings, OpnsenseClient api) : base(settings)
        {
            _api = api;
        }

        public override string Kind => "opnsense";
        public override string Server => _api.Server;

        /// <summary>
        /// A host override or alias as OPNsense holds it. <c>Rr</c> is a host override's record type (Unbound.xml
        /// <c>hosts.host.rr</c>: A, AAAA, MX or TXT; "A" when an older release has no such field).
        /// </summary>
        private sealed record Row(string Uuid, bool IsAlias, bool Enabled, string Hostname, string Domain, string Server, string HostUuid, string Description, string Rr)
        {
            public string Fqdn => ((Hostname.Length > 0 ? Hostname + "." : "") + Domain.TrimEnd('.')).ToLowerInvariant();
            public bool Owned => Description.StartsWith(Prefix, StringComparison.Ordinal);

            public static Row From(JsonNode n, bool alias) => new Row(Json.KeyOf(n), alias, Field(n, "enabled") == "1", Field(n, "hostname"),
                Field(n, "domain"), alias ? "" : Field(n, "server"), alias ? Field(n, "host") : "", Field(n, "description"),
                alias ? "" : Field(n, "rr") is { Length: > 0 } rr ? rr : "A");
        }

        public override async Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken)
        {
            var unbound = Json.Member(await _api.GetAsync("unbound/settings/get", cancellationToken).ConfigureAwait(false), "unbound");
            var rows = Json.Items(Json.Member(Json.Member(unbound, "hosts"), "host")).Select(h => Row.From(h, alias: false))
                .Concat(Json.Items(Json.Member(Json.Member(unbound, "aliases"), "alias")).Select(a => Row.From(a, alias: true))).ToList();
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
                    if (r.Rr == "A") list.AddRange(DesiredRecords.ForHost(r.Fqdn, r.Server));
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

        /// <summary>The plan, checked as the commit will check it, so that -WhatIf shows a refusal too.</summary>
        public override async Task<DnsPlan> PlanAsync(DnsBatch batch, CancellationToken cancellationToken)
        {
            var plan = await base.PlanAsync(batch, cancellationToken).ConfigureAwait(false);
            if (plan.HasChanges) Arrange(plan);
            return plan;
        }

        /// <summary>Which owned rows a plan keeps (one per wanted name), deletes, and what it wants for A and CNAME names.</summary>
        private sealed record Layout(Dictionary<string, DnsRecord> TargetA, Dictionary<string, DnsRecord> TargetCname,
            Dictionary<string, Row> KeptHosts, Dictionary<string, Row> KeptAliases, List<Row> DoomedHosts, List<Row> DoomedAliases);

        private Layout Arrange(DnsPlan plan)
        {
            var targetA = plan.TargetOwned.Where(r => r.Type == DnsRecordType.A).ToDictionary(r => r.Name, StringComparer.Ordinal);
            var lonePtr = plan.TargetOwned.FirstOrDefault(p => p.Type == DnsRecordType.PTR &&
                !(targetA.TryGetValue(p.Value, out var a) && DnsRecord.ReverseName(IPAddress.Parse(a.Value)) == p.Name));
            if (lonePtr != null)
                throw DnsRecord.Invalid($"OPNsense answers PTRs from host overrides only; {lonePtr.Name} PTR {lonePtr.Value} has no matching A record.", lonePtr.Name);
            var targetCname = plan.TargetOwned.Where(r => r.Type == DnsRecordType.CNAME).ToDictionary(r => r.Name, StringComparer.Ordinal);
            // One owned row per wanted name is kept (an enabled one first); a disabled one is enabled again, and one
            // turned into another record type by hand becomes an A override again.
            var keptHosts = _rows.Where(r => r.Owned && !r.IsAlias && targetA.ContainsKey(r.Fqdn)).OrderByDescending(r => r.Enabled)
                .GroupBy(r => r.Fqdn).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var keptAliases = _rows.Where(r => r.Owned && r.IsAlias && targetCname.ContainsKey(r.Fqdn)).OrderByDescending(r => r.Enabled)
                .GroupBy(r => r.Fqdn).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            // Owned A overrides that go. Disabled ones (and other record types) the tier does not want are no records
            // of the module's and are left as they are.
            var doomedHosts = _rows.Where(r => r.Owned && !r.IsAlias && r.Enabled && r.Rr == "A" && !keptHosts.ContainsValue(r)).ToList();
            RefuseForeignAliasesOn(doomedHosts);
            // Owned aliases that go: enabled ones nobody wants, and disabled ones the host delete would take along.
            var doomedAliases = _rows.Where(r => r.Owned && r.IsAlias && !keptAliases.ContainsValue(r)
                && (r.Enabled || doomedHosts.Any(h => h.Uuid == r.HostUuid))).ToList();
            return new Layout(targetA, targetCname, keptHosts, keptAliases, doomedHosts, doomedAliases);
        }

        protected override async Task<bool> CommitAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var (targetA, targetCname, keptHosts, keptAliases, doomedHosts, doomedAliases) = Arrange(plan);
            var calls = new OpnsenseBatch(_api);
            try
            {
                // Upstream SettingsController::delHostOverrideAction deletes every alias whose host is the deleted
                // override. So: owned aliases that go, first; then hosts set and added; then aliases set and added
                // (they need their host's uuid); and hosts deleted last, when no alias the module keeps points at them
                // (foreign ones were refused above), so the cascade deletes nothing the batch did not journal.
                foreach (var alias in doomedAliases)
                    await calls.DeleteAsync(Alias, alias.Uuid, AliasBody(alias), cancellationToken).ConfigureAwait(false);
                var hostUuids = _rows.Where(r => !r.IsAlias && r.Enabled).GroupBy(r => r.Fqdn).ToDictionary(g => g.Key, g => g.First().Uuid, StringComparer.Ordinal);
                foreach (var a in targetA.Values)
                {
                    var (host, domain) = Split(a.Name);
                    if (!keptHosts.TryGetValue(a.Name, out var row))
                        hostUuids[a.Name] = await calls.AddAsync(Host, HostBody(host, domain, a.Value, Describe(a)), cancellationToken).ConfigureAwait(false);
                    else if (a.Value != row.Server || !row.Enabled || row.Rr != "A")
                        await calls.SetAsync(Host, row.Uuid, HostBody(row.Hostname, row.Domain, a.Value, Describe(a)), HostBody(row), cancellationToken).ConfigureAwait(false);
                    if (row != null) hostUuids[a.Name] = row.Uuid;
                }
                foreach (var c in targetCname.Values)
                {
                    if (!hostUuids.TryGetValue(c.Value, out var targetUuid))
                        throw DnsRecord.Invalid($"OPNsense aliases point at host overrides; {c.Value} (target of {c.Name}) has none.", c.Name);
                    var (host, domain) = Split(c.Name);
                    if (!keptAliases.TryGetValue(c.Name, out var existing))
                        await calls.AddAsync(Alias, AliasBody(host, domain, targetUuid, Describe(c)), cancellationToken).ConfigureAwait(false);
                    else if (existing.HostUuid != targetUuid || !existing.Enabled)
                        await calls.SetAsync(Alias, existing.Uuid, AliasBody(host, domain, targetUuid, Describe(c)), AliasBody(existing), cancellationToken).ConfigureAwait(false);
                }
                foreach (var host in doomedHosts)
                    await calls.DeleteAsync(Host, host.Uuid, HostBody(host), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DeevException || ex is OperationCanceledException)
            {
                var restored = await calls.UndoAsync(Log).ConfigureAwait(false); // a cancel, too, leaves nothing staged
                if (ex is not DeevException { ErrorId: OpnsenseErrors.Rejected }) throw;
                var outcome = restored ? "nothing of the batch was applied" : "the batch could not be undone completely (see the warnings); Unbound was not reconfigured";
                throw new DeevException(DnsErrors.UpdateRejected, DeevErrorKind.InvalidData, $"{ex.Message}; {outcome}.", Server, ex);
            }
            try
            {
                await _api.ReconfigureAsync("unbound", cancellationToken).ConfigureAwait(false);
            }
            catch (DeevException ex) when (ex.ErrorId == OpnsenseErrors.Rejected)
            {
                throw new DeevException(DnsErrors.ReloadFailed, DeevErrorKind.WriteError, ex.Message, Server, ex);
            }
            return false;
        }

        private (string Host, string Domain) Split(string fqdn)
        {
            if (!DnsRecord.IsInZone(fqdn, Zone) || fqdn == Zone) throw DnsRecord.Invalid($"{fqdn} is not a name in {Zone}.", fqdn);
            return (fqdn.Substring(0, fqdn.Length - Zone.Length - 1), Zone);
        }

        private static string Describe(DnsRecord r) => Prefix + r.Name;

        /// <summary>
        /// Deleting an override deletes the aliases on it (upstream <c>SettingsController::delHostOverrideAction</c>), so an
        /// owned host that goes while an alias the module does not own points at it would take that alias along: refused
        /// before any call, naming the aliases.
        /// </summary>
        private void RefuseForeignAliasesOn(List<Row> doomedHosts)
        {
            var clashes = doomedHosts.SelectMany(h => _rows.Where(r => r.IsAlias && !r.Owned && r.HostUuid == h.Uuid)
                .Select(alias => $"{alias.Fqdn} ({(alias.Description.Length > 0 ? alias.Description : "no description")}) is an alias on {h.Fqdn}")).ToList();
            if (clashes.Count == 0) return;
            throw new DeevException(DnsErrors.RecordConflict, DeevErrorKind.ResourceExists,
                $"Nothing was changed on {Server}: {string.Join("; ", clashes)}, which the module did not write; OPNsense deletes a host override's aliases with it.", Server)
            {
                RecommendedAction = "Move or remove the other alias by hand, or keep the host in the tier.",
            };
        }

        private static object HostBody(Row r) => new { host = new { enabled = r.Enabled ? "1" : "0", hostname = r.Hostname, domain = r.Domain, rr = r.Rr, server = r.Server, description = r.Description } };

        private static object AliasBody(Row r) => new { alias = new { enabled = r.Enabled ? "1" : "0", host = r.HostUuid, hostname = r.Hostname, domain = r.Domain, description = r.Description } };

        private static object HostBody(string host, string domain, string ip, string description) =>
            new { host = new { enabled = "1", hostname = host, domain, rr = "A", server = ip, description } };

        private static object AliasBody(string host, string domain, string hostUuid, string description) =>
            new { alias = new { enabled = "1", host = hostUuid, hostname = host, domain, description } };

        public override void Dispose() => _api.Dispose();
    }
}
