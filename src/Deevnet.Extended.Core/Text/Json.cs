using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Deevnet.Extended.Core.Text
{
    /// <summary>
    /// The one JSON walker of the REST back ends (Proxmox, OPNsense, PowerDNS): answers are read as System.Text.Json
    /// nodes, requests written with <see cref="Write"/>. Every helper takes null for "absent", so a walk down a missing
    /// path yields nothing instead of throwing; servers that mix <c>1</c>, <c>"1"</c> and <c>true</c> read the same.
    /// </summary>
    internal static class Json
    {
        /// <summary>Parses an answer; throws <see cref="JsonException"/> when it is not JSON.</summary>
        public static JsonNode? Parse(string text) => JsonNode.Parse(text);

        /// <summary>A member of an object, or null when absent (or JSON null).</summary>
        public static JsonNode? Member(JsonNode? obj, string name) => obj is JsonObject o && o.TryGetPropertyValue(name, out var v) ? v : null;

        /// <summary>Name of an object member (e.g. the uuid key of an OPNsense row).</summary>
        public static string KeyOf(JsonNode member) => member.Parent is JsonObject ? member.GetPropertyName() : "item";

        /// <summary>A member as text (numbers as written, booleans as true/false, JSON null as ""), or null when absent.</summary>
        public static string? Str(JsonNode? obj, string name) =>
            obj is JsonObject o && o.TryGetPropertyValue(name, out var v) ? TextOf(v) : null;

        /// <summary>Whether a member is set: JSON true, 1, "1" or "true".</summary>
        public static bool Flag(JsonNode? obj, string name) => Str(obj, name) is "1" or "true";

        /// <summary>The items of an array or the member values of an object (OPNsense keys rows by uuid).</summary>
        public static IEnumerable<JsonNode> Items(JsonNode? container) => container switch
        {
            JsonArray a => a.OfType<JsonNode>(),
            JsonObject o => o.Select(m => m.Value).OfType<JsonNode>(),
            _ => Enumerable.Empty<JsonNode>(),
        };

        /// <summary>The text of a value; for an object or array, its values' texts run together.</summary>
        public static string TextOf(JsonNode? node) => node switch
        {
            null => "",
            JsonObject or JsonArray => string.Concat(Items(node).Select(TextOf)),
            _ => node.GetValueKind() switch
            {
                JsonValueKind.String => node.GetValue<string>(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Null => "",
                _ => node.ToJsonString(),
            },
        };

        /// <summary>A request body: compact JSON, members in declaration order, relaxed escaping (<see cref="JsonText"/>).</summary>
        public static string Write<T>(T value) => JsonSerializer.Serialize(value, JsonText.Options);
    }
}
