using System;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// What a path on a server may be (backup paths, a data disk's mount, the journal and store paths on a host, a
    /// restore root): absolute, one line, no <c>.</c> or <c>..</c> parts. These paths go on remote command lines and
    /// into tar member names; a relative or climbing path would land somewhere the tier did not say.
    /// </summary>
    public static class PathRules
    {
        /// <summary>Why <paramref name="text"/> is not a plain absolute path, or null when it is one.</summary>
        public static string? WhyNotAnAbsolutePath(string text)
        {
            foreach (var c in text)
                if (char.IsControl(c) || c == '\u2028' || c == '\u2029')
                    return $"'{text}' holds a control character (newline, NUL, …); a path must be one line of plain text";
            if (!text.StartsWith("/", StringComparison.Ordinal)) return $"'{text}' is not an absolute path (it must start with '/')";
            foreach (var part in text.Split('/'))
                if (part == "." || part == "..") return $"'{text}' has a '{part}' part; write the folder it means";
            return null;
        }
    }
}
