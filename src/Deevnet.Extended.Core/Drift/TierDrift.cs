using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Drift
{
    /// <summary>
    /// What differs between the tier and its DHCP and DNS servers right now. It reads through each back end's own
    /// reader and plans a whole-tier sync with <c>-Prune</c> through the back end's planner (what -WhatIf shows), so a
    /// drift report and a sync can never disagree: Add is <see cref="DriftKind.Missing"/>, Change is
    /// <see cref="DriftKind.Changed"/>, Remove is <see cref="DriftKind.Stale"/>. Entries others wrote in the module's
    /// space (its MAC namespace, the tier's names and addresses) are <see cref="DriftKind.Foreign"/>; the tier's entries
    /// they collide with are left out of the plan, so one hand-made entry does not hide the rest of the report behind
    /// a conflict. Nothing is written.
    /// </summary>
    public sealed class TierDrift
    {
        private readonly SiteTier _tier;
        private readonly IReadOnlyList<ChangeRecord> _journal;

        /// <param name="tier">The tier to compare with.</param>
        /// <param name="journal">The journal's records, oldest first (empty without a journal).</param>
        public TierDrift(SiteTier tier, IReadOnlyList<ChangeRecord> journal)
        {
            _tier = tier;
            _journal = journal;
        }

        /// <summary>Notes for the operator about what could not be compared (hosts without a MAC, a partial identity file).</summary>
        public List<string> Warnings { get; } = new List<string>();

        public async Task<IReadOnlyList<DriftEntry>> DhcpAsync(IDhcpBackend backend, CancellationToken cancellationToken)
        {
            var tier = TierReservations.Of(_tier);
            foreach (var name in tier.WithoutMac)
                Warnings.Add($"{name} has no VMID/MAC yet, so its reservation is not compared (New-DeevHostIdentity allocates it).");
            if (!tier.IdentityComplete)
                Warnings.Add($"{backend.Server}: the tier's identity is not complete, so owned reservations it does not name are not reported as stale.");

            var existing = await backend.ReadAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<DriftEntry>();
            var wantedByMac = tier.Wanted.ToDictionary(w => w.ClientId, StringComparer.OrdinalIgnoreCase);
            var wantedByAddress = tier.Wanted.ToDictionary(w => w.IPAddress.ToString(), StringComparer.Ordinal);
            var wantedNames = new HashSet<string>(tier.Wanted.Select(w => w.Name ?? ""), StringComparer.OrdinalIgnoreCase);
            var colliding = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var f in existing.Where(r => !r.IsOwned))
            {
                wantedByMac.TryGetValue(f.ClientId, out var sameMac);
                wantedByAddress.TryGetValue(f.IPAddress.ToString(), out var sameAddress);
                var inSpace = f.ClientId.StartsWith(_tier.Site.MacNamespace + ":", StringComparison.OrdinalIgnoreCase) ||
                    sameMac != null || sameAddress != null || (f.Name != null && wantedNames.Contains(f.Name));
                if (!inSpace) continue;
                string note;
                DhcpReservation? tierEntry = sameMac ?? sameAddress;
                if (sameMac != null && sameMac.IPAddress.Equals(f.IPAddress))
                    note = "not written by the module, but gives the tier's host its address";
                else if (sameMac != null || sameAddress != null)
                {
                    note = $"collides with the tier's {tierEntry!.ClientId} -> {tierEntry.Describe()}";
                    colliding.Add(tierEntry.ClientId);
                }
                else note = "in the site's MAC namespace or using a tier name, but not written by the module";
                rows.Add(Row(backend.Server, DriftKind.Foreign, DhcpPlanner.Kind, f.ClientId, f.Describe(), tierEntry?.Describe(),
                    f.Source != null ? $"{note} ({f.Source})" : note));
            }

            var batch = new DhcpBatch(tier.Wanted.Where(w => !colliding.Contains(w.ClientId)), prune: tier.IdentityComplete);
            var plan = await backend.PlanAsync(batch, cancellationToken).ConfigureAwait(false);
            // A tier entry left out for a collision is not "no longer asked for": its own entry is not Stale.
            rows.AddRange(FromPlan(plan.Plan).Where(r => !(r.Drift == DriftKind.Stale && colliding.Contains(r.Key))));
            return Ordered(rows);
        }

        public async Task<IReadOnlyList<DriftEntry>> DnsAsync(IDnsBackend backend, CancellationToken cancellationToken)
        {
            var wanted = DesiredRecords.FromTier(_tier);
            var names = wanted.Select(w => w.Name).Distinct(StringComparer.Ordinal).ToList();
            var current = await backend.ReadAsync(names, cancellationToken).ConfigureAwait(false);
            var wantedByName = wanted.ToLookup(w => w.Name, StringComparer.Ordinal);
            var tierAddresses = new HashSet<string>(_tier.Hosts.Select(h => h.IPAddress.ToString()), StringComparer.Ordinal);
            var rows = new List<DriftEntry>();
            var colliding = new HashSet<string>(StringComparer.Ordinal);
            foreach (var f in current.Foreign)
            {
                var mine = wantedByName[f.Name].ToList();
                var claimsAddress = f.Type == DnsRecordType.A && tierAddresses.Contains(f.Value) && !mine.Any(w => w.SameData(f));
                if (mine.Count == 0 && !claimsAddress) continue;
                string note;
                if (mine.Any(w => w.SameData(f)) && mine.All(w => w.Type == f.Type))
                    note = "not written by the module, but holds the tier's data";
                else if (mine.Count > 0)
                {
                    note = $"collides with the tier's {string.Join(", ", mine.Select(w => w.Type + " " + w.Value))}";
                    foreach (var w in mine) colliding.Add(w.Key);
                }
                else note = "points at a tier host's address, but is not a name of the tier";
                var after = mine.FirstOrDefault(w => w.Type == f.Type) ?? mine.FirstOrDefault();
                rows.Add(Row(backend.Server, DriftKind.Foreign, f.Type.ToString(), f.Name, Show(f), after == null ? null : Show(after), note));
            }

            var plan = await backend.PlanAsync(new DnsBatch(wanted.Where(w => !colliding.Contains(w.Key)), prune: true), cancellationToken).ConfigureAwait(false);
            rows.AddRange(FromPlan(plan.Changes).Where(r => !(r.Drift == DriftKind.Stale && colliding.Contains(r.Key + " " + r.Kind))));
            return Ordered(rows);
        }

        /// <summary>The last journal change of <paramref name="kind"/> <paramref name="key"/> on <paramref name="server"/>.</summary>
        public JournalEntry? LastChange(string server, string kind, string key)
        {
            for (var i = _journal.Count - 1; i >= 0; i--)
            {
                var record = _journal[i];
                if (!string.Equals(record.Server, server, StringComparison.Ordinal)) continue;
                for (var j = record.Changes.Count - 1; j >= 0; j--)
                {
                    var c = record.Changes[j];
                    if (string.Equals(c.Kind, kind, StringComparison.Ordinal) && string.Equals(c.Key, key, StringComparison.OrdinalIgnoreCase))
                        return new JournalEntry(record, c);
                }
            }
            return null;
        }

        private IEnumerable<DriftEntry> FromPlan(ChangePlan plan)
        {
            foreach (var c in plan.Changes)
            {
                switch (c.Action)
                {
                    case ChangeAction.Add:
                        yield return Row(plan.Target, DriftKind.Missing, c.Kind, c.Key, null, c.After, "the tier asks for it; the server does not have it");
                        break;
                    case ChangeAction.Change:
                        yield return Row(plan.Target, DriftKind.Changed, c.Kind, c.Key, c.Before, c.After, "the module's entry differs from the tier");
                        break;
                    case ChangeAction.Remove:
                        yield return Row(plan.Target, DriftKind.Stale, c.Kind, c.Key, c.Before, null, "the module's entry, which the tier no longer asks for (Sync -Prune removes it)");
                        break;
                }
            }
        }

        private DriftEntry Row(string server, DriftKind drift, string kind, string key, string? before, string? after, string note)
        {
            var last = drift == DriftKind.Foreign ? null : LastChange(server, kind, key);
            if (last != null && last.Result == "applied" && !string.Equals(last.After, before, StringComparison.Ordinal))
                note += last.After == null
                    ? $"; the journal last recorded it removed ({last.Time:u}, {last.Operator})"
                    : before == null
                        ? $"; removed outside the module: the journal last wrote '{last.After}' ({last.Time:u}, {last.Operator})"
                        : $"; edited outside the module: the journal last wrote '{last.After}' ({last.Time:u}, {last.Operator})";
            // Keys, entries and notes carry what servers answer (names an operator or an attacker wrote): a report shows
            // them escaped, so a control character cannot repaint the terminal or forge a line of the table.
            return new DriftEntry(server, drift, kind, SafeText.Printable(key), Printable(before), Printable(after), SafeText.Printable(note), _tier.SourcePath, last);
        }

        private static string? Printable(string? text) => text == null ? null : SafeText.Printable(text);

        private static IReadOnlyList<DriftEntry> Ordered(List<DriftEntry> rows) =>
            rows.OrderBy(r => r.Drift).ThenBy(r => r.Kind, StringComparer.Ordinal).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();

        /// <summary>A record's value as plans show it (with its TTL where the server keeps one).</summary>
        private static string Show(DnsRecord r) => r.Ttl > 0 ? $"{r.Value} ttl {r.Ttl}" : r.Value;
    }
}
