using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Tier;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Inventory
{
    /// <summary>A value from the inventory with the file it came from, so every warning can say file and line.</summary>
    public readonly struct Located
    {
        public Located(YamlNode node, string file)
        {
            Node = node;
            File = file;
        }

        public YamlNode Node { get; }
        public string File { get; }

        public int Line => (int)Node.Start.Line;
        public int Column => (int)Node.Start.Column;

        /// <summary>The scalar's text; null for a mapping, a sequence or a YAML null.</summary>
        public string? Text => Node is YamlScalarNode s && !TierReader.IsNull(s) ? s.Value : null;

        /// <summary>A key of a mapping value, or null.</summary>
        public Located? this[string key] =>
            Node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? new Located(v, File) : (Located?)null;

        /// <summary>The entries of a mapping value (none for anything else), with their key nodes for positions.</summary>
        public IEnumerable<(string Key, YamlNode KeyNode, Located Value)> Entries
        {
            get
            {
                var file = File;
                return Node is YamlMappingNode m
                    ? m.Children.Select(kv => ((kv.Key as YamlScalarNode)?.Value ?? "", kv.Key, new Located(kv.Value, file)))
                    : Enumerable.Empty<(string, YamlNode, Located)>();
            }
        }

        public IEnumerable<Located> Items
        {
            get
            {
                var file = File;
                return Node is YamlSequenceNode s ? s.Children.Select(c => new Located(c, file)) : Enumerable.Empty<Located>();
            }
        }

        public TierProblem Problem(string message) => new TierProblem(File, Line, Column, message);
    }

    /// <summary>
    /// A site directory of Deevnet's Ansible YAML inventory (deevnet-platform.md §3): <c>hosts.yml</c> with its group
    /// tree, <c>group_vars/&lt;group&gt;(.yml|/*.yml)</c> and <c>host_vars/&lt;host&gt;(.yml|/*.yml)</c>. Variables
    /// merge per top-level key, later files winning, as Ansible does without hash-merge. Vault files
    /// (<c>vault.yml</c>, <c>vault.example.yml</c>, anything named vault*) are never opened: the module reads no secrets.
    /// Every file goes through <see cref="YamlFileReader"/>, the module's one bounded YAML reader.
    /// </summary>
    public sealed class AnsibleInventory
    {
        private static readonly Regex VarsFile = new Regex(@"\.(ya?ml)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private readonly Dictionary<string, InventoryGroup> _groups = new Dictionary<string, InventoryGroup>(StringComparer.Ordinal);
        private readonly Dictionary<string, Dictionary<string, Located>> _hostVars = new Dictionary<string, Dictionary<string, Located>>(StringComparer.Ordinal);
        private readonly List<TierProblem> _problems = new List<TierProblem>();

        private AnsibleInventory(string directory) => Directory = directory;

        public string Directory { get; }
        public string HostsFile => Path.Combine(Directory, "hosts.yml");
        public IReadOnlyDictionary<string, InventoryGroup> Groups => _groups;

        /// <summary>Files that could not be read (syntax errors, unreadable files), as problems with positions.</summary>
        public IReadOnlyList<TierProblem> Problems => _problems;

        /// <summary>Reads the site directory's <c>hosts.yml</c> (or <c>hosts.yaml</c>); variables are read on demand.</summary>
        public static AnsibleInventory Read(string directory)
        {
            var inventory = new AnsibleInventory(Path.GetFullPath(directory));
            var hosts = inventory.HostsFile;
            if (!File.Exists(hosts) && File.Exists(Path.ChangeExtension(hosts, ".yaml"))) hosts = Path.ChangeExtension(hosts, ".yaml");
            var root = inventory.ReadYaml(hosts);
            if (root is Located r && r["all"] is Located all) inventory.AddGroup("all", all, r.Entries.First(e => e.Key == "all").KeyNode);
            else if (root != null) inventory._problems.Add(root.Value.Problem("hosts.yml: expected a mapping with the group 'all'"));
            return inventory;
        }

        /// <summary>The hosts of a group and of all its child groups, each with where it is listed.</summary>
        public IReadOnlyList<(string Host, Located At)> HostsOf(string group)
        {
            var found = new List<(string, Located)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            void Walk(string name, HashSet<string> path)
            {
                if (!_groups.TryGetValue(name, out var g) || !path.Add(name)) return;   // a child cycle ends here
                foreach (var h in g.Hosts) if (seen.Add(h.Host)) found.Add(h);
                foreach (var c in g.Children) Walk(c, path);
                path.Remove(name);
            }
            Walk(group, new HashSet<string>(StringComparer.Ordinal));
            return found;
        }

        /// <summary>The groups a host is listed in directly.</summary>
        public IEnumerable<InventoryGroup> GroupsOf(string host) => _groups.Values.Where(g => g.Hosts.Any(h => h.Host == host));

        /// <summary>The variables of <c>group_vars/&lt;group&gt;</c>.</summary>
        public IReadOnlyDictionary<string, Located> GroupVars(string group) => Vars(Path.Combine(Directory, "group_vars", group));

        /// <summary>The variables of <c>host_vars/&lt;host&gt;</c> (flat file or directory form), read once.</summary>
        public IReadOnlyDictionary<string, Located> HostVars(string host)
        {
            if (!_hostVars.TryGetValue(host, out var vars)) _hostVars[host] = vars = Vars(Path.Combine(Directory, "host_vars", host));
            return vars;
        }

        /// <summary>Where a host's variables live, for warnings about a host with none (the hosts.yml entry otherwise).</summary>
        public string HostVarsPath(string host)
        {
            var dir = Path.Combine(Directory, "host_vars", host);
            if (System.IO.Directory.Exists(dir)) return Path.Combine(dir, "vars.yml");
            return dir + ".yml";
        }

        private Dictionary<string, Located> Vars(string baseName)
        {
            var files = new List<string>();
            foreach (var ext in new[] { ".yml", ".yaml" })
                if (File.Exists(baseName + ext)) files.Add(baseName + ext);
            if (System.IO.Directory.Exists(baseName))
                files.AddRange(System.IO.Directory.GetFiles(baseName)
                    .Where(f => VarsFile.IsMatch(f) && !IsVault(f))
                    // vars.yml first, then the rest in name order (identity.yml …), as Ansible loads a directory sorted.
                    .OrderBy(f => Path.GetFileName(f).StartsWith("vars.", StringComparison.Ordinal) ? 0 : 1)
                    .ThenBy(f => f, StringComparer.Ordinal));
            var merged = new Dictionary<string, Located>(StringComparer.Ordinal);
            foreach (var file in files.Where(f => !IsVault(f)))
            {
                var root = ReadYaml(file);
                if (root == null) continue;
                if (!(root.Value.Node is YamlMappingNode)) { _problems.Add(root.Value.Problem("expected a mapping of variables")); continue; }
                foreach (var (key, _, value) in root.Value.Entries) merged[key] = value;
            }
            return merged;
        }

        /// <summary>True for ansible-vault files, which hold secrets and are never read.</summary>
        public static bool IsVault(string file) => Path.GetFileName(file).StartsWith("vault", StringComparison.OrdinalIgnoreCase);

        private Located? ReadYaml(string file)
        {
            if (!File.Exists(file)) { _problems.Add(new TierProblem(file, 1, 1, "the file does not exist")); return null; }
            var read = YamlFileReader.ReadFile(file);
            if (read.Problem != null) { _problems.Add(read.Problem); return null; }
            return read.Root == null || TierReader.IsNull(read.Root) ? (Located?)null : new Located(read.Root, file);
        }

        private void AddGroup(string name, Located body, YamlNode keyNode)
        {
            var group = new InventoryGroup(name, new Located(keyNode, body.File));
            if (!_groups.ContainsKey(name)) _groups[name] = group;
            else group = _groups[name];   // a group listed under two parents: one group, hosts from both
            if (body["hosts"] is Located hosts)
                foreach (var (host, hostKey, _) in hosts.Entries) group.Hosts.Add((host, new Located(hostKey, body.File)));
            if (body["children"] is Located children)
                foreach (var (child, childKey, childBody) in children.Entries)
                {
                    group.Children.Add(child);
                    AddGroup(child, childBody, childKey);
                }
        }
    }

    /// <summary>One group of hosts.yml: its own hosts and its child groups.</summary>
    public sealed class InventoryGroup
    {
        public InventoryGroup(string name, Located at)
        {
            Name = name;
            At = at;
        }

        public string Name { get; }

        /// <summary>Where the group's key is in hosts.yml.</summary>
        public Located At { get; }
        public List<(string Host, Located At)> Hosts { get; } = new List<(string, Located)>();
        public List<string> Children { get; } = new List<string>();
    }
}
