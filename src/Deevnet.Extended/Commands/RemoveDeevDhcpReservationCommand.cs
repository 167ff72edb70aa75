using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Removes reservations the module owns, by MAC (or by address). Entries it does not own are never removed:
    /// asking for one is a <c>ReservationConflict</c>. A pipeline is one transaction.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "DeevDhcpReservation", SupportsShouldProcess = true, DefaultParameterSetName = ByClientId)]
    [OutputType(typeof(DhcpReservation))]
    public sealed class RemoveDeevDhcpReservationCommand : DhcpCmdlet
    {
        private const string ByClientId = "ByClientId";
        private const string ByIPAddress = "ByIPAddress";

        private readonly Dictionary<string, (SiteTier Tier, List<string> Macs, List<string> Addresses)> _batches =
            new Dictionary<string, (SiteTier, List<string>, List<string>)>(StringComparer.Ordinal);

        /// <summary>MAC addresses of the reservations to remove, in any common notation.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByClientId)]
        [Alias("MacAddress")]
        public string[] ClientId { get; set; } = new string[0];

        /// <summary>Reserved addresses of the reservations to remove.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByIPAddress)]
        [Alias("ReservedIP")]
        public string[] IPAddress { get; set; } = new string[0];

        /// <summary>Emit the removed reservations.</summary>
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
            if (!_batches.TryGetValue(tier.SourcePath, out var batch)) _batches[tier.SourcePath] = batch = (tier, new List<string>(), new List<string>());
            try
            {
                if (ParameterSetName == ByClientId) batch.Macs.AddRange(ClientId.Select(DhcpFields.NormalizeMac));
                else batch.Addresses.AddRange(IPAddress.Select(a => DhcpFields.ParseAddress(a).ToString()));
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
        }

        protected override void EndProcessing()
        {
            try
            {
                foreach (var (tier, macs, addresses) in _batches.Values)
                {
                    var backend = BackendFor(tier);
                    var removals = new List<string>(macs);
                    IReadOnlyList<DhcpReservation> before = new DhcpReservation[0];
                    if (addresses.Count > 0 || PassThru)
                    {
                        before = RunAsync(token => backend.ReadAsync(token));
                        foreach (var address in addresses)
                        {
                            var found = before.Where(r => r.IPAddress.ToString() == address).ToList();
                            if (found.Count == 0)
                                WriteError(NewError("ReservationNotFound", ErrorCategory.ObjectNotFound, $"{backend.Server} has no reservation for {address}.", address));
                            removals.AddRange(found.Select(r => r.ClientId));
                        }
                    }
                    if (removals.Count == 0) continue;
                    var applied = PlanAndApply(tier, backend, new DhcpBatch(removals: removals.Distinct()));
                    if (applied == null || !PassThru) continue;
                    var gone = new HashSet<string>(applied.Plan.Changes.Where(c => c.Action == Core.Plans.ChangeAction.Remove).Select(c => c.Key), StringComparer.Ordinal);
                    WriteObject(before.Where(r => r.IsOwned && gone.Contains(r.ClientId)).Select(r => r.WithTierPath(tier.SourcePath)), true);
                }
            }
            finally
            {
                ClosePool();
            }
        }
    }
}
