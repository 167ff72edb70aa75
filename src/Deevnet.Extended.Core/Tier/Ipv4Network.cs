using System;
using System.Net;
using System.Net.Sockets;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>An IPv4 network in CIDR form, e.g. <c>10.20.99.0/24</c>.</summary>
    public readonly struct Ipv4Network : IEquatable<Ipv4Network>
    {
        public Ipv4Network(uint network, int prefixLength)
        {
            Network = network;
            PrefixLength = prefixLength;
        }

        /// <summary>Network address as a host-order integer.</summary>
        public uint Network { get; }
        public int PrefixLength { get; }
        public uint Mask => PrefixLength == 0 ? 0u : uint.MaxValue << (32 - PrefixLength);
        public uint Broadcast => Network | ~Mask;
        public IPAddress NetworkAddress => ToAddress(Network);
        public IPAddress BroadcastAddress => ToAddress(Broadcast);
        public IPAddress SubnetMask => ToAddress(Mask);

        public bool Contains(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork && (ToUInt(address) & Mask) == Network;

        /// <summary>Parses <c>a.b.c.d/n</c>. Fails when the address is not the network address itself.</summary>
        public static bool TryParse(string text, out Ipv4Network network, out string? error)
        {
            network = default;
            error = null;
            var slash = text.IndexOf('/');
            if (slash < 0 || !TryParseAddress(text.Substring(0, slash), out var address) ||
                !int.TryParse(text.Substring(slash + 1), out var prefix) || prefix < 0 || prefix > 32)
            {
                error = $"'{text}' is not an IPv4 network in CIDR form (a.b.c.d/n)";
                return false;
            }
            var candidate = new Ipv4Network(ToUInt(address!) & (prefix == 0 ? 0u : uint.MaxValue << (32 - prefix)), prefix);
            if (candidate.Network != ToUInt(address!))
            {
                error = $"'{text}' has host bits set; the network is {candidate}";
                return false;
            }
            network = candidate;
            return true;
        }

        /// <summary>Strict dotted-quad parsing (IPAddress.TryParse also accepts "10.1" and friends).</summary>
        public static bool TryParseAddress(string text, out IPAddress? address)
        {
            address = null;
            var parts = text.Split('.');
            if (parts.Length != 4) return false;
            var bytes = new byte[4];
            for (var i = 0; i < 4; i++)
            {
                var p = parts[i];
                if (p.Length == 0 || p.Length > 3 || (p.Length > 1 && p[0] == '0')) return false;
                foreach (var c in p) if (c < '0' || c > '9') return false;
                var v = int.Parse(p);
                if (v > 255) return false;
                bytes[i] = (byte)v;
            }
            address = new IPAddress(bytes);
            return true;
        }

        public static uint ToUInt(IPAddress address)
        {
            var b = address.GetAddressBytes();
            return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        }

        public static IPAddress ToAddress(uint value) =>
            new IPAddress(new[] { (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value });

        public override string ToString() => $"{NetworkAddress}/{PrefixLength}";
        public bool Equals(Ipv4Network other) => Network == other.Network && PrefixLength == other.PrefixLength;
        public override bool Equals(object? obj) => obj is Ipv4Network n && Equals(n);
        public override int GetHashCode() => HashCode.Combine(Network, PrefixLength);
    }
}
