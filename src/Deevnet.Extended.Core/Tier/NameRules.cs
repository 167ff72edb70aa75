namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// What a host, segment, service or hypervisor name may be: the one rule the tier loader, the identity file, the
    /// cmdlets' name parameters and the reading of server answers share. Names end up in config files, DNS names and
    /// command lines, so the alphabet is the DNS label's, lowercase. Messages carry the raw value; whoever shows one
    /// makes it printable (TierProblem, the parameter attributes, DeevException callers).
    /// </summary>
    public static class NameRules
    {
        /// <summary>The rule in words, as every refusal ends.</summary>
        public const string Rule = "lowercase a-z, 0-9 and '-', 1-63 characters, not starting or ending with '-'";

        /// <summary>A name: lowercase <c>[a-z0-9-]</c>, 1–63 characters, no leading or trailing <c>-</c>.</summary>
        public static bool IsName(string text)
        {
            // Hand-written: it runs for every name in a tier of thousands of hosts.
            if (text.Length == 0 || text.Length > 63 || text[0] == '-' || text[text.Length - 1] == '-') return false;
            foreach (var c in text)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
            return true;
        }

        /// <summary>Why <paramref name="text"/> is not a <paramref name="what"/> (<c>host name</c>, …), or null when it is one.</summary>
        public static string? WhyNotAName(string text, string what = "name") =>
            IsName(text) ? null : $"'{text}' is not a valid {what} ({Rule})";

        /// <summary>
        /// A wildcard pattern over names (<c>lab*</c>, <c>obs0[12]</c>): the name alphabet plus <c>* ? [ ]</c>. Anything
        /// else can match no name the tier may hold, so it is a mistake worth saying rather than an empty answer.
        /// </summary>
        public static bool IsNamePattern(string text)
        {
            if (text.Length == 0 || text.Length > 253) return false;
            foreach (var c in text)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*' || c == '?' || c == '[' || c == ']')) return false;
            return true;
        }

        /// <summary>As <see cref="WhyNotAName"/> for a parameter that takes wildcards.</summary>
        public static string? WhyNotANamePattern(string text, string what = "name") =>
            IsNamePattern(text) ? null : $"'{text}' is not a valid {what} ({Rule}; wildcards * ? [ ] allowed)";

        /// <summary>A DNS name made of <see cref="IsName"/> labels, without a trailing dot, at most 253 characters.</summary>
        public static bool IsDnsName(string text)
        {
            if (text.Length == 0 || text.Length > 253) return false;
            foreach (var label in text.Split('.'))
                if (!IsName(label)) return false;
            return true;
        }

        /// <summary>
        /// A record owner or target as a server may hold it and the module may read: <see cref="IsName"/> labels, or a
        /// label starting with <c>_</c> (service labels such as <c>_ldap</c> sit in zones the module shares).
        /// </summary>
        public static bool IsRecordName(string text)
        {
            if (text.Length == 0 || text.Length > 253) return false;
            foreach (var label in text.Split('.'))
                if (!IsName(label) && !(label.Length > 1 && label[0] == '_' && IsName(label.Substring(1)))) return false;
            return true;
        }
    }
}
