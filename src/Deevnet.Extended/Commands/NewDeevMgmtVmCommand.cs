using System;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Commands
{
    /// <summary>Creates (or adopts and corrects) the management VM of each tier host, starts it and waits until it answers.</summary>
    [Cmdlet(VerbsCommon.New, "DeevMgmtVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(MgmtVm))]
    public sealed class NewDeevMgmtVmCommand : VmCmdlet
    {
        private VmReservationCheck? _reservations;
        private string? _reservationsTier;

        /// <summary>Tier host names (no wildcards: each names one VM to build).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>The VMID the caller expects (from Get-DeevMgmtHost); must agree with the host's identity.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public int? VmId { get; set; }

        /// <summary>The MAC the caller expects (from Get-DeevMgmtHost); must agree with the host's identity.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("ClientId")]
        public string? MacAddress { get; set; }

        /// <summary>Start the VM but do not wait until it answers at its address.</summary>
        [Parameter]
        public SwitchParameter NoWait { get; set; }

        /// <summary>The TCP port that must answer (default 22).</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int WaitPort { get; set; } = 22;

        /// <summary>How long to wait for the port, in seconds (default 600).</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int WaitTimeoutSec { get; set; } = 600;

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            foreach (var name in Name) PerItem(() => Build(tier, name));
        }

        private void Build(SiteTier tier, string name)
        {
            var host = FindHost(tier, name);
            if (host == null) return;
            var identity = RequireIdentity(tier, host);
            if (VmId != null && VmId != identity.VmId || MacAddress != null && !string.Equals(MacAddress, identity.MacAddress, StringComparison.OrdinalIgnoreCase))
                throw VmErrors.Create(VmErrors.VmIdentityMismatch, DeevErrorKind.InvalidArgument,
                    $"{name}: the piped identity (VMID {VmId}, MAC {MacAddress}) is not the tier's (VMID {identity.VmId}, MAC {identity.MacAddress}).", name,
                    "Pipe fresh objects from Get-DeevMgmtHost.");
            var spec = VmSpec.FromTier(tier, host, identity.VmId!.Value, identity.MacAddress!);
            var backend = BackendFor(tier, VmSpec.HypervisorOf(tier, host));
            var provisioner = new VmProvisioner(backend, Reservations(tier, spec));
            var plan = RunAsync(ct => provisioner.PlanAsync(spec, ct));

            var description = $"{name} (VMID {spec.VmId}) on {backend.Name}: {VmProvisioner.Describe(plan)}; {plan.Summary}" + Environment.NewLine +
                string.Join(Environment.NewLine, plan.Changes.Where(c => c.Action != Core.Plans.ChangeAction.Unchanged).Select(c => "  " + c));
            if (!ShouldProcess(description, $"Build VM {name} (VMID {spec.VmId}) on {backend.Name}? {plan.Summary}", "New-DeevMgmtVm")) return;

            var options = new VmBuildOptions { Wait = !NoWait, WaitPort = WaitPort, WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec) };
            var vm = RunAsync(ct => provisioner.BuildAsync(spec, plan, options, Progress, ct));
            WriteObject(Output(tier, host, identity, vm, VmProvisioner.Describe(plan)));
        }

        /// <summary>The DHCP check for the tier, made only when a VM on a reservation segment needs it.</summary>
        private VmReservationCheck? Reservations(SiteTier tier, VmSpec spec)
        {
            if (!spec.CloudInit.Dhcp || tier.Dhcp == null) return null;
            if (_reservations == null || _reservationsTier != tier.SourcePath)
            {
                _reservations = new VmReservationCheck(DhcpBackendFactory.Create(tier, Pool, Log), tier.SourcePath);
                _reservationsTier = tier.SourcePath;
            }
            return _reservations;
        }
    }
}
