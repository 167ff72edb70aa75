using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace Deevnet.Extended.Core.Dhcp.Kea
{
    /// <summary>
    /// A Kea configuration as System.Text.Json's <see cref="Utf8JsonReader"/> reads it, keeping where every value stands
    /// in the file (UTF-8 byte offsets <see cref="Start"/>, <see cref="End"/>), so <see cref="KeaConfigDocument"/> can
    /// replace one array and leave every other byte — comments included — as it was. Kea accepts <c>//</c>,
    /// <c>/* */</c> and <c>#</c> comments; the reader skips the first two, and <c>#</c> comments are blanked (same
    /// length) before reading. Duplicate member names are kept; <see cref="this[string]"/> takes the last, as Kea does.
    /// </summary>
    internal sealed class KeaJson
    {
        private static readonly JsonReaderOptions Options = new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 };

        private KeaJson(JsonTokenType kind, int start)
        {
            Kind = kind;
            Start = start;
        }

        /// <summary><see cref="JsonTokenType.StartObject"/>, <see cref="JsonTokenType.StartArray"/>, or the scalar's token type.</summary>
        public JsonTokenType Kind { get; }

        public int Start { get; }
        public int End { get; private set; }
        public List<KeyValuePair<string, KeaJson>> Members { get; } = new List<KeyValuePair<string, KeaJson>>();
        public List<KeaJson> Items { get; } = new List<KeaJson>();
        public string? StringValue { get; private set; }

        public bool IsObject => Kind == JsonTokenType.StartObject;
        public bool IsArray => Kind == JsonTokenType.StartArray;
        public bool IsTrue => Kind == JsonTokenType.True;

        /// <summary>The last member named <paramref name="name"/>, or null.</summary>
        public KeaJson? this[string name] => IsObject ? Members.LastOrDefault(m => m.Key == name).Value : null;

        /// <summary>Reads one document; throws <see cref="JsonException"/> (with its line and position) when it is not JSON.</summary>
        public static KeaJson Parse(byte[] utf8)
        {
            var reader = new Utf8JsonReader(BlankHashComments(utf8), Options);
            if (!reader.Read()) throw new JsonException("The text holds no JSON value.", null, 0, 0);
            var root = ReadValue(ref reader);
            reader.Read(); // throws on anything but trailing whitespace and comments
            return root;
        }

        private static KeaJson ReadValue(ref Utf8JsonReader reader)
        {
            var node = new KeaJson(reader.TokenType, (int)reader.TokenStartIndex);
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var name = reader.GetString()!;
                        reader.Read();
                        node.Members.Add(new KeyValuePair<string, KeaJson>(name, ReadValue(ref reader)));
                    }
                    break;
                case JsonTokenType.StartArray:
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) node.Items.Add(ReadValue(ref reader));
                    break;
                case JsonTokenType.String:
                    node.StringValue = reader.GetString();
                    break;
            }
            node.End = (int)reader.BytesConsumed;
            return node;
        }

        /// <summary>A copy with every <c>#</c> comment (outside strings and other comments) turned into spaces.</summary>
        private static byte[] BlankHashComments(byte[] utf8)
        {
            var copy = (byte[])utf8.Clone();
            for (var i = 0; i < copy.Length; i++)
            {
                switch (copy[i])
                {
                    case (byte)'"':
                        for (i++; i < copy.Length && copy[i] != '"'; i++) if (copy[i] == '\\') i++;
                        break;
                    case (byte)'/' when i + 1 < copy.Length && copy[i + 1] == '/':
                        while (i < copy.Length && copy[i] != '\n') i++;
                        break;
                    case (byte)'/' when i + 1 < copy.Length && copy[i + 1] == '*':
                        for (i += 2; i + 1 < copy.Length && !(copy[i] == '*' && copy[i + 1] == '/'); i++) { }
                        i++;
                        break;
                    case (byte)'#':
                        for (; i < copy.Length && copy[i] != '\n'; i++) copy[i] = (byte)' ';
                        break;
                }
            }
            return copy;
        }
    }
}
