using System.Linq;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// A new VM's SSH host key, learnt over a trusted channel: the module makes it, hands it in through the VM's seed
    /// and records its public key in the tier's known_hosts as a first-boot line — before the seed is written, so the
    /// VM never runs with a key the module has not recorded. The rebuild removes that line once the host offers its
    /// lasting key (restored from its backup, or this one made lasting).
    /// </summary>
    public static class FirstBootHostKey
    {
        /// <summary>
        /// The key for <paramref name="host"/>'s VM when <paramref name="plan"/> creates the VM and its back end can seed
        /// it; null otherwise (an existing VM keeps the key it booted with). The caller sets it on the spec.
        /// </summary>
        public static GeneratedHostKey? Prepare(SiteTier tier, MgmtHost host, IVmBackend backend, ChangePlan plan)
        {
            var creates = plan.Changes.Any(c => c.Kind == VmPlanning.VmKind && c.Action == ChangeAction.Add);
            var via = tier.ViaOf(host);
            if (!creates || !backend.SeedsHostKey || via.IsLocal) return null;
            var key = GeneratedHostKey.NewEd25519(host.Name);
            KnownHostsFile.Add(tier.Access.KnownHostsFile, via.Host, via.Port, key.PublicKey, firstBoot: true);
            return key;
        }
    }
}
