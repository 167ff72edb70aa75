using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Plans;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>What a batch did (or, under -WhatIf, would do) on one DNS server: counts and the changes themselves.</summary>
    public sealed class DnsSyncResult
    {
        public DnsSyncResult(string server, ChangePlan plan, bool applied, bool restarted, TimeSpan duration, int skipped)
        {
            Server = server;
            Plan = plan;
            Applied = applied;
            Restarted = restarted;
            Duration = duration;
            Skipped = skipped;
        }

        public string Server { get; }
        public int Added => Plan.Count(ChangeAction.Add);
        public int Changed => Plan.Count(ChangeAction.Change);
        public int Removed => Plan.Count(ChangeAction.Remove);
        public int Unchanged => Plan.Count(ChangeAction.Unchanged);

        /// <summary>Wanted records the server has no zone for (PTRs outside its reverse zones).</summary>
        public int Skipped { get; }

        /// <summary>False when nothing had to change, or under -WhatIf.</summary>
        public bool Applied { get; }

        /// <summary>True when dnsmasq had to restart (a CNAME change).</summary>
        public bool Restarted { get; }
        public TimeSpan Duration { get; }
        public ChangePlan Plan { get; }

        /// <summary>The lines that change something.</summary>
        public IReadOnlyList<PlannedChange> Changes => Plan.Changes.Where(c => c.Action != ChangeAction.Unchanged).ToList();
    }

    /// <summary>Builds batches from the tier for the cmdlets and the checks engine.</summary>
    public static class DnsBatches
    {
        /// <summary>
        /// The tier's records, or only those of <paramref name="hostNames"/> (their A and PTR records and the CNAMEs that
        /// point at them). Pruning needs the whole tier: with a subset it would remove the other hosts' records.
        /// </summary>
        public static DnsBatch FromTier(Tier.SiteTier tier, IReadOnlyCollection<string>? hostNames, bool prune)
        {
            var all = DesiredRecords.FromTier(tier);
            if (hostNames == null || hostNames.Count == 0) return new DnsBatch(all, prune: prune);
            if (prune)
                throw new Errors.DeevException(DnsErrors.PruneRefused, Errors.DeevErrorKind.InvalidOperation,
                    "-Prune needs the whole tier; it is refused when only some hosts are synced, because it would remove the records of all others.", tier.SourcePath);
            var fqdns = new HashSet<string>(hostNames.Select(h => h.Contains(".") ? h.ToLowerInvariant() : tier.FqdnOf(h.ToLowerInvariant())), StringComparer.Ordinal);
            return new DnsBatch(all.Where(r => r.Type == DnsRecordType.A ? fqdns.Contains(r.Name) : fqdns.Contains(r.Value)), prune: false);
        }
    }
}
