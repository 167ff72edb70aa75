using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// Computes a plan from what a server holds and a batch. Pure: the same inputs give the same plan, which is what
    /// makes a second Sync report nothing to do. The rules:
    /// <list type="bullet">
    /// <item>an owned record with the same name and type is kept, changed in place or (with a new type) replaced;</item>
    /// <item>a record someone else wrote with exactly the wanted data counts as present and is left alone;</item>
    /// <item>a name someone else holds with other data is a <c>RecordConflict</c>, and the whole batch is refused;</item>
    /// <item>an owned PTR that points at a host whose address this batch sets, but at its old address, is removed;</item>
    /// <item>other owned records outside the batch stay unless <see cref="DnsBatch.Prune"/> is set.</item>
    /// </list>
    /// </summary>
    public static class DnsPlanner
    {
        public static DnsPlan Plan(string target, DnsRecordSet current, DnsBatch batch, Func<DnsRecord, bool> canHold)
        {
            var skipped = batch.Upserts.Where(r => !canHold(r)).ToList();
            var wanted = Dedupe(batch.Upserts.Where(canHold));
            var owned = current.Owned.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var foreignByName = current.Foreign.ToLookup(r => r.Name, StringComparer.Ordinal);
            var targetOwned = new Dictionary<string, DnsRecord>(owned, StringComparer.Ordinal);
            var changes = new List<PlannedChange>();
            var conflicts = new List<string>();
            var wantedNames = new HashSet<string>(wanted.Select(w => w.Name), StringComparer.Ordinal);
            var hostsSet = new HashSet<string>(wanted.Where(w => w.Type == DnsRecordType.A).Select(w => w.Name), StringComparer.Ordinal);

            foreach (var w in wanted)
            {
                if (owned.TryGetValue(w.Key, out var o))
                {
                    var same = o.Value == w.Value && (o.Ttl == 0 || o.Ttl == w.Ttl);
                    changes.Add(new PlannedChange(same ? ChangeAction.Unchanged : ChangeAction.Change, w.Type.ToString(), w.Name, Show(o), Show(w), target));
                    targetOwned[w.Key] = same ? o : w.As(true, target);
                    continue;
                }
                var theirs = foreignByName[w.Name].ToList();
                if (theirs.Any(f => f.SameData(w)) && theirs.All(f => f.Type == w.Type))
                {
                    changes.Add(new PlannedChange(ChangeAction.Unchanged, w.Type.ToString(), w.Name, Show(theirs[0]) + " (not owned)", Show(w), target));
                    continue;
                }
                var clash = theirs.Where(f => f.Type == w.Type || f.Type == DnsRecordType.CNAME || w.Type == DnsRecordType.CNAME).ToList();
                if (clash.Count > 0)
                {
                    conflicts.Add($"{w.Name} {w.Type} {w.Value}: the server already has {string.Join(", ", clash.Select(c => c.Type + " " + c.Value))}, which the module did not write");
                    continue;
                }
                changes.Add(new PlannedChange(ChangeAction.Add, w.Type.ToString(), w.Name, null, Show(w), target));
                targetOwned[w.Key] = w.As(true, target);
            }

            var wantedKeys = new HashSet<string>(wanted.Select(w => w.Key), StringComparer.Ordinal);
            var removeKeys = new HashSet<string>(batch.Removals.Select(r => r.Key), StringComparer.Ordinal);
            foreach (var o in current.Owned.OrderBy(r => r.Type).ThenBy(r => r.Name, StringComparer.Ordinal))
            {
                if (wantedKeys.Contains(o.Key)) continue;
                var stalePtr = o.Type == DnsRecordType.PTR && hostsSet.Contains(o.Value);
                var typeSwitch = wantedNames.Contains(o.Name) &&
                    (o.Type == DnsRecordType.CNAME || wanted.Any(w => w.Name == o.Name && w.Type == DnsRecordType.CNAME));
                if (batch.Prune || stalePtr || typeSwitch || removeKeys.Contains(o.Key))
                {
                    changes.Add(new PlannedChange(ChangeAction.Remove, o.Type.ToString(), o.Name, Show(o), null, target));
                    targetOwned.Remove(o.Key);
                }
            }
            foreach (var r in batch.Removals)
            {
                if (owned.ContainsKey(r.Key)) continue;
                var theirs = foreignByName[r.Name].Where(f => f.Type == r.Type).ToList();
                if (theirs.Count > 0)
                    conflicts.Add($"{r.Name} {r.Type}: {string.Join(", ", theirs.Select(t => t.Value))} was not written by the module and is never removed by it");
            }
            if (conflicts.Count > 0)
            {
                throw new DeevException(DnsErrors.RecordConflict, DeevErrorKind.ResourceExists,
                    $"Nothing was changed on {target}: {string.Join("; ", conflicts)}.", target)
                {
                    RecommendedAction = "Remove or rename the other record by hand, or change the tier so the names do not collide.",
                };
            }
            var ordered = changes.OrderBy(c => c.Action == ChangeAction.Unchanged).ThenBy(c => c.Kind, StringComparer.Ordinal)
                .ThenBy(c => c.Key, StringComparer.Ordinal).ToList();
            return new DnsPlan(new ChangePlan(target, ordered), current, DesiredRecords.Sort(targetOwned.Values), skipped);
        }

        /// <summary>One wanted record per name and type; two different wishes for the same one are refused.</summary>
        private static List<DnsRecord> Dedupe(IEnumerable<DnsRecord> records)
        {
            var byKey = new Dictionary<string, DnsRecord>(StringComparer.Ordinal);
            foreach (var r in records)
            {
                if (byKey.TryGetValue(r.Key, out var seen))
                {
                    if (seen.Value != r.Value)
                        throw DnsRecord.Invalid($"The batch asks for {r.Name} {r.Type} twice, as {seen.Value} and as {r.Value}.", r.Name);
                    continue;
                }
                byKey.Add(r.Key, r);
            }
            var list = byKey.Values.ToList();
            foreach (var cname in list.Where(r => r.Type == DnsRecordType.CNAME))
            {
                var other = list.FirstOrDefault(r => r.Name == cname.Name && r.Type != DnsRecordType.CNAME);
                if (other != null)
                    throw DnsRecord.Invalid($"{cname.Name} cannot be a CNAME and have an {other.Type} record as well.", cname.Name);
            }
            return list;
        }

        private static string Show(DnsRecord r) => r.Ttl > 0 ? $"{r.Value} ttl {r.Ttl}" : r.Value;
    }
}
