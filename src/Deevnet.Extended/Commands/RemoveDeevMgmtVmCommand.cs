using System;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Stops and deletes management VMs with their disks. A tier host's VM is found by its identity; a VM that no tier
    /// host declares is removed only when named exactly, by -VmId and -Name together.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "DeevMgmtVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(void))]
    public sealed class RemoveDeevMgmtVmCommand : VmCmdlet
    {
        /// <summary>The VM's name: a tier host, or (with -VmId) the exact name of a VM the tier does not declare.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name")]
        public string Name { get; set; } = "";

        /// <summary>The VM's VMID; required for a VM the tier does not declare, checked against the identity otherwise.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateDeevVmId]
        public int? VmId { get; set; }

        /// <summary>The tier hypervisor of a VM the tier does not declare (default: the only hypervisor).</summary>
        [Parameter]
        [ValidateDeevName("hypervisor name")]
        public string? Hypervisor { get; set; }

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
            PerItem(() => Remove(tier));
        }

        private void Remove(SiteTier tier)
        {
            var host = tier.FindHost(Name);
            Hypervisor hypervisor;
            int vmId;
            if (host != null && host.Hypervisor != null)
            {
                var identity = RequireIdentity(tier, host);
                if (VmId != null && VmId != identity.VmId)
                    throw VmErrors.Create(VmErrors.VmIdentityMismatch, DeevErrorKind.InvalidArgument,
                        $"{Name}'s identity is VMID {identity.VmId}, not {VmId}. Nothing was removed.", Name);
                hypervisor = VmSpec.HypervisorOf(tier, host);
                vmId = identity.VmId!.Value;
            }
            else
            {
                if (VmId == null)
                    throw VmErrors.Create(VmErrors.VmNotInTier, DeevErrorKind.InvalidArgument,
                        $"'{Name}' is not a host of the tier {tier.SourcePath}. Nothing was removed.", Name,
                        "To remove a VM the tier does not declare, name it exactly: Remove-DeevMgmtVm -Name <name> -VmId <vmid>.");
                hypervisor = PickHypervisor(tier);
                vmId = VmId.Value;
            }
            var backend = BackendFor(tier, hypervisor);
            var vm = RunAsync(ct => backend.GetAsync(vmId, ct));
            if (vm == null)
            {
                if (host == null)
                    throw VmErrors.Create(VmErrors.VmNotFound, DeevErrorKind.ObjectNotFound, $"{backend.Name} has no VM {vmId}.", Name);
                WriteVerbose($"{Name} (VMID {vmId}) does not exist on {backend.Name}; nothing to remove.");
                // A plan that removes nothing still says so, and is stale once the VM appears.
                if (SavingPlan)
                    SaveVmPlan(tier, backend, new SavedVm { Action = SavedVm.Remove, Name = Name, VmId = vmId }, new ChangePlan(backend.Name, Array.Empty<PlannedChange>()), null);
                return;
            }
            if (vm.Name != Name || vm.IsTemplate)
                throw VmErrors.Create(VmErrors.VmIdConflict, DeevErrorKind.ResourceExists,
                    $"VMID {vmId} on {backend.Name} is '{vm.Name}'{(vm.IsTemplate ? " (a template)" : "")}, not {Name}. Nothing was removed.", Name);
            var plan = new ChangePlan(backend.Name, new[] { VmPlanSteps.RemoveLine(backend.Name, vm) });
            if (SavingPlan)
            {
                // -PlanPath: saving removes nothing, so it asks nothing; Invoke-DeevPlan asks when it applies.
                SaveVmPlan(tier, backend, new SavedVm { Action = SavedVm.Remove, Name = Name, VmId = vmId }, plan, vm);
                return;
            }
            if (!ShouldProcess($"{Name} (VMID {vmId}, {vm.State}) on {backend.Name} with its disks", "Remove")) return;
            ApplyJournaled(tier, plan, () => { RunAsync(ct => backend.RemoveAsync(vmId, ct)); return true; });
        }

        private Hypervisor PickHypervisor(SiteTier tier)
        {
            if (Hypervisor != null)
                return tier.FindHypervisor(Hypervisor)
                    ?? throw VmErrors.Create(VmErrors.VmHypervisorMissing, DeevErrorKind.InvalidArgument, $"The tier has no hypervisor '{Hypervisor}'.", Hypervisor);
            if (tier.Hypervisors.Count == 1) return tier.Hypervisors.Single();
            throw VmErrors.Create(VmErrors.VmHypervisorMissing, DeevErrorKind.InvalidArgument,
                $"The tier has {tier.Hypervisors.Count} hypervisors; say which one holds VM {VmId} with -Hypervisor.", Name);
        }
    }
}
