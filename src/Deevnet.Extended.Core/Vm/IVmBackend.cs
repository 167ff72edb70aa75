using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Plans;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// One hypervisor. Made by <see cref="VmBackendFactory"/>; disposed at the end of the cmdlet or check run.
    /// A VM's identity is its VMID (libvirt keeps it in the domain's metadata); names must match it.
    /// </summary>
    public interface IVmBackend : IDisposable
    {
        /// <summary>The tier's name of the hypervisor.</summary>
        string Name { get; }

        /// <summary>
        /// Whether a new VM's seed carries <see cref="VmSpec.FirstBootHostKey"/> (libvirt: NoCloud <c>ssh_keys</c>;
        /// Proxmox: a <c>cicustom</c> user snippet written over SSH, only when the tier names a snippet storage).
        /// </summary>
        bool SeedsHostKey => false;

        /// <summary>The VM with this VMID, or null when there is none. Templates count (a template holding a VMID is a conflict).</summary>
        Task<VmInfo?> GetAsync(int vmId, CancellationToken cancellationToken);

        /// <summary>The VM with this name, or null.</summary>
        Task<VmInfo?> FindByNameAsync(string name, CancellationToken cancellationToken);

        /// <summary>Every VM and template on the hypervisor.</summary>
        Task<IReadOnlyList<VmInfo>> ListAsync(CancellationToken cancellationToken);

        /// <summary>
        /// What <see cref="ApplyAsync"/> would do for <paramref name="spec"/>: one Add line for a new VM, or one line per
        /// managed setting of an existing one. Throws <c>VmIdConflict</c> when the VMID belongs to a VM of another name.
        /// Touches nothing.
        /// </summary>
        Task<ChangePlan> PlanAsync(VmSpec spec, CancellationToken cancellationToken);

        /// <summary>
        /// Creates the VM (clone/overlay of the newest template) or adopts the existing one with the same VMID and name,
        /// brings every managed setting to the spec, reads the configuration back and checks every value it set
        /// (<c>VmVerificationFailed</c> names the first that did not stick). Does not start the VM.
        /// </summary>
        Task<VmInfo> ApplyAsync(VmSpec spec, IProgress<OperationProgress>? progress, CancellationToken cancellationToken);

        Task StartAsync(int vmId, CancellationToken cancellationToken);

        /// <summary>Shuts the VM down; with <paramref name="force"/> powers it off at once.</summary>
        Task StopAsync(int vmId, bool force, CancellationToken cancellationToken);

        /// <summary>
        /// Restarts a running VM so that settings waiting for a restart (<see cref="VmInfo.RestartPending"/>) take
        /// effect. The default shuts it down and starts it; back ends with a reboot call use it.
        /// </summary>
        async Task RestartAsync(int vmId, CancellationToken cancellationToken)
        {
            await StopAsync(vmId, false, cancellationToken).ConfigureAwait(false);
            await StartAsync(vmId, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Stops (forcibly) and deletes the VM with its disks.</summary>
        Task RemoveAsync(int vmId, CancellationToken cancellationToken);
    }
}
