using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>The outcome of planning a batch: the plan lines and the complete set of owned reservations afterwards.</summary>
    public sealed class DhcpPlan
    {
        public DhcpPlan(ChangePlan plan, IReadOnlyList<DhcpReservation> owned, IReadOnlyList<DhcpReservation> existing)
        {
            Plan = plan;
            Owned = owned;
            Existing = existing;
        }

        public ChangePlan Plan { get; }

        /// <summary>Every reservation the module owns once the plan is applied, scope filled in, in MAC order.</summary>
        public IReadOnlyList<DhcpReservation> Owned { get; }

        /// <summary>What the server held when the plan was made (owned and not owned).</summary>
        public IReadOnlyList<DhcpReservation> Existing { get; }
    }

    /// <summary>
    /// Plans a batch against what a server holds, the same way for every back end. Pure: no I/O, so every rule
    /// (ownership, conflicts, idempotence) is tested without a server. Conflicts are collected for the whole batch
    /// and thrown together as <see cref="ReservationConflictException"/>; then nothing is applied.
    /// </summary>
    public static class DhcpPlanner
    {
        public const string Kind = "Reservation";

        /// <param name="existing">Everything the server holds, owned or not.</param>
        /// <param name="subnets">The subnets the server hands out addresses in; a reservation must sit in one of them.</param>
        /// <param name="batch">What the caller asks for.</param>
        /// <param name="server">Names the server in plan lines and errors.</param>
        public static DhcpPlan Plan(IReadOnlyList<DhcpReservation> existing, IReadOnlyList<Ipv4Network> subnets, DhcpBatch batch, string server)
        {
            var conflicts = new List<string>();
            var owned = new Dictionary<string, DhcpReservation>(StringComparer.Ordinal);
            foreach (var r in existing.Where(r => r.IsOwned)) owned[r.ClientId] = r;
            var foreign = existing.Where(r => !r.IsOwned).ToList();

            RefuseDuplicates(batch);
            var desired = batch.Upserts.ToDictionary(u => u.ClientId, StringComparer.Ordinal);
            var order = batch.Upserts.Select(u => u.ClientId).ToList();

            var lines = new List<PlannedChange>();
            var final = new Dictionary<string, DhcpReservation>(owned, StringComparer.Ordinal);

            foreach (var mac in order)
            {
                var want = desired[mac];
                var subnet = subnets.Where(s => s.Contains(want.IPAddress)).OrderByDescending(s => s.PrefixLength).Cast<Ipv4Network?>().FirstOrDefault();
                if (subnet == null)
                {
                    conflicts.Add($"{mac} -> {want.IPAddress}: the address is outside every subnet of {server} ({(subnets.Count == 0 ? "it reports none" : string.Join(", ", subnets))}).");
                    continue;
                }
                if (want.ScopeId != null && !DhcpFields.ScopeMatches(want.ScopeId, subnet.Value))
                {
                    conflicts.Add($"{mac} -> {want.IPAddress}: ScopeId {want.ScopeId} does not match the subnet {subnet.Value} that holds the address.");
                    continue;
                }
                var placed = want.With(scopeId: subnet.Value.ToString(), isOwned: true, server: server);

                var sameMacForeign = foreign.FirstOrDefault(f => f.ClientId == mac);
                if (sameMacForeign != null)
                {
                    if (sameMacForeign.IPAddress.Equals(want.IPAddress))
                    {
                        // A hand-made entry already gives this MAC this address: leave it alone, do not add a duplicate.
                        final.Remove(mac);
                        lines.Add(new PlannedChange(ChangeAction.Unchanged, Kind, mac, sameMacForeign.Describe() + " [not owned]", sameMacForeign.Describe() + " [not owned]", server));
                        continue;
                    }
                    conflicts.Add($"{mac} -> {want.IPAddress}: {server} already has a reservation for this MAC that the module does not own ({sameMacForeign.Describe()}{Where(sameMacForeign)}).");
                    continue;
                }
                final[mac] = placed;
            }

            foreach (var raw in batch.Removals)
            {
                if (desired.ContainsKey(raw)) continue; // set and removed in one batch: the later intent is unclear, keep the set
                if (owned.ContainsKey(raw))
                {
                    final.Remove(raw);
                    continue;
                }
                var f = foreign.FirstOrDefault(x => x.ClientId == raw);
                if (f != null) conflicts.Add($"{raw}: the reservation on {server} ({f.Describe()}{Where(f)}) was not written by the module, so it is not removed.");
                else lines.Add(new PlannedChange(ChangeAction.Unchanged, Kind, raw, null, null, server));
            }

            if (batch.Prune)
            {
                foreach (var mac in owned.Keys.Where(m => !desired.ContainsKey(m)).ToList()) final.Remove(mac);
            }

            // Uniqueness of the result: one reservation per address and per MAC across owned and foreign entries.
            foreach (var group in final.Values.Concat(foreign).GroupBy(r => r.IPAddress.ToString()).Where(g => g.Count() > 1))
            {
                var touched = group.Where(r => r.IsOwned && desired.ContainsKey(r.ClientId)).ToList();
                if (touched.Count == 0) continue; // an old clash the batch does not make worse is not this batch's conflict
                foreach (var t in touched)
                {
                    var others = group.Where(o => !ReferenceEquals(o, t)).Select(o => $"{o.ClientId}{(o.IsOwned ? "" : " (not owned" + Where(o) + ")")}");
                    conflicts.Add($"{t.ClientId} -> {t.IPAddress}: the address is already reserved for {string.Join(", ", others)}.");
                }
            }

            if (conflicts.Count > 0) throw new ReservationConflictException(conflicts.Distinct().ToList(), server);

            foreach (var mac in order.Where(m => final.ContainsKey(m)))
            {
                var after = final[mac];
                if (!owned.TryGetValue(mac, out var before)) lines.Add(new PlannedChange(ChangeAction.Add, Kind, mac, null, after.Describe(), server));
                else if (!before.SameContent(after)) lines.Add(new PlannedChange(ChangeAction.Change, Kind, mac, before.Describe(), after.Describe(), server));
                else lines.Add(new PlannedChange(ChangeAction.Unchanged, Kind, mac, before.Describe(), after.Describe(), server));
            }
            foreach (var mac in owned.Keys.Where(m => !final.ContainsKey(m)).OrderBy(m => m, StringComparer.Ordinal))
            {
                lines.Add(new PlannedChange(ChangeAction.Remove, Kind, mac, owned[mac].Describe(), null, server));
            }

            var ownedAfter = final.Values.OrderBy(r => r.ClientId, StringComparer.Ordinal).ToList();
            return new DhcpPlan(new ChangePlan(server, lines), ownedAfter, existing);
        }

        /// <summary>
        /// A batch that names one MAC, one address or one host name twice (after normalisation) is ambiguous: which one
        /// was meant? Silently keeping the last would drop a reservation without a word, so the batch is refused whole,
        /// naming both entries, before anything is sent. Cmdlets call it before they read the server; planning calls it
        /// again for every other caller.
        /// </summary>
        public static void RefuseDuplicates(DhcpBatch batch)
        {
            var problems = new List<string>();
            void Check(string what, Func<DhcpReservation, string?> key)
            {
                var seen = new Dictionary<string, DhcpReservation>(StringComparer.OrdinalIgnoreCase);
                foreach (var u in batch.Upserts)
                {
                    var value = key(u);
                    if (value == null) continue;
                    if (seen.TryGetValue(value, out var first)) problems.Add($"{what} {value} twice: {first} and {u}");
                    else seen[value] = u;
                }
            }
            Check("MAC", u => u.ClientId);
            Check("address", u => u.IPAddress.ToString());
            Check("name", u => u.Name);
            if (problems.Count > 0)
                throw new DeevException(DhcpErrors.ReservationDuplicate, DeevErrorKind.InvalidArgument,
                    $"The batch names the same {(problems.Count == 1 ? "value" : "values")} twice; nothing was changed:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems),
                    problems[0])
                { RecommendedAction = "Give each reservation once: one MAC, one address and one name per entry." };
        }

        private static string Where(DhcpReservation r) => r.Source != null ? ", in " + r.Source : "";
    }
}
