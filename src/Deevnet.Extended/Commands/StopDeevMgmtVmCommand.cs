using System;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Commands
{
    /// <summary>Shuts down (or with -Force powers off) the management VMs of tier hosts.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "DeevMgmtVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(MgmtVm))]
    public sealed class StopDeevMgmtVmCommand : VmCmdlet
    {
        /// <summary>Tier host names.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name")]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>Power the VM off at once instead of asking the guest to shut down.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Emit the VM after stopping it.</summary>
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
            foreach (var name in Name) PerItem(() => Stop(tier, name));
        }

        private void Stop(SiteTier tier, string name)
        {
            var host = FindHost(tier, name);
            if (host == null) return;
            var identity = RequireIdentity(tier, host);
            var backend = BackendFor(tier, VmSpec.HypervisorOf(tier, host));
            if (SavingPlan)
            {
                // -PlanPath: the power change saved with the VM as read; Invoke-DeevPlan makes it later.
                var read = RunAsync(ct => VmOwnership.RequireAsync(backend, name, identity.VmId!.Value, ct));
                SaveVmPlan(tier, backend, new SavedVm { Action = SavedVm.Stop, Name = name, VmId = read.VmId, Force = Force ? true : null },
                    StatePlan(backend, read.VmId, name, read.State, "stopped"), read);
                return;
            }
            if (!ShouldProcess($"{name} (VMID {identity.VmId}) on {backend.Name}", Force ? "Power off" : "Shut down")) return;
            var vmId = identity.VmId!.Value;
            var before = RunAsync(ct => VmOwnership.RequireAsync(backend, name, vmId, ct));
            var vm = ApplyJournaled(tier, StatePlan(backend, vmId, name, before.State, "stopped"), () => RunAsync(async ct =>
            {
                await backend.StopAsync(vmId, Force, ct).ConfigureAwait(false);
                return await backend.GetAsync(vmId, ct).ConfigureAwait(false);
            }));
            if (PassThru) WriteObject(Output(tier, host, identity, vm));
        }
    }
}
