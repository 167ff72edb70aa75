using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;

namespace Deevnet.Extended.Commands
{
    /// <summary>Shows each host's VMID, MAC, address and FQDN, and whether the VMID is fixed, allocated or missing. Never writes.</summary>
    [Cmdlet(VerbsCommon.Get, "DeevHostIdentity")]
    [OutputType(typeof(HostIdentity))]
    public sealed class GetDeevHostIdentityCommand : TierCmdlet
    {
        /// <summary>Host names; wildcards allowed. Default: every host.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name", Wildcards = true)]
        public string[]? Name { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var resolver = new IdentityResolver(tier);
            try
            {
                resolver.ResolveAll(); // fails on an unreadable companion file: identities would be guesses
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
            }
            foreach (var host in SelectByName(tier.Hosts, h => h.Name, Name, "HostNotFound", "host", tier.SourcePath))
                WriteObject(resolver.Resolve(host));
        }
    }
}
