using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// The value grammars of the tier file (names, DNS names, durations, URLs, …), kept in one place so the loader,
    /// the companion-file reader and the cmdlets agree on them.
    /// </summary>
    public static class TierSyntax
    {
        private static readonly Regex HostPattern = new Regex(@"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$", RegexOptions.CultureInvariant);
        private static readonly Regex DurationPattern = new Regex(@"^(\d{1,9})(ms|s|m|h|d)$", RegexOptions.CultureInvariant);
        private static readonly Regex TokenIdPattern = new Regex(@"^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+![A-Za-z0-9._-]+$", RegexOptions.CultureInvariant);
        private static readonly Regex AgeRecipientPattern = new Regex(@"^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$", RegexOptions.CultureInvariant);
        private static readonly Regex SerialPattern = new Regex(@"^[A-Za-z0-9_-]{1,20}$", RegexOptions.CultureInvariant);

        /// <summary>A host, segment, service or site name: lowercase <c>[a-z0-9-]</c>, 1–63 characters, no leading/trailing <c>-</c>.</summary>
        public static bool IsName(string text)
        {
            // Hand-written: it runs for every name in a tier of thousands of hosts.
            if (text.Length == 0 || text.Length > 63 || text[0] == '-' || text[text.Length - 1] == '-') return false;
            foreach (var c in text)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
            return true;
        }

        /// <summary>A DNS name made of <see cref="IsName"/> labels, without a trailing dot, at most 253 characters.</summary>
        public static bool IsDnsName(string text)
        {
            if (text.Length == 0 || text.Length > 253) return false;
            foreach (var label in text.Split('.'))
                if (!IsName(label)) return false;
            return true;
        }

        /// <summary>Parses <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>36h</c>, <c>7d</c>.</summary>
        public static bool TryParseDuration(string text, out TimeSpan duration)
        {
            duration = default;
            var m = DurationPattern.Match(text);
            if (!m.Success) return false;
            var n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            switch (m.Groups[2].Value)
            {
                case "ms": duration = TimeSpan.FromMilliseconds(n); break;
                case "s": duration = TimeSpan.FromSeconds(n); break;
                case "m": duration = TimeSpan.FromMinutes(n); break;
                case "h": duration = TimeSpan.FromHours(n); break;
                default: duration = TimeSpan.FromDays(n); break;
            }
            return true;
        }

        /// <summary>Formats a duration back into the tier's notation (largest exact unit).</summary>
        public static string FormatDuration(TimeSpan duration)
        {
            var ms = (long)duration.TotalMilliseconds;
            if (ms % 86400000 == 0 && ms != 0) return (ms / 86400000) + "d";
            if (ms % 3600000 == 0 && ms != 0) return (ms / 3600000) + "h";
            if (ms % 60000 == 0 && ms != 0) return (ms / 60000) + "m";
            if (ms % 1000 == 0) return (ms / 1000) + "s";
            return ms + "ms";
        }

        /// <summary>An absolute <c>http</c>/<c>https</c> URL with a host.</summary>
        public static bool IsHttpUrl(string text, bool httpsOnly = false) =>
            Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Host.Length > 0 &&
            (uri.Scheme == "https" || (!httpsOnly && uri.Scheme == "http"));

        /// <summary>A Proxmox API token id, <c>user@realm!token</c>.</summary>
        public static bool IsTokenId(string text) => TokenIdPattern.IsMatch(text);

        /// <summary>An age X25519 recipient: <c>age1</c> followed by 58 bech32 characters.</summary>
        public static bool IsAgeRecipient(string text) => AgeRecipientPattern.IsMatch(text);

        /// <summary>A disk serial as hypervisors accept it.</summary>
        public static bool IsDiskSerial(string text) => SerialPattern.IsMatch(text);

        /// <summary>A host name or dotted-quad address, as used in <c>server</c> and <c>tcp: host:port</c>.</summary>
        public static bool IsHostOrAddress(string text) =>
            Ipv4Network.TryParseAddress(text, out _) || (text.Length <= 253 && HostPattern.IsMatch(text));
    }
}
