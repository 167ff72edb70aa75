using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Identity
{
    /// <summary>What an identity finding is about.</summary>
    public enum IdentityRule
    {
        /// <summary>The companion file cannot be parsed (or part of it).</summary>
        CompanionUnreadable,

        /// <summary>A recorded MAC is not namespace + VMID: the file was edited by hand.</summary>
        MacMismatch,

        /// <summary>A recorded MAC is missing or not a MAC.</summary>
        MacInvalid,

        /// <summary>Two hosts claim one VMID.</summary>
        DuplicateVmId,

        /// <summary>Two hosts claim one MAC.</summary>
        DuplicateMac,

        /// <summary>An allocated VMID lies outside <c>site.vmidRange</c>.</summary>
        VmIdOutOfRange,

        /// <summary>The companion file records a host the tier no longer has.</summary>
        OrphanedEntry,

        /// <summary>The companion file records a host that now has a fixed VMID in the tier.</summary>
        SupersededEntry,

        /// <summary>A host has no VMID yet.</summary>
        Unallocated,
    }

    /// <summary>One thing wrong with the identities of a tier.</summary>
    public sealed class IdentityFinding
    {
        public IdentityFinding(IdentityRule rule, string? hostName, int? vmId, string? macAddress, string message, string file, int line, string tierPath)
        {
            Rule = rule;
            HostName = hostName;
            VmId = vmId;
            MacAddress = macAddress;
            Message = message;
            File = file;
            Line = line;
            TierPath = tierPath;
        }

        public IdentityRule Rule { get; }
        public string? HostName { get; }
        public int? VmId { get; }
        public string? MacAddress { get; }
        public string Message { get; }

        /// <summary>The file the finding is in (the companion file or the tier file) and its line (0 when not about a line).</summary>
        public string File { get; }
        public int Line { get; }
        public string TierPath { get; }

        public override string ToString() => $"{Rule}: {Message}";
    }

    /// <summary>
    /// Checks a tier's identities the way the platform's <c>vm-identity</c> audit does: MAC = f(VMID), no duplicate
    /// VMIDs or MACs, VMIDs in range, no stale or unreadable companion entries, every host allocated.
    /// </summary>
    public static class IdentityAudit
    {
        private sealed class Claim
        {
            public Claim(string host, int vmid, MacAddress? mac, string file, int line)
            {
                Host = host;
                VmId = vmid;
                Mac = mac;
                File = file;
                Line = line;
            }

            public string Host { get; }
            public int VmId { get; }
            public MacAddress? Mac { get; }
            public string File { get; }
            public int Line { get; }
        }

        public static IReadOnlyList<IdentityFinding> Run(SiteTier tier) => Run(tier, new IdentityResolver(tier).Companion);

        public static IReadOnlyList<IdentityFinding> Run(SiteTier tier, IdentityFile companion)
        {
            var findings = new List<IdentityFinding>();
            var site = tier.Site;
            var tierPath = tier.SourcePath;
            void Add(IdentityRule rule, string? host, int? vmid, string? mac, string message, string file, int line) =>
                findings.Add(new IdentityFinding(rule, host, vmid, mac, message, file, line, tierPath));

            foreach (var p in companion.Problems)
                Add(IdentityRule.CompanionUnreadable, null, null, null, $"{System.IO.Path.GetFileName(p.File)}:{p.Line}:{p.Column}: {p.Message}", p.File, p.Line);

            var claims = new List<Claim>();
            foreach (var host in tier.Hosts)
                if (host.FixedVmId.HasValue)
                    claims.Add(new Claim(host.Name, host.FixedVmId.Value, MacAddress.FromVmId(site.MacNamespace, host.FixedVmId.Value), tierPath, host.Line));

            var recorded = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in companion.Entries)
            {
                var file = companion.Path;
                if (!recorded.Add(entry.HostName)) continue;
                var host = tier.FindHost(entry.HostName);
                var expected = entry.VmId <= 0xFFFFFF ? MacAddress.FromVmId(site.MacNamespace, entry.VmId) : (MacAddress?)null;
                MacAddress? written = MacAddress.TryParse(entry.MacText, out var parsed) ? parsed : (MacAddress?)null;

                if (host == null)
                    Add(IdentityRule.OrphanedEntry, entry.HostName, entry.VmId, entry.MacText,
                        $"{entry.HostName} (VMID {entry.VmId}) is recorded in the identity file but is no longer a host of the tier; remove its VM, then run New-DeevHostIdentity -Prune", file, entry.Line);
                else if (host.FixedVmId.HasValue)
                    Add(IdentityRule.SupersededEntry, entry.HostName, entry.VmId, entry.MacText,
                        $"{entry.HostName} has the fixed VMID {host.FixedVmId} in the tier, but the identity file still records VMID {entry.VmId}; run New-DeevHostIdentity -Prune", file, entry.Line);

                if (entry.VmId < site.VmIdMin || entry.VmId > site.VmIdMax)
                    Add(IdentityRule.VmIdOutOfRange, entry.HostName, entry.VmId, entry.MacText,
                        $"{entry.HostName}: VMID {entry.VmId} is outside site.vmidRange [{site.VmIdMin}, {site.VmIdMax}]", file, entry.Line);

                if (written == null)
                    Add(IdentityRule.MacInvalid, entry.HostName, entry.VmId, entry.MacText,
                        entry.MacText == null ? $"{entry.HostName}: no MAC recorded for VMID {entry.VmId}" : $"{entry.HostName}: '{entry.MacText}' is not a MAC address", file, entry.Line);
                else if (expected.HasValue && written.Value != expected.Value)
                    Add(IdentityRule.MacMismatch, entry.HostName, entry.VmId, written.Value.ToString(),
                        $"{entry.HostName}: recorded MAC {written.Value} is not {expected.Value} ({site.MacNamespace} + VMID {entry.VmId}); the identity file was edited by hand", file, entry.Line);

                if (host == null || !host.FixedVmId.HasValue)
                    claims.Add(new Claim(entry.HostName, entry.VmId, written ?? expected, file, entry.Line));
            }

            foreach (var group in claims.GroupBy(c => c.VmId).Where(g => g.Count() > 1))
            {
                var names = group.Select(c => c.Host).ToList();
                foreach (var c in group.Skip(1))
                    Add(IdentityRule.DuplicateVmId, c.Host, c.VmId, c.Mac?.ToString(),
                        $"VMID {group.Key} is claimed by {string.Join(" and ", names)}", c.File, c.Line);
            }
            foreach (var group in claims.Where(c => c.Mac.HasValue).GroupBy(c => c.Mac!.Value).Where(g => g.Select(c => c.VmId).Distinct().Count() > 1))
            {
                var names = group.Select(c => c.Host).ToList();
                foreach (var c in group.Skip(1))
                    Add(IdentityRule.DuplicateMac, c.Host, c.VmId, group.Key.ToString(),
                        $"MAC {group.Key} is claimed by {string.Join(" and ", names)}", c.File, c.Line);
            }

            foreach (var host in tier.Hosts)
                if (!host.FixedVmId.HasValue && !recorded.Contains(host.Name))
                    Add(IdentityRule.Unallocated, host.Name, null, null,
                        $"{host.Name} has no VMID yet; run New-DeevHostIdentity", tierPath, host.Line);
            return findings;
        }
    }
}
