using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Deevnet.Extended.Core.Dhcp.Json
{
    public enum JsonKind
    {
        Object,
        Array,
        String,
        Number,
        True,
        False,
        Null,
    }

    /// <summary>
    /// A JSON value that remembers where it stood in the text it was parsed from (<see cref="Start"/>, <see cref="End"/>),
    /// so an editor can replace one value and leave every other byte of a hand-written file — comments included — as it was.
    /// Numbers keep their text, so nothing is rounded on the way through.
    /// </summary>
    public sealed class JsonNode
    {
        private JsonNode(JsonKind kind) => Kind = kind;

        public JsonKind Kind { get; }

        /// <summary>Offset of the first character of the value in the source text (-1 for built values).</summary>
        public int Start { get; internal set; } = -1;

        /// <summary>Offset just past the value's last character in the source text.</summary>
        public int End { get; internal set; } = -1;

        /// <summary>Members of an object, in order (duplicates kept, as Kea reads the last one).</summary>
        public List<KeyValuePair<string, JsonNode>> Members { get; } = new List<KeyValuePair<string, JsonNode>>();

        public List<JsonNode> Items { get; } = new List<JsonNode>();

        /// <summary>The string's value, or the number's text.</summary>
        public string? Text { get; private set; }

        public static JsonNode Object(params (string Name, JsonNode Value)[] members)
        {
            var node = new JsonNode(JsonKind.Object);
            foreach (var (name, value) in members) node.Members.Add(new KeyValuePair<string, JsonNode>(name, value));
            return node;
        }

        public static JsonNode Array(IEnumerable<JsonNode> items)
        {
            var node = new JsonNode(JsonKind.Array);
            node.Items.AddRange(items);
            return node;
        }

        public static JsonNode String(string value) => new JsonNode(JsonKind.String) { Text = value };
        public static JsonNode Number(string text) => new JsonNode(JsonKind.Number) { Text = text };
        public static JsonNode Number(long value) => Number(value.ToString(CultureInfo.InvariantCulture));
        public static JsonNode Bool(bool value) => new JsonNode(value ? JsonKind.True : JsonKind.False);
        public static JsonNode Null() => new JsonNode(JsonKind.Null);

        /// <summary>The last member named <paramref name="name"/> (Kea's rule for duplicates), or null.</summary>
        public JsonNode? this[string name] => Kind == JsonKind.Object ? Members.LastOrDefault(m => m.Key == name).Value : null;

        public string? StringValue => Kind == JsonKind.String ? Text : null;

        public bool IsTrue => Kind == JsonKind.True;

        /// <summary>Compact JSON for logs and HTTP bodies.</summary>
        public override string ToString()
        {
            var sb = new StringBuilder();
            Write(sb, null, 0);
            return sb.ToString();
        }

        /// <summary>JSON with one member per line, indented by <paramref name="indent"/> spaces per level, starting at <paramref name="level"/>.</summary>
        public string ToIndentedString(int indent, int level)
        {
            var sb = new StringBuilder();
            Write(sb, new string(' ', indent), level);
            return sb.ToString();
        }

        private void Write(StringBuilder sb, string? indent, int level)
        {
            switch (Kind)
            {
                case JsonKind.Object:
                    // Objects inside an indented file stay on one line: short, readable, and easy to diff.
                    sb.Append("{ ");
                    for (var i = 0; i < Members.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        WriteString(sb, Members[i].Key);
                        sb.Append(": ");
                        Members[i].Value.Write(sb, null, 0);
                    }
                    sb.Append(Members.Count > 0 ? " }" : "}");
                    break;
                case JsonKind.Array:
                    if (Items.Count == 0)
                    {
                        sb.Append("[ ]");
                        break;
                    }
                    if (indent == null)
                    {
                        sb.Append("[ ");
                        for (var i = 0; i < Items.Count; i++)
                        {
                            if (i > 0) sb.Append(", ");
                            Items[i].Write(sb, null, 0);
                        }
                        sb.Append(" ]");
                        break;
                    }
                    sb.Append("[\n");
                    for (var i = 0; i < Items.Count; i++)
                    {
                        sb.Append(Repeat(indent, level + 1));
                        Items[i].Write(sb, null, 0);
                        sb.Append(i < Items.Count - 1 ? ",\n" : "\n");
                    }
                    sb.Append(Repeat(indent, level)).Append(']');
                    break;
                case JsonKind.String:
                    WriteString(sb, Text!);
                    break;
                case JsonKind.Number:
                    sb.Append(Text);
                    break;
                case JsonKind.True:
                    sb.Append("true");
                    break;
                case JsonKind.False:
                    sb.Append("false");
                    break;
                default:
                    sb.Append("null");
                    break;
            }
        }

        private static string Repeat(string s, int n) => string.Concat(Enumerable.Repeat(s, n));

        internal static void WriteString(StringBuilder sb, string value) => Core.Text.JsonText.Append(sb, value);

        internal static JsonNode FromParser(JsonKind kind, string? text, int start) => new JsonNode(kind) { Text = text, Start = start };
    }
}
