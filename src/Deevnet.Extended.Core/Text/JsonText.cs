using System.Globalization;
using System.Text;

namespace Deevnet.Extended.Core.Text
{
    /// <summary>
    /// JSON string literals for the places that write JSON by hand (reports, API bodies, Kea configuration):
    /// netstandard2.0 has no System.Text.Json, and this is the one escaping routine they all share.
    /// </summary>
    public static class JsonText
    {
        /// <summary>Appends <paramref name="value"/> as a quoted, escaped JSON string.</summary>
        public static void Append(StringBuilder sb, string value)
        {
            sb.Append('"');
            foreach (var c in value)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        /// <summary><paramref name="value"/> as a quoted, escaped JSON string.</summary>
        public static string Quote(string value)
        {
            var sb = new StringBuilder(value.Length + 2);
            Append(sb, value);
            return sb.ToString();
        }
    }
}
