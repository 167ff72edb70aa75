using System.Collections.Generic;
using System.Linq;
using System.Net;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// The rules an address must keep to be a host's: the one place the tier loader (for <c>hosts.*.ip</c>) and the
    /// cmdlets that take an address directly (<c>Set-DeevDhcpReservation -IPAddress</c>) ask, so both refuse the same
    /// addresses with the same words. A DHCP server hands a reserved address to whichever client asks with the MAC:
    /// the segment's network, broadcast or gateway address, or a server's own, would break the segment for everyone.
    /// </summary>
    public static class AddressRules
    {
        /// <summary>Why <paramref name="ip"/> cannot be a host's address on <paramref name="segment"/>, or null when it can.</summary>
        /// <param name="ip">The address asked for.</param>
        /// <param name="segment">The segment the host sits on.</param>
        /// <param name="servers">The tier's DHCP, DNS and hypervisor sections: an address they are reached at is theirs.</param>
        public static string? WhyNotAHostAddress(IPAddress ip, Segment segment, IEnumerable<BackendSpec?>? servers = null)
        {
            var value = Ipv4Network.ToUInt(ip);
            var subnet = segment.Subnet;
            if (!subnet.Contains(ip)) return $"{ip} is not inside segment '{segment.Name}' ({subnet})";
            if (subnet.PrefixLength <= 30 && value == subnet.Network) return $"{ip} is the network address of segment '{segment.Name}' ({subnet})";
            if (subnet.PrefixLength <= 30 && value == subnet.Broadcast) return $"{ip} is the broadcast address of segment '{segment.Name}' ({subnet})";
            if (segment.Gateway != null && segment.Gateway.Equals(ip)) return $"{ip} is the gateway of segment '{segment.Name}'";
            if (segment.DnsServers.Contains(ip)) return $"{ip} is a DNS server of segment '{segment.Name}'";
            foreach (var spec in servers ?? Enumerable.Empty<BackendSpec?>())
                if (spec?.Via?.Host is { } host && Ipv4Network.TryParseAddress(host, out var address) && address!.Equals(ip))
                    return $"{ip} is the address of the tier's {spec.Section} server";
            return null;
        }

        /// <summary>The segment of <paramref name="tier"/> whose subnet holds <paramref name="ip"/> (the narrowest), or null.</summary>
        public static Segment? SegmentOf(SiteTier tier, IPAddress ip) =>
            tier.Segments.Where(s => s.Subnet.Contains(ip)).OrderByDescending(s => s.Subnet.PrefixLength).FirstOrDefault();

        /// <summary>The sections whose servers' addresses no host may take.</summary>
        public static IEnumerable<BackendSpec?> Servers(SiteTier tier) => new[] { tier.Dhcp, tier.Dns }.Concat(tier.Hypervisors);
    }
}
