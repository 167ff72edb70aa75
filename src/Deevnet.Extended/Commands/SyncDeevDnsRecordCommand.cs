using System.Collections.Generic;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Makes the tier's DNS server hold exactly the records the tier asks for: A and PTR for every host, CNAME for every
    /// service name. One batch, one transaction; records others wrote are never changed; <c>-Prune</c> removes stale
    /// records the module owns. Piped hosts or services limit the sync to their records (and then -Prune is refused).
    /// </summary>
    [Cmdlet(VerbsData.Sync, "DeevDnsRecord", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DnsSyncResult))]
    public sealed class SyncDeevDnsRecordCommand : DnsCmdlet
    {
        private readonly List<string> _hosts = new List<string>();
        private string? _tierPath;

        /// <summary>Only these hosts (names or FQDNs); bound by property name from Get-DeevMgmtHost and Get-DeevService.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string[]? HostName { get; set; }

        /// <summary>Remove records the module owns that the tier no longer asks for. Needs the whole tier.</summary>
        [Parameter]
        public SwitchParameter Prune { get; set; }

        /// <summary>Change without a record in the tier's change journal (said as a warning); without it, an unwritable journal stops the change.</summary>
        [Parameter]
        public SwitchParameter SkipJournal { get; set; }

        protected override bool JournalSkipped => SkipJournal.IsPresent;

        /// <summary>Write the plan (what -WhatIf shows) to this file instead of applying it; <c>Invoke-DeevPlan</c> applies it later.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? PlanPath { get; set; }

        protected override string? PlanPathGiven => PlanPath;

        protected override void ProcessRecord()
        {
            var path = ResolveTierPath();
            if (_tierPath != null && _tierPath != path)
                ThrowTerminatingError(NewError("TierPathMixed", ErrorCategory.InvalidArgument, "All piped objects must come from the same tier file.", path));
            _tierPath = path;
            if (HostName != null) _hosts.AddRange(HostName);
        }

        protected override void EndProcessing()
        {
            if (_tierPath == null) return;
            var tier = LoadTier();
            DnsBatch batch;
            try
            {
                batch = DnsBatches.FromTier(tier, _hosts, Prune);
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
                return;
            }
            var result = PlanAndApply(tier, batch, "Sync");
            if (result != null) WriteObject(result);
        }
    }
}
