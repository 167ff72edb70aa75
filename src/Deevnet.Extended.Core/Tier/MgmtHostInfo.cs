using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Identity;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// One management host as Get-DeevMgmtHost emits it. The property names are the parameter names of the
    /// identity, DHCP, DNS and VM cmdlets, so the object pipes into them by property name.
    /// </summary>
    public sealed class MgmtHostInfo
    {
        public MgmtHostInfo(SiteTier tier, MgmtHost host, HostIdentity identity)
        {
            Host = host;
            Name = host.Name;
            Segment = host.Segment;
            IPAddress = host.IPAddress.ToString();
            MacAddress = identity.MacAddress;
            VmId = identity.VmId;
            IdentitySource = identity.Source;
            Fqdn = identity.Fqdn;
            Hypervisor = host.Hypervisor;
            Services = tier.ServicesOn(host.Name).Select(s => s.Name).ToArray();
            TierPath = tier.SourcePath;
            var segment = tier.FindSegment(host.Segment);
            Addressing = segment?.Addressing;
            IsTenantSegment = segment == null || segment.IsTenant;
        }

        public string Name { get; }

        /// <summary>The same as <see cref="Name"/>, for cmdlets that bind <c>-HostName</c>.</summary>
        public string HostName => Name;
        public string Segment { get; }

        /// <summary>How the host's segment hands out addresses (Reservation: the DHCP server's; Static: cloud-init's).</summary>
        public SegmentAddressing? Addressing { get; }

        /// <summary>The host sits on a tenant segment (or one the tier does not define): not the module's to rebuild.</summary>
        public bool IsTenantSegment { get; }
        public string IPAddress { get; }

        /// <summary>Lowercase with colons; null until the host has a VMID.</summary>
        public string? MacAddress { get; }
        public int? VmId { get; }
        public IdentitySource IdentitySource { get; }
        public string Fqdn { get; }
        public string? Hypervisor { get; }
        public IReadOnlyList<string> Services { get; }
        public string TierPath { get; }

        /// <summary>The host as the tier declares it (cores, memory, disks, startup, via).</summary>
        public MgmtHost Host { get; }
    }
}
