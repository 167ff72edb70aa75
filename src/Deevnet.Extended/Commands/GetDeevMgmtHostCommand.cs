using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>Lists the tier's management hosts with their identity (VMID, MAC, FQDN) and services.</summary>
    [Cmdlet(VerbsCommon.Get, "DeevMgmtHost")]
    [OutputType(typeof(MgmtHostInfo))]
    public sealed class GetDeevMgmtHostCommand : TierCmdlet
    {
        /// <summary>Host names; wildcards allowed. Default: every host.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name", Wildcards = true)]
        public string[]? Name { get; set; }

        /// <summary>Only hosts on these segments; wildcards allowed.</summary>
        [Parameter]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [ValidateDeevName("segment name", Wildcards = true)]
        public string[]? Segment { get; set; }

        /// <summary>Only hosts running one of these services; wildcards allowed.</summary>
        [Parameter]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateDeevName("service name", Wildcards = true)]
        public string[]? Service { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var resolver = new IdentityResolver(tier);
            if (resolver.Companion.Problems.Count > 0)
                WriteWarning($"The identity file '{resolver.Companion.Path}' is partly unreadable, so some allocated VMIDs may be missing; Test-DeevHostIdentity lists the problems.");
            var hosts = SelectByName(tier.Hosts, h => h.Name, Name, "HostNotFound", "host", tier.SourcePath)
                .Where(h => Matches(h.Segment, Segment))
                .Where(h => Service == null || Service.Length == 0 || tier.ServicesOn(h.Name).Any(s => Matches(s.Name, Service)));
            foreach (var host in hosts)
                WriteObject(new MgmtHostInfo(tier, host, resolver.Resolve(host)));
        }
    }
}
