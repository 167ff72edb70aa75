using System;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm.Libvirt;
using Deevnet.Extended.Core.Vm.Proxmox;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>Makes the back end for a tier's hypervisor. The checks engine and the rebuild playbooks start here.</summary>
    public static class VmBackendFactory
    {
        /// <summary>
        /// The back end of <paramref name="hypervisor"/>: Proxmox VE over HTTPS (and its node over SSH when it has a
        /// <c>via</c>), or libvirt through virsh on the hypervisor's <c>via</c> (a transport from <paramref name="pool"/>,
        /// logged in as <c>access</c> says).
        /// </summary>
        public static IVmBackend Create(SiteTier tier, Hypervisor hypervisor, TransportPool pool, IOperationLog? log = null)
        {
            if (tier is null) throw new ArgumentNullException(nameof(tier));
            if (hypervisor is null) throw new ArgumentNullException(nameof(hypervisor));
            if (pool is null) throw new ArgumentNullException(nameof(pool));
            switch (hypervisor.Kind)
            {
                case "proxmox":
                    // via is optional for Proxmox: the node over SSH, where the first-boot host key's snippet is written.
                    var node = hypervisor.Via != null ? pool.Get(hypervisor.Via, tier.Access) : null;
                    return new ProxmoxBackend(hypervisor, log, node);
                case "libvirt":
                    var via = hypervisor.Via ?? Via.Local;
                    return new LibvirtBackend(hypervisor, pool.Get(via, tier.Access), log);
                default:
                    throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.InvalidData,
                        $"{hypervisor.Section}.kind '{hypervisor.Kind}' is not a hypervisor the module knows (proxmox, libvirt).", hypervisor.Section);
            }
        }

        /// <summary>The back end of the hypervisor a host's VM lives on.</summary>
        public static IVmBackend ForHost(SiteTier tier, MgmtHost host, TransportPool pool, IOperationLog? log = null) =>
            Create(tier, VmSpec.HypervisorOf(tier, host), pool, log);
    }
}
