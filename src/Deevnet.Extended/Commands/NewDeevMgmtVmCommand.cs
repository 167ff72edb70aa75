using System;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
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
        [ValidateDeevName("host name")]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>The VMID the caller expects (from Get-DeevMgmtHost); must agree with the host's identity.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateDeevVmId]
        public int? VmId { get; set; }

        /// <summary>The MAC the caller expects (from Get-DeevMgmtHost); must agree with the host's identity.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("ClientId")]
        public string? MacAddress { get; set; }

        /// <summary>Start the VM but do not wait until it answers at its address.</summary>
        [Parameter]
        public SwitchParameter NoWait { get; set; }

        /// <summary>Reboot a running VM whose written settings wait for a restart, so they take effect.</summary>
        [Parameter]
        public SwitchParameter Restart { get; set; }

        /// <summary>The TCP port that must answer (default 22).</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int WaitPort { get; set; } = 22;

        /// <summary>How long to wait for the port, in seconds (default 600).</summary>
        [Parameter]
        [ValidateDeevTimeout]
        public int WaitTimeoutSec { get; set; } = 600;

        /// <summary>
        /// For a VM this call creates: make its SSH host key (ed25519, in memory), hand it in through the cloud-init seed
        /// and record its public key in the tier's known_hosts as a first-boot line, so the VM's key is known before it
        /// is on the network. Invoke-DeevRebuild uses it. Proxmox needs a snippet storage in the tier for it (otherwise
        /// a warning says the key is not seeded).
        /// </summary>
        [Parameter]
        public SwitchParameter SeedHostKey { get; set; }

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
            if (SavingPlan)
            {
                // -PlanPath: the plan -WhatIf would print, saved with the VM as read; a host key is made only when it is applied.
                var read = RunAsync(ct => backend.GetAsync(spec.VmId, ct));
                SaveVmPlan(tier, backend, new SavedVm
                {
                    Action = SavedVm.Build, Name = spec.Name, VmId = spec.VmId,
                    SeedHostKey = SeedHostKey ? true : null, Restart = Restart ? true : null,
                }, plan, read);
                return;
            }

            var description = $"{name} (VMID {spec.VmId}) on {backend.Name}: {VmProvisioner.Describe(plan)}; {plan.Summary}" + Environment.NewLine +
                string.Join(Environment.NewLine, plan.Changes.Where(c => c.Action != ChangeAction.Unchanged).Select(c => "  " + c));
            if (!ShouldProcess(description, $"Build VM {name} (VMID {spec.VmId}) on {backend.Name}? {plan.Summary}", "New-DeevMgmtVm")) return;

            if (SeedHostKey) spec.FirstBootHostKey = SeedKey(tier, host, backend, plan);
            // The journal records the build (create, settings, start); waiting for the VM to answer changes nothing, so
            // a VM that is slow to answer is not recorded as a failed change.
            var options = new VmBuildOptions { Wait = false, Restart = Restart };
            var vm = ApplyJournaled(tier, plan, () => RunAsync(ct => provisioner.BuildAsync(spec, plan, options, Progress, ct)));
            if (!NoWait)
                RunAsync(ct => VmReadiness.WaitForTcpAsync(spec.Name, spec.IPAddress, WaitPort, TimeSpan.FromSeconds(WaitTimeoutSec), Progress, ct));
            if (vm.RestartRequired)
                WriteWarning($"{name}: {string.Join(", ", vm.RestartPending)} take effect only after a restart; run New-DeevMgmtVm -Restart to reboot it.");
            WriteObject(Output(tier, host, identity, vm, VmProvisioner.Describe(plan)));
        }

        private GeneratedHostKey? SeedKey(SiteTier tier, MgmtHost host, IVmBackend backend, ChangePlan plan)
        {
            if (!backend.SeedsHostKey && VmProvisioner.Describe(plan) == "created")
                WriteWarning($"{host.Name}: the hypervisor {backend.Name} cannot hand a host key in through the seed (Proxmox: set its snippetStorage, snippetDir and via); the VM makes its own on first boot.");
            var key = FirstBootHostKey.Prepare(tier, host, backend, plan);
            if (key != null) WriteVerbose($"{host.Name}: first-boot host key {key} seeded and recorded in {tier.Access.KnownHostsFile}.");
            return key;
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
