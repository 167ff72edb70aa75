using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Removes records the module owns: a host's A record and the PTRs that point at it, and CNAMEs given by
    /// <c>-Names</c>. Records others wrote are refused (<c>RecordConflict</c>) and nothing of the batch is removed.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "DeevDnsRecord", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DnsSyncResult))]
    public sealed class RemoveDeevDnsRecordCommand : DnsCmdlet
    {
        private readonly List<string> _hosts = new List<string>();
        private readonly List<string> _aliases = new List<string>();
        private bool _invalid;

        /// <summary>Hosts whose A record (and PTR) go. Bound by property name (Name/HostName).</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string[]? HostName { get; set; }

        /// <summary>CNAMEs to remove (service names or FQDNs). Bound by property name; given alone, the host's A record stays.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("CName")]
        public string[]? Names { get; set; }

        /// <summary>Write the result of the batch.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

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
            var tier = LoadTier();
            try
            {
                if (Names != null && Names.Length > 0)
                    _aliases.AddRange(Names.Select(n => DnsRecord.NormalizeName(n.Contains(".") ? n : n + "." + tier.Site.Domain)));
                else if (HostName != null)
                    _hosts.AddRange(HostName.Select(h => DnsRecord.NormalizeName(h.Contains(".") ? h : tier.FqdnOf(h))));
            }
            catch (DeevException ex)
            {
                _invalid = true;
                WriteDeevError(ex);
            }
        }

        protected override void EndProcessing()
        {
            if (_invalid)
            {
                WriteError(NewError("BatchRefused", ErrorCategory.InvalidData, "Nothing was changed: the batch had invalid input (see the errors above).", null));
                return;
            }
            if (_hosts.Count + _aliases.Count == 0) return;
            var tier = LoadTier();
            var result = WithBackend(tier, backend =>
            {
                var current = RunAsync(token => backend.ReadAsync(_hosts.Concat(_aliases), token));
                var removals = new List<DnsRecord>();
                foreach (var h in _hosts.Distinct(StringComparer.Ordinal))
                {
                    removals.AddRange(current.All.Where(r => r.Name == h && r.Type == DnsRecordType.A).Take(1));
                    removals.AddRange(current.Owned.Where(r => r.Type == DnsRecordType.PTR && r.Value == h));
                }
                foreach (var a in _aliases.Distinct(StringComparer.Ordinal))
                    removals.AddRange(current.All.Where(r => r.Name == a && r.Type == DnsRecordType.CNAME).Take(1));
                return PlanAndApply(tier, backend, new DnsBatch(new DnsRecord[0], removals), "Remove");
            });
            if (result != null && PassThru) WriteObject(result);
        }
    }
}
