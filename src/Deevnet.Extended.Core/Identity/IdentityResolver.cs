using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Identity
{
    /// <summary>
    /// Resolves every host's identity from the tier (fixed VMIDs) and its companion file (allocated VMIDs), and plans
    /// new allocations: the lowest VMID in <c>site.vmidRange</c> not taken by a fixed VMID or an earlier allocation.
    /// Resolving never writes; only <see cref="Apply"/> does.
    /// </summary>
    public sealed class IdentityResolver
    {
        private readonly Dictionary<string, IdentityEntry> _allocated;

        public IdentityResolver(SiteTier tier)
        {
            Tier = tier;
            Companion = IdentityFile.Read(IdentityFile.PathFor(tier.SourcePath));
            _allocated = new Dictionary<string, IdentityEntry>(StringComparer.Ordinal);
            foreach (var entry in Companion.Entries)
                if (!_allocated.ContainsKey(entry.HostName)) _allocated[entry.HostName] = entry;
        }

        public SiteTier Tier { get; }
        public IdentityFile Companion { get; }

        /// <summary>The identity of every host, in tier order. Throws <c>IdentityFileInvalid</c> when the companion file is broken.</summary>
        public IReadOnlyList<HostIdentity> ResolveAll()
        {
            EnsureCompanionReadable();
            return Tier.Hosts.Select(Resolve).ToList();
        }

        /// <summary>The identity of one host: fixed in the tier, allocated in the companion file, or not yet allocated.</summary>
        public HostIdentity Resolve(MgmtHost host)
        {
            int? vmid;
            IdentitySource source;
            if (host.FixedVmId.HasValue)
            {
                vmid = host.FixedVmId;
                source = IdentitySource.Fixed;
            }
            else if (_allocated.TryGetValue(host.Name, out var entry))
            {
                vmid = entry.VmId;
                source = IdentitySource.Allocated;
            }
            else
            {
                vmid = null;
                source = IdentitySource.Unallocated;
            }
            var mac = vmid.HasValue ? MacAddress.FromVmId(Tier.Site.MacNamespace, vmid.Value).ToString() : null;
            return new HostIdentity(host.Name, vmid, mac, host.IPAddress.ToString(), Tier.FqdnOf(host.Name), host.Segment, source, Tier.SourcePath);
        }

        /// <summary>
        /// Plans VMIDs for the named hosts (all hosts when null) that have neither a fixed VMID nor an allocation.
        /// Existing allocations are kept; with <paramref name="prune"/> entries for hosts that left the tier (or now
        /// have a fixed VMID) are dropped. Throws <c>VmIdRangeExhausted</c> rather than wrapping around.
        /// </summary>
        public AllocationPlan PlanAllocation(IEnumerable<string>? hostNames = null, bool prune = false)
        {
            EnsureCompanionReadable();
            var wanted = hostNames == null ? null : new HashSet<string>(hostNames, StringComparer.Ordinal);
            var kept = new Dictionary<string, int>(StringComparer.Ordinal);
            var pruned = new List<string>();
            foreach (var entry in _allocated.Values)
            {
                var host = Tier.FindHost(entry.HostName);
                if (prune && (host == null || host.FixedVmId.HasValue)) pruned.Add(entry.HostName);
                else kept[entry.HostName] = entry.VmId;
            }

            // Every VMID already claimed, including by stale entries: the VM behind them may still exist.
            var used = new HashSet<int>(kept.Values);
            foreach (var host in Tier.Hosts)
                if (host.FixedVmId.HasValue) used.Add(host.FixedVmId.Value);

            var site = Tier.Site;
            var added = new List<HostIdentity>();
            var starved = new List<string>();
            var candidate = site.VmIdMin;
            foreach (var host in Tier.Hosts)
            {
                if (host.FixedVmId.HasValue || kept.ContainsKey(host.Name)) continue;
                if (wanted != null && !wanted.Contains(host.Name)) continue;
                while (candidate <= site.VmIdMax && used.Contains(candidate)) candidate++;
                if (candidate > site.VmIdMax)
                {
                    starved.Add(host.Name);
                    continue;
                }
                used.Add(candidate);
                kept[host.Name] = candidate;
                added.Add(new HostIdentity(host.Name, candidate, MacAddress.FromVmId(site.MacNamespace, candidate).ToString(),
                    host.IPAddress.ToString(), Tier.FqdnOf(host.Name), host.Segment, IdentitySource.Allocated, Tier.SourcePath));
            }
            if (starved.Count > 0)
                throw new DeevException("VmIdRangeExhausted", DeevErrorKind.ResourceUnavailable,
                    $"site.vmidRange [{site.VmIdMin}, {site.VmIdMax}] has no free VMID left for {starved.Count} host(s): {string.Join(", ", starved.Take(10))}{(starved.Count > 10 ? ", …" : "")}. Nothing was written.",
                    Tier.SourcePath)
                {
                    RecommendedAction = "Widen site.vmidRange in the tier file, or remove hosts (then New-DeevHostIdentity -Prune).",
                };

            // A fixed VMID written into the tier after another host was allocated that VMID: both hosts would get the same
            // VMID and MAC. Allocating never moves an existing VM, so this is said, not repaired.
            var warnings = new List<string>();
            foreach (var host in Tier.Hosts.Where(h => h.FixedVmId.HasValue))
                foreach (var other in kept.Where(k => k.Value == host.FixedVmId && k.Key != host.Name))
                    warnings.Add($"{host.Name} has the fixed VMID {host.FixedVmId} in the tier, but {Companion.Path} already allocates VMID {other.Value} " +
                        $"to {other.Key}: both would have MAC {MacAddress.FromVmId(site.MacNamespace, other.Value)}. Give {host.Name} a free VMID, " +
                        $"or remove {other.Key}'s entry only once its VM is gone (Test-DeevHostIdentity lists every clash).");

            var text = IdentityFile.Render(Tier.SourcePath, site.MacNamespace, kept);
            return new AllocationPlan(Tier.SourcePath, Companion.Path, added, pruned, text, warnings);
        }

        /// <summary>Writes the plan's companion file atomically, when it changes anything.</summary>
        public static void Apply(AllocationPlan plan)
        {
            if (plan.HasChanges) IdentityFile.WriteAtomically(plan.CompanionPath, plan.Text);
        }

        private void EnsureCompanionReadable()
        {
            if (Companion.Problems.Count == 0) return;
            throw new DeevException("IdentityFileInvalid", DeevErrorKind.InvalidData,
                $"The identity file '{Text.SafeText.Printable(Companion.Path)}' cannot be used:\n" +
                string.Join("\n", Companion.Problems.Take(TierFileInvalidException.MaxInMessage).Select(p => "  " + p)) +
                (Companion.ProblemCount > TierFileInvalidException.MaxInMessage ? $"\n  … and {Companion.ProblemCount - TierFileInvalidException.MaxInMessage} more" : ""), Companion.Path)
            {
                RecommendedAction = "The file is generated: restore it from version control or backup, or delete it and run New-DeevHostIdentity (VMIDs may then change).",
            };
        }
    }

    /// <summary>What New-DeevHostIdentity would write: the new allocations, the dropped entries, and the file's full text.</summary>
    public sealed class AllocationPlan
    {
        public AllocationPlan(string tierPath, string companionPath, IReadOnlyList<HostIdentity> added, IReadOnlyList<string> pruned, string text,
            IReadOnlyList<string>? warnings = null)
        {
            Warnings = warnings ?? Array.Empty<string>();
            TierPath = tierPath;
            CompanionPath = companionPath;
            Added = added;
            Pruned = pruned;
            Text = text;
        }

        public string TierPath { get; }
        public string CompanionPath { get; }
        public IReadOnlyList<HostIdentity> Added { get; }
        public IReadOnlyList<string> Pruned { get; }

        /// <summary>Clashes the plan does not repair (a fixed VMID that another host's allocation already holds).</summary>
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>The companion file's complete new content.</summary>
        public string Text { get; }
        public bool HasChanges => Added.Count > 0 || Pruned.Count > 0;

        /// <summary>One line per change, for -WhatIf and verbose output.</summary>
        public string Describe() =>
            string.Join("\n", Added.Select(a => $"allocate {a.HostName}: vmid {a.VmId}, mac {a.MacAddress}")
                .Concat(Pruned.Select(p => $"drop {p} (no longer allocated by this tier)")));
    }
}
