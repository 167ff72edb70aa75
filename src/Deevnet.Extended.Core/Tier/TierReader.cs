using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using Deevnet.Extended.Core.Transport;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// Turns one parsed tier document into a <see cref="SiteTier"/>, collecting every problem instead of stopping at the
    /// first. Each Read* method returns null for a part it could not build; dependent checks skip what is missing, so one
    /// mistake is reported once rather than echoed by every rule that depends on it.
    /// This file holds the generic value readers; the sections are in the other TierReader.*.cs parts.
    /// </summary>
    internal sealed partial class TierReader
    {
        private readonly string _file;
        private readonly string _folder;
        private readonly ProblemLog _problems = new ProblemLog();
        private IReadOnlyList<BackendSpec?> _servers = Array.Empty<BackendSpec?>();

        public TierReader(string file)
        {
            _file = file;
            _folder = Path.GetDirectoryName(file) ?? ".";
        }

        /// <summary>The problems kept (the first <see cref="ProblemLog.MaxKept"/>).</summary>
        public IReadOnlyList<TierProblem> Problems => _problems.Kept;

        /// <summary>Every problem found, kept or not.</summary>
        public int ProblemCount => _problems.Count;

        public void Problem(YamlNode node, string message)
        {
            // A file of a hundred thousand bad entries must not cost a hundred thousand messages: count them all,
            // build the first ones only.
            if (_problems.Count < ProblemLog.MaxKept) _problems.Add(new TierProblem(_file, (int)node.Start.Line, (int)node.Start.Column, message));
            else _problems.CountOne();
        }

        /// <summary>A mapping's keys; reports a non-mapping and non-scalar keys; null when it is not a mapping.</summary>
        public YamlFields? Map(YamlNode? node, string path, YamlNode? anchor = null)
        {
            if (node == null) return null;
            if (!(node is YamlMappingNode mapping))
            {
                Problem(node, IsNull(node) ? $"{path}: has no value; expected a mapping (key: value pairs)" : $"{path}: must be a mapping (key: value pairs)");
                return null;
            }
            var map = new Dictionary<string, KeyValuePair<YamlScalarNode, YamlNode>>(mapping.Children.Count, StringComparer.Ordinal);
            foreach (var kv in mapping.Children)
            {
                if (kv.Key is YamlScalarNode key && key.Value != null)
                    map[key.Value] = new KeyValuePair<YamlScalarNode, YamlNode>(key, kv.Value);
                else
                    Problem(kv.Key, $"{path}: keys must be plain names");
            }
            return new YamlFields(path, anchor ?? mapping, mapping, map);
        }

        /// <summary>Reports unknown keys (with a hint for plain-text secrets and near misses) and missing required ones.</summary>
        public void CheckKeys(YamlFields fields, KeySchema schema, string? kindNote = null)
        {
            foreach (var entry in fields.Entries)
            {
                var key = entry.Key;
                if (schema.Allowed.Contains(key)) continue;
                string message;
                if (TierSchema.PlainSecrets.TryGetValue(key, out var instead))
                    message = $"{fields.PathOf(key)}: secrets are never written in the tier file; use {instead}";
                else
                {
                    var near = schema.Allowed.FirstOrDefault(a => string.Equals(a, key, StringComparison.OrdinalIgnoreCase))
                        ?? schema.Allowed.FirstOrDefault(a => EditDistance(a, key) <= 2);
                    message = $"{fields.Label}: unknown key '{key}'{kindNote}" + (near != null ? $"; did you mean '{near}'?" : "");
                }
                Problem(entry.Value.Key, message);
            }
            foreach (var key in schema.Required)
                if (!fields.Has(key)) Problem(fields.Anchor, $"{fields.Label}: '{key}' is required{kindNote}");
            foreach (var group in schema.OneOf)
            {
                var given = group.Where(fields.Has).ToList();
                if (given.Count == 0)
                    Problem(fields.Anchor, $"{fields.Label}: one of {string.Join(" or ", group)} is required{kindNote}");
                else if (given.Count > 1)
                    Problem(fields.KeyNode(given[1])!, $"{fields.Label}: give only one of {string.Join(" or ", group)}");
            }
        }

        public static bool IsNull(YamlNode node) =>
            node is YamlScalarNode s && s.Style == YamlDotNet.Core.ScalarStyle.Plain &&
            (s.Value == null || s.Value.Length == 0 || s.Value == "~" || s.Value == "null" || s.Value == "Null" || s.Value == "NULL");

        /// <summary>A scalar value; null (with a problem) when absent-but-empty or not a scalar; null without one when absent.</summary>
        public string? Scalar(YamlFields f, string key) => ScalarOf(f[key], f.PathOf(key));

        public string? ScalarOf(YamlNode? node, string path)
        {
            if (node == null) return null;
            if (IsNull(node))
            {
                Problem(node, $"{path}: has no value");
                return null;
            }
            if (node is YamlScalarNode s) return s.Value;
            Problem(node, $"{path}: must be a single value, not a {(node is YamlMappingNode ? "mapping" : "list")}");
            return null;
        }

        public int? Int(YamlFields f, string key, int min, int max) => IntOf(f[key], f.PathOf(key), min, max);

        public int? IntOf(YamlNode? node, string path, int min, int max)
        {
            var text = ScalarOf(node, path);
            if (text == null) return null;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                Problem(node!, $"{path}: '{text}' is not a whole number");
                return null;
            }
            if (value < min || value > max)
            {
                Problem(node!, $"{path}: {value} is out of range ({min}–{max})");
                return null;
            }
            return value;
        }

        public bool? Bool(YamlFields f, string key)
        {
            var text = Scalar(f, key);
            if (text == null) return null;
            if (string.Equals(text, "true", StringComparison.OrdinalIgnoreCase)) return true;
            if (string.Equals(text, "false", StringComparison.OrdinalIgnoreCase)) return false;
            Problem(f[key]!, $"{f.PathOf(key)}: '{text}' is not true or false");
            return null;
        }

        /// <summary>A duration inside <paramref name="bounds"/> (<see cref="DurationRules"/>).</summary>
        public TimeSpan? Duration(YamlFields f, string key, DurationRules.Bounds bounds)
        {
            var text = Scalar(f, key);
            if (text == null) return null;
            var why = DurationRules.WhyNot(text, bounds, out var d);
            if (why == null) return d;
            Problem(f[key]!, $"{f.PathOf(key)}: {why}");
            return null;
        }

        /// <summary>A VMID (<see cref="VmIdRules"/>).</summary>
        public int? VmIdOf(YamlNode? node, string path)
        {
            var text = ScalarOf(node, path);
            if (text == null) return null;
            var why = VmIdRules.WhyNotAVmId(text);
            if (why == null) return int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            Problem(node!, $"{path}: {why}");
            return null;
        }

        /// <summary>A plain absolute path on a server (<see cref="PathRules"/>).</summary>
        public string? AbsolutePathOf(YamlNode? node, string path)
        {
            var text = ScalarOf(node, path);
            if (text == null) return null;
            var why = PathRules.WhyNotAnAbsolutePath(text);
            if (why == null) return text;
            Problem(node!, $"{path}: {why}");
            return null;
        }

        public IPAddress? Ip(YamlFields f, string key) => IpOf(f[key], f.PathOf(key));

        public IPAddress? IpOf(YamlNode? node, string path)
        {
            var text = ScalarOf(node, path);
            if (text == null) return null;
            if (Ipv4Network.TryParseAddress(text, out var ip)) return ip;
            Problem(node!, $"{path}: '{text}' is not an IPv4 address");
            return null;
        }

        /// <summary>A name value (host, segment, hypervisor reference): lowercase <c>[a-z0-9-]</c>.</summary>
        public string? Name(YamlFields f, string key) => NameOf(f[key], f.PathOf(key));

        public string? NameOf(YamlNode? node, string path)
        {
            var text = ScalarOf(node, path);
            if (text == null) return null;
            var why = NameRules.WhyNotAName(text);
            if (why == null) return text;
            Problem(node!, $"{path}: {why}");
            return null;
        }

        public Via? ViaValue(YamlFields f, string key)
        {
            var text = Scalar(f, key);
            if (text == null) return null;
            if (Via.TryParse(text, out var via, out var error)) return via;
            Problem(f[key]!, $"{f.PathOf(key)}: {error}");
            return null;
        }

        /// <summary>A list node's items; a single scalar is reported (lists must be written as lists).</summary>
        public IReadOnlyList<YamlNode>? List(YamlFields f, string key)
        {
            var node = f[key];
            if (node == null) return null;
            if (node is YamlSequenceNode seq) return seq.Children.ToList();
            Problem(node, IsNull(node) ? $"{f.PathOf(key)}: has no value; expected a list" : $"{f.PathOf(key)}: must be a list, e.g. [a, b]");
            return null;
        }

        /// <summary>A file the module reads itself: <c>~</c> is HOME, relative paths are relative to the tier file's folder.</summary>
        public string? LocalPath(YamlFields f, string key)
        {
            var text = Scalar(f, key);
            return text == null ? null : ResolveLocal(text);
        }

        public string ResolveLocal(string text)
        {
            if (text == "~" || text.StartsWith("~/", StringComparison.Ordinal))
            {
                var home = Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                text = text == "~" ? home : Path.Combine(home, text.Substring(2));
            }
            return Path.GetFullPath(Path.IsPathRooted(text) ? text : Path.Combine(_folder, text));
        }

        /// <summary>A path on a server: resolved like a local path when the server is this machine, else it must be absolute.</summary>
        public string? ServerPath(YamlFields f, string key, Via? via)
        {
            var text = Scalar(f, key);
            if (text == null) return null;
            // These paths go on command lines and some are written: a control character in one is a mistake or an attack.
            if (text.Any(char.IsControl))
            {
                Problem(f[key]!, $"{f.PathOf(key)}: the path holds a control character (newline, tab, …); a path on a server must be one line of plain text");
                return null;
            }
            if (via != null && via.IsLocal) return ResolveLocal(text);
            var why = PathRules.WhyNotAnAbsolutePath(text);
            if (why == null) return text;
            Problem(f[key]!, $"{f.PathOf(key)}: {why} (a path on the server {via?.ToString() ?? "via"})");
            return null;
        }

        private static int EditDistance(string a, string b)
        {
            if (Math.Abs(a.Length - b.Length) > 2) return 3;
            var d = new int[a.Length + 1, b.Length + 1];
            for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (var j = 0; j <= b.Length; j++) d[0, j] = j;
            for (var i = 1; i <= a.Length; i++)
                for (var j = 1; j <= b.Length; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1));
            return d[a.Length, b.Length];
        }
    }
}
