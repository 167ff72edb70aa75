using System;
using System.Management.Automation;
using Deevnet.Extended.Completers;
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
            if (!ShouldProcess($"{name} (VMID {identity.VmId}) on {backend.Name}", Force ? "Power off" : "Shut down")) return;
            var vm = RunAsync(async ct =>
            {
                await VmOwnership.RequireAsync(backend, name, identity.VmId!.Value, ct).ConfigureAwait(false);
                await backend.StopAsync(identity.VmId!.Value, Force, ct).ConfigureAwait(false);
                return await backend.GetAsync(identity.VmId!.Value, ct).ConfigureAwait(false);
            });
            if (PassThru) WriteObject(Output(tier, host, identity, vm));
        }
    }
}
