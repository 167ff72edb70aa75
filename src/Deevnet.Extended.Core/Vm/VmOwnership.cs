using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>Start, stop and remove act on a VMID only when the VM there carries the expected name.</summary>
    public static class VmOwnership
    {
        /// <summary>The VM at <paramref name="vmId"/>; <c>VmNotFound</c> when absent, <c>VmIdConflict</c> when it has another name.</summary>
        public static async Task<VmInfo> RequireAsync(IVmBackend backend, string name, int vmId, CancellationToken cancellationToken)
        {
            var vm = await backend.GetAsync(vmId, cancellationToken).ConfigureAwait(false)
                ?? throw VmErrors.Create(VmErrors.VmNotFound, DeevErrorKind.ObjectNotFound, $"{backend.Name} has no VM {vmId} ({name}).", name,
                    "Create it with New-DeevMgmtVm.");
            if (vm.Name != name || vm.IsTemplate)
                throw VmErrors.Create(VmErrors.VmIdConflict, DeevErrorKind.ResourceExists,
                    $"VMID {vmId} on {backend.Name} is '{vm.Name}'{(vm.IsTemplate ? " (a template)" : "")}, not {name}. Nothing was changed.", name);
            return vm;
        }
    }
}
