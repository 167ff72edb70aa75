namespace Deevnet.Extended.Core.Tier
{
    /// <summary>What Get-DeevTier shows: the site at a glance, with the whole model in <see cref="Tier"/>.</summary>
    public sealed class TierSummary
    {
        public TierSummary(SiteTier tier)
        {
            Tier = tier;
        }

        public string Name => Tier.Site.Name;
        public string Domain => Tier.Site.Domain;
        public string MacNamespace => Tier.Site.MacNamespace;
        public string VmIdRange => $"{Tier.Site.VmIdMin}-{Tier.Site.VmIdMax}";
        public int SegmentCount => Tier.Segments.Count;
        public int HypervisorCount => Tier.Hypervisors.Count;
        public int HostCount => Tier.Hosts.Count;
        public int ServiceCount => Tier.Services.Count;

        /// <summary>The DHCP back end's kind, or null when the tier has none.</summary>
        public string? Dhcp => Tier.Dhcp?.Kind;
        public string? Dns => Tier.Dns?.Kind;
        public string TierPath => Tier.SourcePath;

        /// <summary>The full, validated model.</summary>
        public SiteTier Tier { get; }
    }
}
