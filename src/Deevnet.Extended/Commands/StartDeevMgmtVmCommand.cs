using System;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Commands
{
    /// <summary>Starts the management VMs of tier hosts.</summary>
    [Cmdlet(VerbsLifecycle.Start, "DeevMgmtVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(MgmtVm))]
    public sealed class StartDeevMgmtVmCommand : VmCmdlet
    {
        /// <summary>Tier host names.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name")]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>Emit the VM after starting it.</summary>
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
            foreach (var name in Name) PerItem(() => Start(tier, name));
        }

        private void Start(SiteTier tier, string name)
        {
            var host = FindHost(tier, name);
            if (host == null) return;
            var identity = RequireIdentity(tier, host);
            var backend = BackendFor(tier, VmSpec.HypervisorOf(tier, host));
            if (SavingPlan)
            {
                // -PlanPath: the power change saved with the VM as read; Invoke-DeevPlan makes it later.
                var read = RunAsync(ct => VmOwnership.RequireAsync(backend, name, identity.VmId!.Value, ct));
                SaveVmPlan(tier, backend, new SavedVm { Action = SavedVm.Start, Name = name, VmId = read.VmId },
                    StatePlan(backend, read.VmId, name, read.State, "running"), read);
                return;
            }
            if (!ShouldProcess($"{name} (VMID {identity.VmId}) on {backend.Name}", "Start")) return;
            var vmId = identity.VmId!.Value;
            var before = RunAsync(ct => VmOwnership.RequireAsync(backend, name, vmId, ct));
            var vm = ApplyJournaled(tier, StatePlan(backend, vmId, name, before.State, "running"), () => RunAsync(async ct =>
            {
                await backend.StartAsync(vmId, ct).ConfigureAwait(false);
                return await backend.GetAsync(vmId, ct).ConfigureAwait(false);
            }));
            if (PassThru) WriteObject(Output(tier, host, identity, vm));
        }
    }
}
