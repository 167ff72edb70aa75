using System;
using System.Globalization;
using System.Net;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>The record types the module writes: a host's address, its reverse pointer, a service alias.</summary>
    public enum DnsRecordType
    {
        A,
        PTR,
        CNAME,
    }

    /// <summary>
    /// One DNS record as the module sees it. <see cref="Name"/> and, for PTR/CNAME, <see cref="Value"/> are lowercase
    /// FQDNs without the trailing dot; an A value is a dotted-quad IPv4 address. Instances are always valid:
    /// <see cref="Create"/> refuses bad names and addresses before anything reaches a server.
    /// </summary>
    public sealed class DnsRecord : IEquatable<DnsRecord>
    {
        /// <summary>TTL of every record the tier yields.</summary>
        public const int DefaultTtl = 300;

        private DnsRecord(string name, DnsRecordType type, string value, int ttl, bool isOwned, string? server)
        {
            Name = name;
            Type = type;
            Value = value;
            Ttl = ttl;
            IsOwned = isOwned;
            Server = server;
        }

        /// <summary>Owner name, lowercase, no trailing dot (<c>labobs01.lab.deevnet.test</c>).</summary>
        public string Name { get; }

        public DnsRecordType Type { get; }

        /// <summary>IPv4 address (A) or target FQDN (PTR, CNAME), lowercase, no trailing dot.</summary>
        public string Value { get; }

        /// <summary>Time to live in seconds; 0 when the server does not keep one per record (dnsmasq hosts files).</summary>
        public int Ttl { get; }

        /// <summary>True when the module wrote the record (and may change or remove it).</summary>
        public bool IsOwned { get; }

        /// <summary>The server the record was read from; null for records computed from the tier.</summary>
        public string? Server { get; }

        /// <summary>Builds a validated record; throws <c>InvalidDnsRecord</c> naming what is wrong.</summary>
        public static DnsRecord Create(string name, DnsRecordType type, string value, int ttl = DefaultTtl, bool isOwned = false, string? server = null)
        {
            var n = NormalizeName(name, "name");
            string v;
            if (type == DnsRecordType.A)
            {
                if (value == null || !Ipv4Network.TryParseAddress(value.Trim(), out var ip))
                    throw Invalid($"'{Text.SafeText.Printable(value)}' is not an IPv4 address (record {n} A).", n);
                v = ip!.ToString();
            }
            else
            {
                v = NormalizeName(value, "value");
            }
            if (type == DnsRecordType.PTR && !n.EndsWith(".in-addr.arpa", StringComparison.Ordinal))
                throw Invalid($"A PTR record must be named in in-addr.arpa, not '{n}'.", n);
            if (ttl < 0 || ttl > 604800) throw Invalid($"TTL {ttl} of {n} is outside 0..604800.", n);
            return new DnsRecord(n, type, v, ttl, isOwned, server);
        }

        /// <summary>
        /// A record as a server answered it, or null when its name or value breaks the rules of <see cref="Create"/>.
        /// Such a record (a wildcard, an odd label, a control character) is one the module could never have written, so
        /// it is not the module's business: readers skip it and it stays on the server untouched.
        /// </summary>
        public static DnsRecord? TryRead(string? name, DnsRecordType type, string? value, int ttl)
        {
            if (name == null || value == null) return null;
            try { return Create(name, type, value, ttl); }
            catch (DeevException) { return null; }
        }

        /// <summary>A copy as read from a server: marked owned or not, tagged with the server.</summary>
        public DnsRecord As(bool isOwned, string? server) => new DnsRecord(Name, Type, Value, Ttl, isOwned, server);

        /// <summary>A copy with another TTL.</summary>
        public DnsRecord WithTtl(int ttl) => new DnsRecord(Name, Type, Value, ttl, IsOwned, Server);

        /// <summary>Same owner name, type and value (TTL and ownership aside).</summary>
        public bool SameData(DnsRecord other) => Name == other.Name && Type == other.Type && Value == other.Value;

        public string Key => Name + " " + Type;

        /// <summary><c>labobs01.lab.deevnet.test 300 A 10.231.99.20</c>.</summary>
        public override string ToString() => $"{Name} {Ttl} {Type} {Value}";

        public bool Equals(DnsRecord? other) => other != null && SameData(other) && Ttl == other.Ttl && IsOwned == other.IsOwned;
        public override bool Equals(object? obj) => Equals(obj as DnsRecord);
        public override int GetHashCode() => HashCode.Combine(Key, Value);

        /// <summary>
        /// Lowercases a DNS name and drops a trailing dot; then the name rule (<see cref="NameRules.IsRecordName"/>: every
        /// label a name, or <c>_</c> and a name) and 253 characters at most, so nothing odd reaches a command line.
        /// </summary>
        public static string NormalizeName(string? name, string what = "name")
        {
            var n = (name ?? string.Empty).Trim().ToLowerInvariant();
            if (n.EndsWith(".", StringComparison.Ordinal)) n = n.Substring(0, n.Length - 1);
            if (n.Length == 0 || n.Length > 253) throw Invalid($"The {what} '{Text.SafeText.Printable(name)}' is not a DNS name.", name);
            foreach (var label in n.Split('.'))
            {
                if (!NameRules.IsRecordName(label))
                    throw Invalid($"The {what} '{Text.SafeText.Printable(name)}' is not a valid DNS name (label '{Text.SafeText.Printable(label)}': {NameRules.Rule}).", name);
            }
            return n;
        }

        /// <summary><c>10.231.99.20</c> → <c>20.99.231.10.in-addr.arpa</c>.</summary>
        public static string ReverseName(IPAddress address)
        {
            var b = address.GetAddressBytes();
            if (b.Length != 4) throw Invalid($"'{address}' is not an IPv4 address.", address);
            return string.Format(CultureInfo.InvariantCulture, "{3}.{2}.{1}.{0}.in-addr.arpa", b[0], b[1], b[2], b[3]);
        }

        /// <summary>The address a PTR name stands for, or null when the name is not a full IPv4 reverse name.</summary>
        public static IPAddress? AddressOfReverseName(string name)
        {
            const string suffix = ".in-addr.arpa";
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) return null;
            var parts = name.Substring(0, name.Length - suffix.Length).Split('.');
            if (parts.Length != 4) return null;
            Array.Reverse(parts);
            return Ipv4Network.TryParseAddress(string.Join(".", parts), out var ip) ? ip : null;
        }

        /// <summary>True when <paramref name="name"/> is <paramref name="zone"/> or below it.</summary>
        public static bool IsInZone(string name, string zone) =>
            name == zone || name.EndsWith("." + zone, StringComparison.Ordinal);

        internal static DeevException Invalid(string message, object? target) =>
            new DeevException(DnsErrors.InvalidRecord, DeevErrorKind.InvalidArgument, message, target);

        /// <summary>
        /// For fault tests only: a record that skips validation, to prove a server's own rejection leaves the zone as it was.
        /// </summary>
        internal static DnsRecord Unchecked(string name, DnsRecordType type, string value, int ttl = DefaultTtl) =>
            new DnsRecord(name, type, value, ttl, false, null);
    }

    /// <summary>Stable error ids of the DNS area.</summary>
    public static class DnsErrors
    {
        public const string InvalidRecord = "InvalidDnsRecord";
        public const string RecordConflict = "RecordConflict";
        public const string RecordNotOwned = "RecordNotOwned";
        public const string ZoneNotServed = "DnsZoneNotServed";
        public const string ServerUnreachable = "DnsServerUnreachable";
        public const string ValidationFailed = "BackendValidationFailed";
        public const string ReloadFailed = "BackendReloadFailed";
        public const string UpdateRejected = "DnsUpdateRejected";
        public const string ConcurrentChange = "DnsConcurrentChange";
        public const string PruneRefused = "PruneRefused";
        public const string NotConfigured = "DnsNotConfigured";
    }
}
