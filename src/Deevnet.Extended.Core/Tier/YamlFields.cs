using System.Collections.Generic;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// The keys of one YAML mapping, with where the mapping sits (<see cref="Path"/> for messages, <see cref="Anchor"/>
    /// for the position of "is required" problems: the key that names the section, not its first child).
    /// </summary>
    internal sealed class YamlFields
    {
        private readonly Dictionary<string, KeyValuePair<YamlScalarNode, YamlNode>> _map;

        public YamlFields(string path, YamlNode anchor, YamlMappingNode node, Dictionary<string, KeyValuePair<YamlScalarNode, YamlNode>> map)
        {
            Path = path;
            Anchor = anchor;
            Node = node;
            _map = map;
        }

        /// <summary>Dotted path of the mapping, e.g. <c>hosts.dv02obs001v01</c>.</summary>
        public string Path { get; }
        public YamlNode Anchor { get; }
        public YamlMappingNode Node { get; }
        public IEnumerable<KeyValuePair<string, KeyValuePair<YamlScalarNode, YamlNode>>> Entries => _map;

        public bool Has(string key) => _map.ContainsKey(key);

        /// <summary>The value node of a key, or null when the key is absent.</summary>
        public YamlNode? this[string key] => _map.TryGetValue(key, out var kv) ? kv.Value : null;

        public YamlScalarNode? KeyNode(string key) => _map.TryGetValue(key, out var kv) ? kv.Key : null;

        /// <summary>How messages name the mapping: its path, or "tier file" for the top level.</summary>
        public string Label => Path.Length == 0 ? "tier file" : Path;

        public string PathOf(string key) => Path.Length == 0 ? key : Path + "." + key;
    }
}
