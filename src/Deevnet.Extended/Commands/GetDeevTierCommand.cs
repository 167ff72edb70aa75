using System.Management.Automation;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>Loads and validates a tier file and returns its summary (the full model is in <c>.Tier</c>).</summary>
    [Cmdlet(VerbsCommon.Get, "DeevTier")]
    [OutputType(typeof(TierSummary))]
    public sealed class GetDeevTierCommand : TierCmdlet
    {
        protected override void ProcessRecord() => WriteObject(new TierSummary(LoadTier()));
    }
}
