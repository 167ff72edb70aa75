using System.Text.Encodings.Web;
using System.Text.Json;

namespace Deevnet.Extended.Core.Text
{
    /// <summary>
    /// JSON string literals for the places that compose JSON text (reports, API bodies, Kea configuration), through
    /// System.Text.Json's encoder. Relaxed escaping: only quotes, backslashes and control characters are escaped, so
    /// names and descriptions reach servers and files as written (HTML-safe escaping is for web pages).
    /// </summary>
    public static class JsonText
    {
        /// <summary>Serializer options for JSON the module writes.</summary>
        public static readonly JsonSerializerOptions Options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        /// <summary><paramref name="value"/> as a quoted, escaped JSON string.</summary>
        public static string Quote(string value) => JsonSerializer.Serialize(value, Options);
    }
}
