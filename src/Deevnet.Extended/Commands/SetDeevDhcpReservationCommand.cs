using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Creates or updates DHCP reservations (keyed by MAC) on the tier's DHCP server. Every record of a pipeline is
    /// collected first; the whole batch is planned and applied in EndProcessing as one transaction over one connection.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "DeevDhcpReservation", SupportsShouldProcess = true)]
    [OutputType(typeof(DhcpReservation))]
    public sealed class SetDeevDhcpReservationCommand : DhcpCmdlet
    {
        private readonly Dictionary<string, (SiteTier Tier, List<DhcpReservation> Items)> _batches =
            new Dictionary<string, (SiteTier, List<DhcpReservation>)>(StringComparer.Ordinal);

        /// <summary>The reserved IPv4 address.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("ReservedIP")]
        public string IPAddress { get; set; } = "";

        /// <summary>The client's MAC address in any common notation.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("MacAddress")]
        [AllowNull, AllowEmptyString]
        public string? ClientId { get; set; }

        /// <summary>Host name handed to the client.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        public string? Name { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Description { get; set; }

        /// <summary>The subnet (network address or CIDR) that must hold the address; checked, not required.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? ScopeId { get; set; }

        /// <summary>The host's segment (from Get-DeevMgmtHost); hosts on static segments get no reservation.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        public string? Segment { get; set; }

        /// <summary>Emit the reservations as they are on the server afterwards.</summary>
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
            var tier = CurrentTier();
            var target = Name ?? ClientId ?? IPAddress;
            if (string.IsNullOrEmpty(ClientId))
            {
                WriteError(NewError("MacAddressMissing", ErrorCategory.InvalidArgument,
                    $"'{target}' has no MAC address yet, so it cannot get a reservation.", target,
                    "Allocate the host's identity first: New-DeevHostIdentity."));
                return;
            }
            if (RefuseStaticSegment(tier, Segment, IPAddress, Name)) return;
            DhcpReservation wanted;
            try
            {
                var address = DhcpFields.ParseAddress(IPAddress);
                DhcpFields.CheckHostAddress(tier, address, Segment);
                wanted = DhcpFields.Desired(ClientId!, address, Name, Description, ScopeId);
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return;
            }
            if (!_batches.TryGetValue(tier.SourcePath, out var batch)) _batches[tier.SourcePath] = batch = (tier, new List<DhcpReservation>());
            batch.Items.Add(wanted);
        }

        protected override void EndProcessing()
        {
            try
            {
                foreach (var (tier, items) in _batches.Values)
                {
                    var backend = BackendFor(tier);
                    var applied = PlanAndApply(tier, backend, new DhcpBatch(items));
                    if (applied == null || !PassThru) continue;
                    var macs = new HashSet<string>(items.Select(i => i.ClientId), StringComparer.Ordinal);
                    WriteObject(applied.Owned.Where(r => macs.Contains(r.ClientId)).Select(r => r.WithTierPath(tier.SourcePath)), true);
                }
            }
            finally
            {
                ClosePool();
            }
        }
    }
}
