using System;
using System.Globalization;
using System.Text;

namespace Deevnet.Extended.Core.Identity
{
    /// <summary>
    /// A 48-bit MAC address. Parses the notations the platform meets (colons, dashes, Cisco dots, bare hex, any case)
    /// and prints the canonical Deevnet form: lowercase with colons (<c>02:de:20:00:00:cf</c>).
    /// Other forms are for back ends: upper case for Kea/OPNsense and Proxmox read-back, dashes for GRUB file names.
    /// </summary>
    public readonly struct MacAddress : IEquatable<MacAddress>, IComparable<MacAddress>
    {
        private readonly ulong _value;

        public MacAddress(ulong value)
        {
            if (value > 0xFFFFFFFFFFFFUL) throw new ArgumentOutOfRangeException(nameof(value), "A MAC address has 48 bits.");
            _value = value;
        }

        /// <summary>The address as a 48-bit number.</summary>
        public ulong Value => _value;

        /// <summary>The six octets, most significant first.</summary>
        public byte[] GetBytes()
        {
            var bytes = new byte[6];
            for (var i = 0; i < 6; i++) bytes[i] = (byte)(_value >> (40 - 8 * i));
            return bytes;
        }

        /// <summary>
        /// <paramref name="macNamespace"/> (three octets) followed by <paramref name="vmId"/> as three big-endian octets:
        /// <c>02:de:20</c> + 207 → <c>02:de:20:00:00:cf</c>.
        /// </summary>
        public static MacAddress FromVmId(string macNamespace, int vmId)
        {
            if (vmId < 0 || vmId > 0xFFFFFF) throw new ArgumentOutOfRangeException(nameof(vmId), vmId, "A VMID must fit in three octets (0–16777215).");
            if (!TryParseNamespace(macNamespace, out var prefix, out var error)) throw new FormatException(error);
            return new MacAddress(((ulong)prefix << 24) | (uint)vmId);
        }

        /// <summary>The low three octets read as a number: the VMID a Deevnet MAC encodes.</summary>
        public int VmIdPart => (int)(_value & 0xFFFFFF);

        /// <summary>The high three octets in canonical form, e.g. <c>02:de:20</c>.</summary>
        public string NamespacePart => ToString().Substring(0, 8);

        public static MacAddress Parse(string text) =>
            TryParse(text, out var mac) ? mac : throw new FormatException($"'{text}' is not a MAC address (e.g. 02:de:20:00:00:cf).");

        /// <summary>Accepts <c>02:DE:20:00:00:CF</c>, <c>02-de-20-00-00-cf</c>, <c>02de.2000.00cf</c> and <c>02de200000cf</c>.</summary>
        public static bool TryParse(string? text, out MacAddress mac)
        {
            mac = default;
            if (text == null) return false;
            text = text.Trim();
            string hex;
            if (text.Length == 17 && (Separated(text, ':', 2) || Separated(text, '-', 2)))
                hex = text.Replace(":", "").Replace("-", "");
            else if (text.Length == 14 && Separated(text, '.', 4))
                hex = text.Replace(".", "");
            else if (text.Length == 12)
                hex = text;
            else
                return false;
            if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)) return false;
            mac = new MacAddress(value);
            return true;
        }

        /// <summary>
        /// Parses a MAC namespace (three octets, colons or dashes or bare hex) into its 24-bit value; it must be a
        /// locally administered unicast prefix, because the module invents these addresses.
        /// </summary>
        public static bool TryParseNamespace(string text, out uint prefix, out string? error)
        {
            prefix = 0;
            error = null;
            string hex;
            if (text.Length == 8 && (Separated(text, ':', 2) || Separated(text, '-', 2))) hex = text.Replace(":", "").Replace("-", "");
            else if (text.Length == 6) hex = text;
            else hex = "";
            if (hex.Length != 6 || !uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out prefix))
            {
                error = $"'{text}' is not a MAC namespace (three octets, e.g. \"02:de:20\")";
                return false;
            }
            var first = prefix >> 16;
            if ((first & 0x01) != 0 || (first & 0x02) == 0)
            {
                error = $"'{text}' is not a locally administered unicast prefix (the first octet needs bit 0x02 set and bit 0x01 clear, e.g. 02)";
                return false;
            }
            return true;
        }

        /// <summary>The canonical form of a namespace, e.g. <c>02-DE-20</c> → <c>02:de:20</c>.</summary>
        public static string NormalizeNamespace(string text)
        {
            if (!TryParseNamespace(text, out var prefix, out var error)) throw new FormatException(error);
            return $"{prefix >> 16:x2}:{(prefix >> 8) & 0xFF:x2}:{prefix & 0xFF:x2}";
        }

        /// <summary>Lowercase with colons: <c>02:de:20:00:00:cf</c> (the Deevnet standard).</summary>
        public override string ToString() => Format(':', upper: false);

        /// <summary>Uppercase with colons: <c>02:DE:20:00:00:CF</c> (Kea/OPNsense, Proxmox read-back).</summary>
        public string ToUpperString() => Format(':', upper: true);

        /// <summary>With dashes, e.g. for per-MAC GRUB files: <c>02-de-20-00-00-cf</c>.</summary>
        public string ToDashedString(bool upper = false) => Format('-', upper);

        /// <summary>Twelve hex digits without separators.</summary>
        public string ToBareString(bool upper = false) => Format(null, upper);

        private string Format(char? separator, bool upper)
        {
            var bytes = GetBytes();
            var sb = new StringBuilder(17);
            for (var i = 0; i < 6; i++)
            {
                if (i > 0 && separator.HasValue) sb.Append(separator.Value);
                sb.Append(bytes[i].ToString(upper ? "X2" : "x2", CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }

        private static bool Separated(string text, char separator, int groupLength)
        {
            for (var i = 0; i < text.Length; i++)
            {
                var isSeparatorPosition = (i + 1) % (groupLength + 1) == 0;
                if (isSeparatorPosition != (text[i] == separator)) return false;
                if (!isSeparatorPosition && !Uri.IsHexDigit(text[i])) return false;
            }
            return true;
        }

        public bool Equals(MacAddress other) => _value == other._value;
        public override bool Equals(object? obj) => obj is MacAddress m && Equals(m);
        public override int GetHashCode() => _value.GetHashCode();
        public int CompareTo(MacAddress other) => _value.CompareTo(other._value);
        public static bool operator ==(MacAddress a, MacAddress b) => a.Equals(b);
        public static bool operator !=(MacAddress a, MacAddress b) => !a.Equals(b);
    }
}
