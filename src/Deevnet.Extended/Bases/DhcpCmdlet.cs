using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended
{
    /// <summary>
    /// Shared by the DHCP cmdlets: the back end for a tier (over the invocation's one transport pool), and the plan → ShouldProcess → apply sequence of the writing cmdlets.
    /// </summary>
    public abstract class DhcpCmdlet : TierCmdlet
    {
        /// <summary>The tier of the current record (its <c>-TierPath</c>, else <c>$env:DEEV_TIER</c>).</summary>
        protected SiteTier CurrentTier() => LoadTier();

        protected IDhcpBackend BackendFor(SiteTier tier)
        {
            try
            {
                return DhcpBackendFactory.Create(tier, Pool, Log);
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
                throw;
            }
        }

        /// <summary>
        /// Plans <paramref name="batch"/>, asks ShouldProcess once per reservation that would change (so -WhatIf lists
        /// them and -Confirm can decline single ones), prints every plan line, and applies what was approved as one
        /// transaction. Returns the applied plan, or null when nothing was applied (what-if, declined, conflict).
        /// </summary>
        protected DhcpPlan? PlanAndApply(SiteTier tier, IDhcpBackend backend, DhcpBatch batch)
        {
            DhcpPlan planned;
            try
            {
                DhcpPlanner.RefuseDuplicates(batch);   // bad input: refused before the server is read
                planned = RunAsync(token => backend.PlanAsync(batch, token));
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return null;
            }

            if (SavingPlan)
            {
                // -PlanPath: the plan -WhatIf would print, written for Invoke-DeevPlan instead of applied.
                foreach (var line in planned.Plan.Changes) PlanLine(line.ToString(), show: true);
                PlanLine($"{backend.Server}: {planned.Plan.Summary}", show: true);
                SavePlanStep(tier, PlanSteps.FromDhcp(planned));
                return null;
            }
            var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
            foreach (var line in planned.Plan.Changes.Where(c => c.Action == ChangeAction.Unchanged)) PlanLine(line.ToString(), whatIf);
            var approved = new HashSet<string>(StringComparer.Ordinal);
            foreach (var line in planned.Plan.Changes.Where(c => c.Action != ChangeAction.Unchanged))
            {
                if (ShouldProcess($"{line.Key} on {backend.Server}: {line.Before ?? "(none)"} -> {line.After ?? "(none)"}", $"{line.Action} DHCP reservation"))
                    approved.Add(line.Key);
            }
            PlanLine($"{backend.Server}: {planned.Plan.Summary}", whatIf);
            if (approved.Count == 0) return planned.Plan.HasChanges ? null : planned;

            var declined = planned.Plan.Changes.Where(c => c.Action != ChangeAction.Unchanged && !approved.Contains(c.Key)).Select(c => c.Key).ToList();
            var toApply = declined.Count == 0 ? batch : Without(batch, planned, declined);
            var journal = OpenJournal(tier);
            try
            {
                var applied = RunAsync(token => backend.ApplyAsync(toApply, token));
                WriteInformation($"{backend.Server}: applied: {applied.Plan.Summary}", new[] { "DeevPlan" });
                Record(journal, tier, applied.Plan, backend.Server, "applied");
                return applied;
            }
            catch (DeevException ex)
            {
                Record(journal, tier, planned.Plan, backend.Server, "failed: " + ex.ErrorId);
                WriteDeevError(ex);
                return null;
            }
        }

        /// <summary>
        /// The batch without what the operator declined at -Confirm. A prune becomes the explicit removals that were
        /// approved, so a declined removal stays on the server.
        /// </summary>
        private static DhcpBatch Without(DhcpBatch batch, DhcpPlan planned, IReadOnlyCollection<string> declined)
        {
            var removals = batch.Removals.Where(r => !declined.Contains(r)).ToList();
            if (batch.Prune)
                removals.AddRange(planned.Plan.Changes.Where(c => c.Action == ChangeAction.Remove && !declined.Contains(c.Key)).Select(c => c.Key));
            return new DhcpBatch(batch.Upserts.Where(u => !declined.Contains(u.ClientId)), removals.Distinct(), prune: false);
        }

        /// <summary>
        /// The per-item check every writer makes. A host on a static segment gets no reservation: from the pipeline
        /// (<c>Get-DeevMgmtHost | Set-DeevDhcpReservation</c> over the whole tier) it is skipped with a verbose note,
        /// because that pipeline is right to include it; named directly, it is a <c>StaticSegmentNoReservation</c> error.
        /// </summary>
        protected bool RefuseStaticSegment(SiteTier tier, string? segmentName, string address, string? name)
        {
            var segment = segmentName != null ? tier.FindSegment(segmentName)
                : DhcpFields.TryAddress(address) is { } ip ? tier.Segments.FirstOrDefault(s => s.Subnet.Contains(ip)) : null;
            if (segment?.Addressing != SegmentAddressing.Static) return false;
            if (MyInvocation.ExpectingInput)
                WriteVerbose($"Skipping {name ?? address}: segment '{segment.Name}' has static addressing, so it gets no DHCP reservation.");
            else
                WriteDeevError(DhcpErrors.StaticSegment(name ?? address, segment.Name));
            return true;
        }
    }
}
