using System;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>
    /// Normalises and validates reservation fields before anything is planned. Values end up in config files and,
    /// for some back ends, near a shell, so the rules are strict: a host name is one DNS label, a description is
    /// printable text on one line.
    /// </summary>
    public static class DhcpFields
    {
        private static readonly Regex HexOnly = new Regex("^[0-9A-Fa-f]{12}$", RegexOptions.CultureInvariant);
        public const int MaxDescriptionLength = 200;

        /// <summary>
        /// A MAC in any common notation (<c>02:DE:20:00:00:CF</c>, <c>02-de-20-00-00-cf</c>, <c>02de.2000.00cf</c>,
        /// <c>02de200000cf</c>) as lowercase colon-separated octets; throws <c>ReservationInvalid</c> otherwise.
        /// </summary>
        public static string NormalizeMac(string? text)
        {
            if (!MacAddress.TryParse(text, out var parsed) || (text ?? "").Trim().Length == 12 && !HexOnly.IsMatch(text!.Trim()))
                throw DhcpErrors.Invalid($"'{DhcpFields.Printable(text ?? "")}' is not a MAC address (expected six octets, e.g. 02:de:20:00:00:cf).", text);
            var mac = parsed.ToString();
            var bytes = parsed.GetBytes();
            if ((bytes[0] & 1) != 0)
                throw DhcpErrors.Invalid($"'{Printable(text!)}' is a {(bytes.All(b => b == 0xff) ? "broadcast" : "multicast")} MAC address; a host cannot have it.", text);
            if (bytes.All(b => b == 0)) throw DhcpErrors.Invalid($"'{Printable(text!)}' is the all-zero MAC address; a host cannot have it.", text);
            return mac;
        }

        /// <summary>A strict dotted-quad IPv4 address that a host can hold (not 0.0.0.0, multicast or broadcast).</summary>
        public static IPAddress ParseAddress(string? text)
        {
            if (text == null || !Ipv4Network.TryParseAddress(text.Trim(), out var address))
                throw DhcpErrors.Invalid($"'{text}' is not an IPv4 address (a.b.c.d).", text);
            var b = address!.GetAddressBytes();
            if (b[0] == 0 || b[0] >= 224 || b[0] == 127) throw DhcpErrors.Invalid($"{address} cannot be reserved for a host.", text);
            return address;
        }

        /// <summary>
        /// The tier's rules for a host address (<see cref="AddressRules"/>), for an address given to a cmdlet directly:
        /// it must sit in a segment of the tier (<paramref name="segmentName"/> when given) and be a host's, not the
        /// segment's network, broadcast, gateway or DNS server, nor a server's. The message names the parameter where
        /// the tier loader names the line.
        /// </summary>
        public static void CheckHostAddress(SiteTier tier, IPAddress address, string? segmentName, string parameter = "-IPAddress")
        {
            var segment = segmentName != null ? tier.FindSegment(segmentName) : AddressRules.SegmentOf(tier, address);
            var why = segment == null
                ? segmentName != null ? $"the tier has no segment '{Printable(segmentName)}'" : $"{address} is not inside any segment of the tier"
                : AddressRules.WhyNotAHostAddress(address, segment, AddressRules.Servers(tier));
            if (why != null) throw DhcpErrors.Invalid($"{parameter}: {why}.", address.ToString());
        }

        /// <summary>The address, or null when the text is not a strict dotted quad.</summary>
        public static IPAddress? TryAddress(string? text) => text != null && Ipv4Network.TryParseAddress(text.Trim(), out var a) ? a : null;

        /// <summary>
        /// A reservation's host name: the tier's name rule (<see cref="NameRules"/>) after folding case, as DNS does;
        /// the message names <paramref name="parameter"/> where the loader names a line.
        /// </summary>
        public static string? ValidateName(string? name, string parameter = "-Name")
        {
            if (name == null) return null;
            var lower = name.ToLowerInvariant();
            if (NameRules.WhyNotAName(lower, "host name") != null)
                throw DhcpErrors.Invalid($"{parameter}: {Printable(NameRules.WhyNotAName(name, "host name")!)}.", name);
            return lower;
        }

        /// <summary>
        /// A reservation as read from a server, held to the rules the module writes by: one whose name or description
        /// the module could not have written is not the module's, whatever its marker says, so it is kept and shown
        /// (escaped) as foreign, never rewritten; its address still counts for conflicts.
        /// </summary>
        public static DhcpReservation FromServer(DhcpReservation read) =>
            IsWritable(read.Name, read.Description) ? read
                : read.With(isOwned: false, source: read.Source ?? $"an entry on {read.Server} whose name '{Printable(read.Name ?? "")}' or description breaks the module's rules");

        /// <summary>True when the module could have written this name and description (the rules of <see cref="Desired"/>).</summary>
        public static bool IsWritable(string? name, string? description) =>
            (name == null || NameRules.IsName(name.ToLowerInvariant())) &&
            (description == null || description.Length <= MaxDescriptionLength && !description.Any(c => char.IsControl(c) || c == '\u2028' || c == '\u2029'));

        /// <summary>Descriptions are one line of printable text, without characters that end or comment a config entry.</summary>
        public static string? ValidateDescription(string? description)
        {
            if (string.IsNullOrEmpty(description)) return null;
            if (description!.Length > MaxDescriptionLength) throw DhcpErrors.Invalid($"The description is longer than {MaxDescriptionLength} characters.", description);
            foreach (var c in description)
            {
                if (char.IsControl(c) || c == '\u2028' || c == '\u2029')
                    throw DhcpErrors.Invalid($"The description '{Printable(description)}' contains a line break or control character.", description);
            }
            return description.Trim();
        }

        /// <summary>A validated reservation with normalised MAC, name and description.</summary>
        public static DhcpReservation Desired(string clientId, IPAddress ipAddress, string? name, string? description, string? scopeId = null) =>
            new DhcpReservation(NormalizeMac(clientId), ipAddress, ValidateName(name), ValidateDescription(description), scopeId, true);

        /// <summary>A scope id given as a network address (<c>10.20.99.0</c>, Windows style) or in CIDR form.</summary>
        public static bool ScopeMatches(string scopeId, Ipv4Network subnet)
        {
            var s = scopeId.Trim();
            if (s.IndexOf('/') >= 0) return Ipv4Network.TryParse(s, out var n, out _) && n.Equals(subnet);
            return Ipv4Network.TryParseAddress(s, out var a) && a!.Equals(subnet.NetworkAddress);
        }

        /// <summary>Shows control characters as escapes so an error message never carries a raw newline.</summary>
        public static string Printable(string value) => Text.SafeText.Printable(value);
    }
}
