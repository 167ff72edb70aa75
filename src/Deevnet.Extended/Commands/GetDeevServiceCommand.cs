using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>Lists the tier's services: class, host, CNAMEs, address, segment and backup declaration.</summary>
    [Cmdlet(VerbsCommon.Get, "DeevService")]
    [OutputType(typeof(ServiceInfo))]
    public sealed class GetDeevServiceCommand : TierCmdlet
    {
        /// <summary>Service names; wildcards allowed. Default: every service. Not bound from the pipeline, so piped hosts bind -HostName.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateDeevName("service name", Wildcards = true)]
        public string[]? Name { get; set; }

        /// <summary>Only services of these classes.</summary>
        [Parameter]
        public ServiceClass[]? Class { get; set; }

        /// <summary>Only services whose host sits on these segments; wildcards allowed.</summary>
        [Parameter]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [ValidateDeevName("segment name", Wildcards = true)]
        public string[]? Segment { get; set; }

        /// <summary>Only services on these hosts; wildcards allowed. Bound by property name, so hosts pipe in.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name", Wildcards = true)]
        public string[]? HostName { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var services = SelectByName(tier.Services, s => s.Name, Name, "ServiceNotFound", "service", tier.SourcePath)
                .Where(s => Class == null || Class.Length == 0 || Class.Contains(s.Class))
                .Where(s => Matches(s.Host, HostName))
                .Where(s => Matches(tier.FindHost(s.Host)!.Segment, Segment));
            foreach (var service in services)
                WriteObject(new ServiceInfo(tier, service));
        }
    }
}
