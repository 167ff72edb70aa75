using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Commands
{
    /// <summary>Shows the management VMs of the tier's hosts as their hypervisors report them.</summary>
    [Cmdlet(VerbsCommon.Get, "DeevMgmtVm")]
    [OutputType(typeof(MgmtVm))]
    public sealed class GetDeevMgmtVmCommand : VmCmdlet
    {
        /// <summary>Host names; wildcards allowed. Default: every host with a hypervisor.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name", Wildcards = true)]
        public string[]? Name { get; set; }

        /// <summary>Also list VMs on the tier's hypervisors that no tier host declares (InTier = false).</summary>
        [Parameter]
        public SwitchParameter IncludeUnmanaged { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var hosts = SelectByName(tier.Hosts.Where(h => h.Hypervisor != null), h => h.Name, Name, "HostNotFound", "host with a VM", tier.SourcePath).ToList();
            var seen = new HashSet<string>();
            foreach (var host in hosts)
            {
                PerItem(() =>
                {
                    var identity = new Core.Identity.IdentityResolver(tier).Resolve(host);
                    if (identity.VmId == null)
                    {
                        // Not allocated yet: no VM can exist for it. Listed as absent, not as an error.
                        WriteObject(Output(tier, host, identity, null));
                        return;
                    }
                    var backend = BackendFor(tier, VmSpec.HypervisorOf(tier, host));
                    var vm = RunAsync(ct => backend.GetAsync(identity.VmId!.Value, ct));
                    seen.Add(backend.Name + "/" + identity.VmId);
                    WriteObject(Output(tier, host, identity, vm));
                });
            }
            if (!IncludeUnmanaged) return;
            foreach (var hypervisor in tier.Hypervisors)
            {
                PerItem(() =>
                {
                    var backend = BackendFor(tier, hypervisor);
                    foreach (var vm in RunAsync(ct => backend.ListAsync(ct)).Where(v => !v.IsTemplate && !seen.Contains(backend.Name + "/" + v.VmId)))
                    {
                        if (!Matches(vm.Name, Name)) continue;
                        var declared = tier.FindHost(vm.Name);
                        WriteObject(new MgmtVm(vm.Name, vm.VmId, vm.MacAddress, declared?.IPAddress.ToString(), declared?.Segment, null, tier.SourcePath, hypervisor.Name, vm, false));
                    }
                });
            }
        }
    }
}
