using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Inventory
{
    /// <summary>
    /// Turns a site directory of Deevnet's Ansible inventory into a tier file and its identity companion, keeping every
    /// VMID and MAC the inventory holds. VMIDs the inventory allocated (<c>identity.yml</c>'s
    /// <c>deevnet_assigned_vmid</c>, referenced from <c>mgmt_vm.vmid</c>) go to the companion, as allocations;
    /// a literal <c>mgmt_vm.vmid</c> becomes a fixed <c>vmid:</c> in the tier. Anything that cannot be mapped without a
    /// guess is left out and reported with its inventory file and line; the result is validated by the tier loader.
    /// </summary>
    public sealed partial class InventoryConverter
    {
        /// <summary>Early names (ADR-0008) accepted as aliases of the current ones.</summary>
        private static readonly Dictionary<string, string> SiteAliases = new Dictionary<string, string>(StringComparer.Ordinal) { ["dvntm"] = "mobile", ["dvnt"] = "home" };
        private static readonly Dictionary<string, string> HostAliases = new Dictionary<string, string>(StringComparer.Ordinal) { ["hv01"] = "dv02hyp001p01", ["hv02"] = "dv02hyp002p02" };

        /// <summary>The hostname grammar of ADR-0008: site, role, sequence, form, generation.</summary>
        private static readonly Regex CurrentHostName = new Regex(@"^dv\d{2}[a-z]{3}\d{3}[pvec]\d{2}$", RegexOptions.CultureInvariant);

        /// <summary>The one Jinja idiom resolved: <c>{{ var | default(x) }}</c>; everything else is opaque.</summary>
        private static readonly Regex VarWithDefault = new Regex(@"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\(\s*(?:'([^']*)'|""([^""]*)""|([0-9]+))\s*\))?\s*\}\}$", RegexOptions.CultureInvariant);

        private readonly AnsibleInventory _inventory;
        private readonly string _tierPath;
        private readonly string? _tokenId;
        private readonly List<TierProblem> _warnings = new List<TierProblem>();
        private readonly List<TierProblem> _notes = new List<TierProblem>();
        private readonly TierText _out = new TierText();
        private string _macNamespace = "";

        private InventoryConverter(AnsibleInventory inventory, string tierPath, string? tokenId)
        {
            _inventory = inventory;
            _tierPath = tierPath;
            _tokenId = tokenId;
        }

        /// <summary>
        /// Converts the site directory <paramref name="siteDirectory"/> into the text of <paramref name="tierPath"/> and of its
        /// companion. Nothing is written. <paramref name="tokenId"/> is the Proxmox API token id, which Deevnet keeps in the
        /// vault. Throws <c>InventoryNotConvertible</c> when the site itself (domain, MAC namespace, VMID range,
        /// <c>management_plane</c>) cannot be read.
        /// </summary>
        public static InventoryConversion Convert(string siteDirectory, string tierPath, string? tokenId = null)
        {
            if (!Directory.Exists(siteDirectory))
                throw new DeevException("InventoryNotFound", DeevErrorKind.ObjectNotFound, $"The inventory site directory '{siteDirectory}' does not exist.", siteDirectory);
            var converter = new InventoryConverter(AnsibleInventory.Read(siteDirectory), Path.GetFullPath(tierPath), tokenId);
            return converter.Run();
        }

        private InventoryConversion Run()
        {
            var all = _inventory.GroupVars("all");
            var site = Site(all);
            var vlans = all.TryGetValue("deevnet_vlans", out var v) ? v : (Located?)null;
            if (!_inventory.Groups.ContainsKey("management_plane")) Fatal(new TierProblem(_inventory.HostsFile, 1, 1, "hosts.yml has no group 'management_plane' (the VMs whose identity is allocated)"));
            var hosts = Hosts(vlans);
            var allocations = hosts.Where(h => h.Host.VmId.HasValue && !h.Host.FixedVmId).Select(h => new KeyValuePair<string, int>(h.Host.Name, h.Host.VmId!.Value)).ToList();

            _out.Header(_inventory.Directory);
            _out.Site(site.Name, site.Domain, _macNamespace, site.Min, site.Max);
            Segments(hosts, vlans);
            Hypervisors(hosts);
            Backends();
            _out.Hosts(hosts);
            var services = Services(hosts.Select(h => h.Host.Name).ToHashSet(StringComparer.Ordinal));

            var tierText = _out.ToString();
            var identityText = IdentityFile.Render(_tierPath, _macNamespace, allocations);
            return new InventoryConversion(_inventory.Directory, _tierPath, IdentityFile.PathFor(_tierPath), site.Name, tierText, identityText,
                hosts.Select(h => h.Host).ToList(), services, _inventory.Problems.Concat(_warnings).ToList(), _notes, Validate(tierText));
        }

        /// <summary>The problems the tier loader finds in the text, as Get-DeevTier would report them.</summary>
        private IReadOnlyList<TierProblem> Validate(string text)
        {
            try
            {
                TierLoader.Parse(_tierPath, text);
                return Array.Empty<TierProblem>();
            }
            catch (TierFileInvalidException ex)
            {
                return ex.Problems;
            }
        }

        private (string Name, string Domain, int Min, int Max) Site(IReadOnlyDictionary<string, Located> all)
        {
            var main = Path.Combine(_inventory.Directory, "group_vars", "all");
            string Required(string key)
            {
                if (all.TryGetValue(key, out var value) && value.Text is string text && !IsTemplate(text)) return text;
                Fatal(all.TryGetValue(key, out var at) ? at.Problem($"{key}: expected a literal value") : new TierProblem(main, 1, 1, $"group_vars/all defines no {key}"));
                return "";
            }
            var substrate = Required("deevnet_substrate");
            var name = substrate;
            if (SiteAliases.TryGetValue(substrate, out var current))
            {
                name = current;
                _notes.Add(all["deevnet_substrate"].Problem($"the early site name '{substrate}' is written as '{current}' (ADR-0008); its zone is {current}.<root>"));
            }
            var domain = name + "." + Required("deevnet_root_domain");
            var ns = all["deevnet_mac_namespace"];
            if (!MacAddress.TryParseNamespace(Required("deevnet_mac_namespace"), out _, out var error)) Fatal(ns.Problem("deevnet_mac_namespace: " + error));
            _macNamespace = MacAddress.NormalizeNamespace(ns.Text!);
            var range = all.TryGetValue("deevnet_mgmt_vmid_range", out var r) ? r : (Located?)null;
            var min = Int(range?["start"]);
            var max = Int(range?["end"]);
            if (min == null || max == null) Fatal(range?.Problem("deevnet_mgmt_vmid_range: expected { start, end } as numbers") ?? new TierProblem(main, 1, 1, "group_vars/all defines no deevnet_mgmt_vmid_range"));
            return (name, domain, min!.Value, max!.Value);
        }

        private List<HostPlan> Hosts(Located? vlans)
        {
            var hosts = new List<HostPlan>();
            foreach (var (name, listed) in _inventory.HostsOf("management_plane"))
            {
                var plan = Host(name, listed, vlans);
                if (plan != null) hosts.Add(plan);
            }
            return hosts;
        }

        private HostPlan? Host(string name, Located listed, Located? vlans)
        {
            if (!NameRules.IsName(name)) return Skip(listed, $"host '{name}': not a tier host name (lowercase a-z, 0-9, '-'); not mapped");
            if (!CurrentHostName.IsMatch(name)) _notes.Add(listed.Problem($"host '{name}' has an early name (ADR-0008); kept, so its FQDN and identity stay as they are"));
            var vars = _inventory.HostVars(name);
            if (vars.Count == 0) return Skip(listed, $"host '{name}' in management_plane has no readable host_vars ({_inventory.HostVarsPath(name)}); not mapped");
            var env = vars.TryGetValue("env", out var e) ? e : (Located?)null;
            var interfaces = env?["interfaces"];
            var onSegment = (interfaces?.Entries ?? Enumerable.Empty<(string Key, YamlDotNet.RepresentationModel.YamlNode KeyNode, Located Value)>())
                .Where(i => i.Value["segment"]?.Text != null).ToList();
            if (onSegment.Count == 0)
                return Skip(interfaces ?? env ?? listed, $"host '{name}' in management_plane has no interface with a segment (env.interfaces.<if>.segment); not mapped");
            if (onSegment.Count > 1)
                return Skip(onSegment[1].Value["segment"]!.Value, $"host '{name}' sits on {onSegment.Count} segments; a management host has exactly one (ADR-0013); not mapped");
            var (ifKey, _, iface) = onSegment[0];
            var segmentAt = iface["segment"]!.Value;
            var segment = segmentAt.Text!;
            if (vlans?[segment] == null) return Skip(segmentAt, $"host '{name}': segment '{segment}' is not in deevnet_vlans; not mapped");
            var ipAt = iface["ip"];
            if (ipAt?.Text is not string ipText || !IPAddress.TryParse(ipText, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork)
                return Skip(ipAt ?? iface, $"host '{name}': env.interfaces.{ifKey}.ip is '{ipAt?.Text ?? "null"}', not a fixed IPv4 address; not mapped");

            var mgmt = vars.TryGetValue("mgmt_vm", out var m) ? m : (Located?)null;
            var vmidAt = mgmt?["vmid"];
            var vmidText = vmidAt == null ? null : Resolve(vmidAt.Value, vars, name);
            var fixedVmId = vmidAt?.Text != null && !IsTemplate(vmidAt.Value.Text!);
            int? vmid = null;
            if (vmidText != null && vmidText != "0")
            {
                if (!int.TryParse(vmidText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id > 0xFFFFFF)
                    return Skip(vmidAt!.Value, $"host '{name}': mgmt_vm.vmid '{vmidText}' is not a VMID; not mapped");
                vmid = id;
            }
            var macAt = vars.TryGetValue("infrastructure", out var infra) ? infra["interfaces"]?[ifKey]?["mac"] : null;
            var macText = macAt == null ? null : Resolve(macAt.Value, vars, name);
            if (macText != null && (macText.Length == 0 || string.Equals(macText, "UNKNOWN", StringComparison.OrdinalIgnoreCase))) macText = null;
            string? mac = null;
            if (macText != null)
            {
                if (!MacAddress.TryParse(macText, out var parsed)) return Skip(macAt!.Value, $"host '{name}': '{macText}' is not a MAC address; not mapped");
                if (vmid == null)
                    return Skip(macAt!.Value, $"host '{name}' has the MAC {parsed} but no VMID; the tier derives the MAC from the VMID, so it is not mapped");
                var expected = MacAddress.FromVmId(_macNamespace, vmid.Value);
                if (parsed != expected)
                    return Skip(macAt!.Value, $"host '{name}': interface {ifKey} MAC {parsed} disagrees with the site's MAC scheme ({_macNamespace} + VMID {vmid} = {expected}); not mapped");
                mac = parsed.ToString();
            }
            if (vmid != null) mac ??= MacAddress.FromVmId(_macNamespace, vmid.Value).ToString();
            else _notes.Add((vmidAt ?? listed).Problem($"host '{name}' has no VMID yet; New-DeevHostIdentity allocates one"));

            var hypervisorAt = mgmt?["hypervisor"];
            var hypervisor = hypervisorAt?.Text;
            if (hypervisor != null && HostAliases.TryGetValue(hypervisor, out var currentName))
            {
                _notes.Add(hypervisorAt!.Value.Problem($"the early hypervisor name '{hypervisor}' is written as '{currentName}' (ADR-0008)"));
                hypervisor = currentName;
            }
            var cnames = iface["dns"]?["cnames"]?.Items.Select(c => c.Text).Where(c => c != null).Select(c => c!).ToList() ?? new List<string>();
            if (cnames.Count > 0)
                _warnings.Add(iface["dns"]!.Value["cnames"]!.Value.Problem($"host '{name}': CNAMEs {string.Join(", ", cnames)} are not mapped: the tier puts names on services; add each to its service's names:"));
            return new HostPlan(new ConvertedHost(name, TierName(segment), ip.ToString(), vmid, mac, fixedVmId && vmid != null), listed, mgmt, hypervisor, cnames);
        }

        /// <summary>
        /// The text of a scalar with the one Jinja idiom resolved from the host's variables; null (with a warning) for
        /// any other template: nothing is evaluated.
        /// </summary>
        private string? Resolve(Located at, IReadOnlyDictionary<string, Located> vars, string host)
        {
            var text = at.Text;
            if (text == null || !IsTemplate(text)) return text;
            var match = VarWithDefault.Match(text.Trim());
            if (!match.Success)
            {
                _warnings.Add(at.Problem($"host '{host}': the template '{text}' is not evaluated (only {{{{ var | default(x) }}}} is); not mapped"));
                return null;
            }
            if (vars.TryGetValue(match.Groups[1].Value, out var value) && value.Text is string resolved && !IsTemplate(resolved)) return resolved;
            return match.Groups[2].Success ? match.Groups[2].Value : match.Groups[3].Success ? match.Groups[3].Value : match.Groups[4].Success ? match.Groups[4].Value : null;
        }

        private HostPlan? Skip(Located at, string message)
        {
            _warnings.Add(at.Problem(message));
            return null;
        }

        private void Fatal(TierProblem problem) =>
            throw new DeevException("InventoryNotConvertible", DeevErrorKind.InvalidData,
                $"The inventory cannot be converted: {problem}", problem.File);

        private static bool IsTemplate(string text) => text.Contains("{{") || text.Contains("{%");

        /// <summary>Inventory names use '_' (iot_backend); tier names use '-' only.</summary>
        private static string TierName(string name) => name.Replace('_', '-');

        private static int? Int(Located? at) =>
            at?.Text is string t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : (int?)null;

        /// <summary>A host on its way into the tier, with the inventory nodes the other sections read.</summary>
        internal sealed class HostPlan
        {
            public HostPlan(ConvertedHost host, Located listed, Located? mgmtVm, string? hypervisor, IReadOnlyList<string> cnames)
            {
                Host = host;
                Listed = listed;
                MgmtVm = mgmtVm;
                Hypervisor = hypervisor;
                Cnames = cnames;
            }

            public ConvertedHost Host { get; }
            public Located Listed { get; }
            public Located? MgmtVm { get; }
            public string? Hypervisor { get; }
            public IReadOnlyList<string> Cnames { get; }
        }
    }
}
