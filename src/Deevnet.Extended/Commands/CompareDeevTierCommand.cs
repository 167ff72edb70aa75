using System;
using System.Collections.Generic;
using System.Management.Automation;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Drift;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// The drift report: what differs between the tier and its DHCP and DNS servers right now (Missing, Changed,
    /// Stale, Foreign), each difference with the journal record that last touched the entry. Changes nothing.
    /// </summary>
    [Cmdlet(VerbsData.Compare, "DeevTier")]
    [OutputType(typeof(DriftEntry), typeof(bool))]
    public sealed class CompareDeevTierCommand : TierCmdlet
    {
        /// <summary>Output only $true (no drift) or $false (drift, or a server that could not be compared).</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Limit of one DNS server operation, in seconds (default 10).</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 10;

        protected override void ProcessRecord()
        {
            try
            {
                var tier = LoadTier();
                var drift = new TierDrift(tier, ReadJournal(tier));
                var rows = new List<DriftEntry>();
                var failed = false;
                if (tier.Dhcp != null)
                    failed |= !Compare(() => RunAsync(token => drift.DhcpAsync(DhcpBackendFactory.Create(tier, Pool, Log), token)), rows);
                if (tier.Dns != null)
                    failed |= !Compare(() =>
                    {
                        using var backend = DnsBackendFactory.Create(tier, Pool, Log, TimeSpan.FromSeconds(TimeoutSec));
                        return RunAsync(token => drift.DnsAsync(backend, token));
                    }, rows);
                if (tier.Dhcp == null && tier.Dns == null)
                    WriteWarning($"The tier '{tier.SourcePath}' names no DHCP or DNS server; there is nothing to compare.");
                foreach (var warning in drift.Warnings) WriteWarning(warning);
                WriteVerbose($"{tier.SourcePath}: {rows.Count} difference(s) from the servers.");
                if (Quiet) WriteObject(rows.Count == 0 && !failed);
                else WriteObject(rows, enumerateCollection: true);
            }
            finally
            {
                ClosePool();
            }
        }

        /// <summary>One server's rows; a server that cannot be read is a non-terminating error and the next is compared.</summary>
        private bool Compare(Func<IReadOnlyList<DriftEntry>> read, List<DriftEntry> rows)
        {
            try
            {
                rows.AddRange(read());
                return true;
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return false;
            }
        }

        /// <summary>The journal's records, or none when the tier keeps no journal (rows then have no last change).</summary>
        private IReadOnlyList<ChangeRecord> ReadJournal(SiteTier tier)
        {
            if (tier.Journal == null)
            {
                WriteVerbose($"The tier '{tier.SourcePath}' keeps no change journal: differences are shown without their last recorded change.");
                return Array.Empty<ChangeRecord>();
            }
            var journal = new ChangeJournal(tier.Journal, via => Pool.Get(via, tier.Access));
            try
            {
                return RunAsync(token => journal.ReadAsync(token, (line, why) => Log.Warning($"{tier.Journal} line {line} is not a change record; skipped ({why}).")));
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
                throw;
            }
        }
    }
}
