using System.Management.Automation;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>Loads and validates a tier file and returns its summary (the full model is in <c>.Tier</c>).</summary>
    [Cmdlet(VerbsCommon.Get, "DeevTier")]
    [OutputType(typeof(TierSummary))]
    public sealed class GetDeevTierCommand : TierCmdlet
    {
        /// <summary>
        /// The tier file. Default: <c>$env:DEEV_TIER</c>. Here the path is what the command is about, so it is also
        /// positional and binds from files (<c>Get-ChildItem *.tier.yaml | Get-DeevTier</c>: FullName).
        /// </summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Tier", "FullName", "Path")]
        [ValidateNotNullOrEmpty]
        public override string? TierPath { get; set; }

        protected override void ProcessRecord() => WriteObject(new TierSummary(LoadTier()));
    }
}
