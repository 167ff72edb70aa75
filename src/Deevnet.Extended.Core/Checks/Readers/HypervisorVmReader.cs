using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Core.Checks.Readers
{
    /// <summary>A host's VM as its hypervisor reports it, through the VM back end's read API.</summary>
    public sealed class HypervisorVmReader : IVmInventory
    {
        private readonly SiteTier _tier;
        private readonly TransportPool _pool;

        public HypervisorVmReader(SiteTier tier, TransportPool pool)
        {
            _tier = tier;
            _pool = pool;
        }

        public async Task<VmView?> FindAsync(Hypervisor hypervisor, MgmtHost host, CancellationToken cancellationToken)
        {
            using var backend = VmBackendFactory.Create(_tier, hypervisor, _pool);
            var vm = await backend.FindByNameAsync(host.Name, cancellationToken).ConfigureAwait(false);
            if (vm == null) return null;
            var macs = vm.MacAddress == null ? new string[0] : new[] { vm.MacAddress };
            return new VmView(vm.Name, vm.VmId, macs, vm.StartOnBoot, vm.State);
        }
    }
}
