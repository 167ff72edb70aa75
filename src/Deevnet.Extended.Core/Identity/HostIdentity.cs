namespace Deevnet.Extended.Core.Identity
{
    /// <summary>Where a host's VMID comes from.</summary>
    public enum IdentitySource
    {
        /// <summary>The tier file gives the VMID.</summary>
        Fixed,

        /// <summary>The module allocated it; it is recorded in the companion identity file.</summary>
        Allocated,

        /// <summary>No VMID yet: run New-DeevHostIdentity.</summary>
        Unallocated,
    }

    /// <summary>
    /// A management host's deterministic identity: VMID → MAC → reserved IP → A record.
    /// Property names match the parameters of the DHCP/DNS/VM cmdlets so the object pipes into them.
    /// </summary>
    public sealed class HostIdentity
    {
        public HostIdentity(string hostName, int? vmId, string? macAddress, string ipAddress, string fqdn, string segment, IdentitySource source, string tierPath)
        {
            HostName = hostName;
            VmId = vmId;
            MacAddress = macAddress;
            IPAddress = ipAddress;
            Fqdn = fqdn;
            Segment = segment;
            Source = source;
            TierPath = tierPath;
        }

        public string HostName { get; }

        /// <summary>Null while <see cref="Source"/> is Unallocated.</summary>
        public int? VmId { get; }

        /// <summary>Lowercase with colons (<c>02:de:20:00:00:cf</c>); null while unallocated.</summary>
        public string? MacAddress { get; }
        public string IPAddress { get; }
        public string Fqdn { get; }
        public string Segment { get; }
        public IdentitySource Source { get; }
        public string TierPath { get; }
    }
}
