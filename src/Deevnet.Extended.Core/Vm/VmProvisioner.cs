using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>How New-DeevMgmtVm ends: start the VM and wait until it answers, or not.</summary>
    public sealed class VmBuildOptions
    {
        public bool Start { get; set; } = true;
        public bool Wait { get; set; } = true;
        public int WaitPort { get; set; } = 22;
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>Restart a running VM whose settings wait for a restart (<see cref="VmInfo.RestartRequired"/>).</summary>
        public bool Restart { get; set; }
    }

    /// <summary>
    /// Builds one management VM the Deevnet way, in order: identity exists (reservation for reservation segments) →
    /// create or adopt → settings read back and checked → start → answers at its address. Shared by New-DeevMgmtVm and
    /// the rebuild playbooks; the plan step is what -WhatIf prints.
    /// </summary>
    public sealed class VmProvisioner
    {
        private readonly IVmBackend _backend;
        private readonly VmReservationCheck? _reservations;

        /// <param name="backend">The hypervisor the VM lives on.</param>
        /// <param name="reservations">The DHCP check; null only when no host of the batch is on a reservation segment.</param>
        public VmProvisioner(IVmBackend backend, VmReservationCheck? reservations)
        {
            _backend = backend;
            _reservations = reservations;
        }

        /// <summary>The plan for <paramref name="spec"/>; refuses (<c>ReservationMissing</c>, <c>VmIdConflict</c>) before anything would be touched.</summary>
        public async Task<ChangePlan> PlanAsync(VmSpec spec, CancellationToken cancellationToken)
        {
            await EnsureIdentityAsync(spec, cancellationToken).ConfigureAwait(false);
            return await _backend.PlanAsync(spec, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Applies <paramref name="plan"/> (from <see cref="PlanAsync"/>) and starts and waits as asked.</summary>
        public async Task<VmInfo> BuildAsync(VmSpec spec, ChangePlan plan, VmBuildOptions options, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var activity = $"VM {spec.Name}";
            var vm = plan.HasChanges ? await _backend.ApplyAsync(spec, progress, cancellationToken).ConfigureAwait(false)
                                     : await _backend.GetAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                                       ?? throw VmErrors.BackendFailed(_backend.Name, "read", $"VM {spec.VmId} vanished");
            if (options.Restart && vm.Running && vm.RestartRequired)
            {
                progress?.Report(new OperationProgress(activity, "Restarting to apply " + string.Join(", ", vm.RestartPending), 93));
                await _backend.RestartAsync(spec.VmId, cancellationToken).ConfigureAwait(false);
                vm = await _backend.GetAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                    ?? throw VmErrors.BackendFailed(_backend.Name, "read", $"VM {spec.VmId} vanished after the restart");
            }
            if (options.Start && !vm.Running)
            {
                progress?.Report(new OperationProgress(activity, "Starting", 95));
                await _backend.StartAsync(spec.VmId, cancellationToken).ConfigureAwait(false);
                vm = await _backend.GetAsync(spec.VmId, cancellationToken).ConfigureAwait(false) ?? vm;
            }
            if (options.Start && options.Wait)
                await VmReadiness.WaitForTcpAsync(spec.Name, spec.IPAddress, options.WaitPort, options.WaitTimeout, progress, cancellationToken).ConfigureAwait(false);
            progress?.Report(new OperationProgress(activity, "Done", 100, completed: true));
            return vm;
        }

        /// <summary>One word for what a plan does: <c>created</c>, <c>3 settings changed</c>, <c>unchanged</c>.</summary>
        public static string Describe(ChangePlan plan)
        {
            if (plan.Changes.Any(c => c.Kind == VmPlanning.VmKind && c.Action == ChangeAction.Add)) return "created";
            var changed = plan.Count(ChangeAction.Change);
            return changed == 0 ? "unchanged" : changed == 1 ? "1 setting changed" : $"{changed} settings changed";
        }

        private async Task EnsureIdentityAsync(VmSpec spec, CancellationToken cancellationToken)
        {
            if (!spec.CloudInit.Dhcp) return;
            if (_reservations == null)
                throw VmErrors.Create(VmErrors.ReservationMissing, DeevErrorKind.ObjectNotFound,
                    $"{spec.Name} sits on the reservation segment '{spec.Segment}', but the tier has no 'dhcp' section, so its reservation cannot exist. Nothing was created.",
                    spec.Name, "Add the site's DHCP server to the tier file (section 'dhcp'), then create the reservation with Set-DeevDhcpReservation.");
            await _reservations.EnsureAsync(spec, cancellationToken).ConfigureAwait(false);
        }
    }
}
