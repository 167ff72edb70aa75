using System;
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
        private static readonly Regex TokenIdPattern = new Regex(@"^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+![A-Za-z0-9._-]+$", RegexOptions.CultureInvariant);
        private static readonly Regex AgeRecipientPattern = new Regex(@"^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$", RegexOptions.CultureInvariant);
        private static readonly Regex SerialPattern = new Regex(@"^[A-Za-z0-9_-]{1,20}$", RegexOptions.CultureInvariant);

        /// <summary>See <see cref="NameRules.IsName"/> (kept here for the callers that read the grammar as a whole).</summary>
        public static bool IsName(string text) => NameRules.IsName(text);

        /// <summary>See <see cref="NameRules.IsDnsName"/>.</summary>
        public static bool IsDnsName(string text) => NameRules.IsDnsName(text);

        /// <summary>See <see cref="DurationRules.TryParse"/>.</summary>
        public static bool TryParseDuration(string text, out TimeSpan duration) => DurationRules.TryParse(text, out duration);

        /// <summary>See <see cref="DurationRules.Format"/>.</summary>
        public static string FormatDuration(TimeSpan duration) => DurationRules.Format(duration);

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
