using System;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Makes the DHCP server match the tier: one reservation (MAC → address, host name) for every host on a segment
    /// whose addressing is <c>reservation</c>, as one transaction. <c>-Prune</c> also removes owned reservations the
    /// tier no longer names, and is refused unless every such host's identity is known.
    /// </summary>
    [Cmdlet(VerbsData.Sync, "DeevDhcpReservation", SupportsShouldProcess = true)]
    [OutputType(typeof(DhcpReservationChange))]
    public sealed class SyncDeevDhcpReservationCommand : DhcpCmdlet
    {
        /// <summary>Remove owned reservations whose MAC is not a tier host's.</summary>
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

        protected override void EndProcessing()
        {
            try
            {
                var tier = CurrentTier();
                var tierReservations = TierReservations.Of(tier);
                foreach (var name in tierReservations.WithoutMac)
                    WriteWarning($"{name} has no VMID/MAC yet, so it gets no reservation; run New-DeevHostIdentity first.");
                if (Prune && !tierReservations.IdentityComplete)
                {
                    var unknown = tierReservations.WithoutMac;
                    ThrowTerminatingError(NewError(DhcpErrors.PruneRefused, ErrorCategory.InvalidOperation,
                        "-Prune refused: the tier's identity is not complete (" +
                        (unknown.Count > 0 ? "no MAC for " + string.Join(", ", unknown) : $"the identity file {tierReservations.IdentityPath} is partly unreadable") +
                        "), so reservations of those hosts would look stale and be removed. Nothing was changed.",
                        tier.SourcePath, "Run New-DeevHostIdentity (and fix the identity file), then Sync again with -Prune."));
                }
                var names = tierReservations.Wanted.GroupBy(r => r.ClientId, StringComparer.OrdinalIgnoreCase)
                    .ToDictionary(g => g.Key, g => g.Last().Name, StringComparer.OrdinalIgnoreCase);

                var backend = BackendFor(tier);
                var applied = PlanAndApply(tier, backend, new DhcpBatch(tierReservations.Wanted, prune: Prune));
                if (applied == null) return;
                var changed = applied.Plan.HasChanges;
                foreach (var line in applied.Plan.Changes)
                    WriteObject(new DhcpReservationChange(line, changed && line.Action != ChangeAction.Unchanged, names.TryGetValue(line.Key, out var n) ? n : null));
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
            }
            finally
            {
                ClosePool();
            }
        }
    }
}
