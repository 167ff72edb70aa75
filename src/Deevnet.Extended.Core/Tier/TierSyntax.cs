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
