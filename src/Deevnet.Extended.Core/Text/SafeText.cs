using System.Text;

namespace Deevnet.Extended.Core.Text
{
    /// <summary>
    /// Text from a file, a parameter or a server, made safe to show: a name that carries a newline, an ESC sequence
    /// or a bidirectional override must not split a message, repaint the terminal or disguise itself in a report.
    /// Such characters are shown as escapes (<c>\n</c>, <c>\x1b</c>, <c>\u202e</c>); the raw value stays on the error
    /// object (its target) for whoever needs it.
    /// </summary>
    public static class SafeText
    {
        /// <summary>The text with every control, line-separator and bidi-control character escaped.</summary>
        public static string Printable(string? value) => Escape(value, keepNewlines: false);

        /// <summary>As <see cref="Printable"/>, but a multi-line message keeps its line breaks (<c>\n</c>, and tabs).</summary>
        public static string PrintableLines(string? value) => Escape(value, keepNewlines: true);

        private static string Escape(string? value, bool keepNewlines)
        {
            if (string.IsNullOrEmpty(value)) return value ?? "";
            var clean = true;
            for (var i = 0; i < value.Length; i++)
                if (NeedsEscape(value, i, keepNewlines)) { clean = false; break; }
            if (clean) return value;   // the common case allocates nothing
            var sb = new StringBuilder(value.Length + 16);
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (!NeedsEscape(value, i, keepNewlines)) sb.Append(c);
                else if (c == '\n') sb.Append("\\n");
                else if (c == '\r') sb.Append("\\r");
                else if (c == '\t') sb.Append("\\t");
                else if (c <= '\u00ff') sb.Append("\\x").Append(((int)c).ToString("x2"));
                else sb.Append("\\u").Append(((int)c).ToString("x4"));
            }
            return sb.ToString();
        }

        private static bool NeedsEscape(string text, int i, bool keepNewlines)
        {
            var c = text[i];
            if (keepNewlines && (c == '\n' || c == '\t')) return false;
            // Half a surrogate pair (or U+FFFE/U+FFFF) is not text: XML refuses it and terminals show garbage.
            if (char.IsHighSurrogate(c)) return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]);
            if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(text[i - 1]);
            if (c == '\ufffe' || c == '\uffff') return true;
            return char.IsControl(c)                       // C0, DEL, C1 (ESC, CSI …)
                || c == '\u2028' || c == '\u2029'          // line and paragraph separators
                || (c >= '\u202a' && c <= '\u202e')        // bidi embeddings and overrides
                || (c >= '\u2066' && c <= '\u2069')        // bidi isolates
                || c == '\u200e' || c == '\u200f' || c == '\u061c';   // directional marks
        }
    }
}
