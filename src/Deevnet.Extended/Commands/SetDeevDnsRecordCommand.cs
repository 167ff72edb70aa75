using System.Collections.Generic;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Creates or updates records: an A record (and its PTR) for <c>-HostName</c> → <c>-IPAddress</c>, and a CNAME to the
    /// host for each of <c>-Names</c>. Everything piped in is one batch, planned and applied as one transaction; a name
    /// someone else holds fails the whole batch with <c>RecordConflict</c>.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "DeevDnsRecord", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DnsSyncResult))]
    public sealed class SetDeevDnsRecordCommand : DnsCmdlet
    {
        private readonly List<DnsRecord> _records = new List<DnsRecord>();
        private bool _invalid;

        /// <summary>The host: a name in the site domain or an FQDN. Bound by property name (Name/HostName).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string HostName { get; set; } = "";

        /// <summary>The host's IPv4 address: its A record and PTR. Bound by property name.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        public string? IPAddress { get; set; }

        /// <summary>Service names (in the site domain, or FQDNs) to point at the host as CNAMEs. Bound by property name.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("CName")]
        public string[]? Names { get; set; }

        /// <summary>TTL in seconds (default 300).</summary>
        [Parameter]
        [ValidateRange(0, 604800)]
        public int Ttl { get; set; } = DnsRecord.DefaultTtl;

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
                var fqdn = DnsRecord.NormalizeName(HostName.Contains(".") ? HostName : tier.FqdnOf(HostName), "host name");
                if (IPAddress != null) _records.AddRange(DesiredRecords.ForHost(fqdn, IPAddress, Ttl));
                foreach (var n in Names ?? new string[0])
                    _records.Add(DesiredRecords.ForAlias(n.Contains(".") ? n : n + "." + tier.Site.Domain, fqdn, Ttl));
                if (IPAddress == null && (Names == null || Names.Length == 0))
                    throw new DeevException(DnsErrors.InvalidRecord, DeevErrorKind.InvalidArgument, $"Nothing to set for {HostName}: give -IPAddress, -Names or both.", HostName);
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
            if (_records.Count == 0) return;
            var result = PlanAndApply(LoadTier(), new DnsBatch(_records), "Set");
            if (result != null && PassThru) WriteObject(result);
        }
    }
}
