using System.Net;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>
    /// One DHCP reservation as a server holds it, or as the module wants it. Property names follow the Windows
    /// DhcpServer module (<c>ClientId</c>, <c>IPAddress</c>, <c>Name</c>, <c>Description</c>, <c>ScopeId</c>) so objects
    /// bind by property name to the next cmdlet.
    /// </summary>
    public sealed class DhcpReservation
    {
        public DhcpReservation(string clientId, IPAddress ipAddress, string? name, string? description = null,
            string? scopeId = null, bool isOwned = true, string? server = null, string? source = null)
        {
            ClientId = clientId;
            IPAddress = ipAddress;
            Name = name;
            Description = description;
            ScopeId = scopeId;
            IsOwned = isOwned;
            Server = server;
            Source = source;
        }

        /// <summary>The client's MAC address, lowercase and colon-separated (<c>02:de:20:00:00:cf</c>).</summary>
        public string ClientId { get; }

        public IPAddress IPAddress { get; }

        /// <summary>Host name handed to the client (and used for DNS from the lease where the server does that).</summary>
        public string? Name { get; }

        public string? Description { get; }

        /// <summary>The subnet the reservation belongs to, in CIDR form (<c>10.20.99.0/24</c>), when known.</summary>
        public string? ScopeId { get; }

        /// <summary>True when this module wrote the entry (managed file, Kea user-context, OPNsense description prefix).</summary>
        public bool IsOwned { get; }

        /// <summary>The server the entry lives on, e.g. <c>dnsmasq ssh://root@10.231.0.2</c>.</summary>
        public string? Server { get; }

        /// <summary>Where a reservation the module does not own was found (a file and line, an API), when known.</summary>
        public string? Source { get; }

        /// <summary>The tier file the reservation was read for, so it pipes into the next cmdlet with its tier.</summary>
        public string? TierPath { get; private set; }

        /// <summary>A copy that carries <paramref name="tierPath"/>.</summary>
        public DhcpReservation WithTierPath(string tierPath)
        {
            var copy = (DhcpReservation)MemberwiseClone();
            copy.TierPath = tierPath;
            return copy;
        }

        /// <summary>A copy placed on a server, in a scope, with an owner flag.</summary>
        public DhcpReservation With(string? scopeId = null, bool? isOwned = null, string? server = null, string? source = null) =>
            new DhcpReservation(ClientId, IPAddress, Name, Description, scopeId ?? ScopeId, isOwned ?? IsOwned, server ?? Server, source ?? Source);

        /// <summary>The reservation's content as one plan line side: <c>10.20.99.40 dv02nms001v01 (Omada)</c>.</summary>
        public string Describe() => $"{IPAddress} {Name ?? "(no name)"}" + (string.IsNullOrEmpty(Description) ? "" : $" ({Description})");

        /// <summary>Same address, name and description (what decides between Change and Unchanged).</summary>
        public bool SameContent(DhcpReservation other) =>
            IPAddress.Equals(other.IPAddress) && Name == other.Name && (Description ?? "") == (other.Description ?? "");

        public override string ToString() => $"{ClientId} -> {Describe()}";
    }
}
