using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Inventory
{
    public sealed partial class InventoryConverter
    {
        /// <summary>
        /// The functional groups that are services of the tier (one service = one group), with the tier's name and class.
        /// <c>substrate_observability</c> and <c>tenant_observability</c> are the early names of the observability groups.
        /// </summary>
        private static readonly (string Group, string Service, string Class)[] ServiceGroups =
        {
            ("openbao", "openbao", "access"),
            ("tenant_dns", "tenant-dns", "automation"),
            ("deevnet_api", "deevnet-api", "automation"),
            ("tenant_state", "tenant-state", "automation"),
            ("network_controllers", "network-controller", "access"),
            ("mqtt_brokers", "mqtt-broker", "access"),
            ("log_bridges", "log-bridge", "observability"),
            ("observability_store", "observability-store", "observability"),
            ("observability_collectors", "observability-collector", "observability"),
            ("substrate_observability", "substrate-observability", "observability"),
            ("tenant_observability", "tenant-observability", "observability"),
        };

        /// <summary>Functional groups that are not services of the tier: the builder's roles and the backup job (CHG-0039).</summary>
        private static readonly HashSet<string> NotServices = new HashSet<string>(StringComparer.Ordinal)
            { "all", "ungrouped", "infrastructure", "builder", "workstations", "artifact_servers", "bootstrap_nodes", "backup" };

        private void Segments(IReadOnlyList<HostPlan> hosts, Located? vlans)
        {
            var used = new HashSet<string>(hosts.Select(h => h.Host.Segment), StringComparer.Ordinal);
            _out.Line("");
            _out.Line("# From group_vars/all deevnet_vlans: the segments of the management hosts, and the tenant segments they are isolated from.");
            _out.Line("segments:");
            foreach (var (name, _, vlan) in vlans?.Entries ?? Enumerable.Empty<(string, YamlDotNet.RepresentationModel.YamlNode, Located)>())
            {
                var tenant = name.StartsWith("tenant", StringComparison.Ordinal);
                if (!used.Contains(TierName(name)) && !tenant) continue;
                if (!NameRules.IsName(TierName(name))) { _warnings.Add(vlan.Problem($"segment '{name}': not a tier name; not mapped")); continue; }
                if (vlan["subnet"]?.Text == null)
                {
                    if (used.Contains(TierName(name))) _warnings.Add(vlan.Problem($"segment '{name}' has no subnet; its hosts cannot be checked against it"));
                    else _notes.Add(vlan.Problem($"tenant segment '{name}' has no subnet; not mapped"));
                    continue;
                }
                var fields = new List<string>();
                if (vlan["vlan_id"]?.Text is string id) fields.Add("vlan: " + id);
                fields.Add("subnet: " + vlan["subnet"]!.Value.Text);
                if (vlan["gateway"]?.Text is string gw) fields.Add("gateway: " + gw);
                if (tenant) fields.Add("tenant: true");
                else
                {
                    var static_ = string.Equals(vlan["dhcp_enabled"]?.Text, "false", StringComparison.OrdinalIgnoreCase);
                    fields.Add("addressing: " + (static_ ? "static" : "reservation"));
                    var dns = hosts.Where(h => h.Host.Segment == TierName(name)).Select(h => h.MgmtVm?["nameserver"]?.Text).Where(d => d != null && IPAddress.TryParse(d, out _)).Distinct().ToList();
                    if (static_ && dns.Count == 1) fields.Add("dns: [" + dns[0] + "]");
                }
                _out.Line($"  {TierName(name)}: {{ {string.Join(", ", fields)} }}");
            }
        }

        private void Hypervisors(IReadOnlyList<HostPlan> hosts)
        {
            var names = hosts.Where(h => h.Hypervisor != null).Select(h => h.Hypervisor!).Distinct(StringComparer.Ordinal).ToList();
            if (names.Count == 0) return;
            _out.Line("");
            _out.Line("hypervisors:");
            foreach (var name in names)
            {
                var on = hosts.Where(h => h.Hypervisor == name).ToList();
                var first = on[0].MgmtVm?["hypervisor"] ?? on[0].Listed;
                var vars = _inventory.HostVars(name);
                string? endpointIp = null;
                if (vars.TryGetValue("env", out var env))
                    endpointIp = env["interfaces"]?.Entries.Select(i => i.Value)
                        .OrderBy(i => i["segment"]?.Text == "management" ? 0 : 1)
                        .Select(i => i["ip"]?.Text).FirstOrDefault(ip => ip != null && IPAddress.TryParse(ip, out _));
                if (vars.Count == 0) _warnings.Add(first.Problem($"hypervisor '{name}' has no host_vars; its endpoint is unknown"));
                else if (endpointIp == null) _warnings.Add(first.Problem($"hypervisor '{name}': no interface with an IPv4 address; its endpoint is unknown"));
                var node = Literal(vars, "proxmox_node") ?? One(on, "node", name, first);
                var tokenId = _tokenId ?? Literal(vars, "proxmox_token_id");
                _out.Line($"  {name}:");
                _out.Line("    kind: proxmox");
                if (endpointIp != null) _out.Line($"    endpoint: \"https://{endpointIp}:8006\"");
                if (node != null) _out.Line("    node: " + TierText.Quote(node));
                if (tokenId != null) _out.Line("    tokenId: " + TierText.Quote(tokenId));
                else
                {
                    var at = vars.TryGetValue("proxmox_token_id", out var t) ? t : first;
                    _warnings.Add(at.Problem($"hypervisor '{name}': the API token id is in the vault, which is never read; give it with -ProxmoxTokenId or add tokenId: to the tier"));
                    _out.Line("    # tokenId: the Proxmox API token id (user@realm!token) is in the vault; fill it in or convert with -ProxmoxTokenId.");
                }
                _out.Line($"    # proxmox_token_secret lives in host_vars/{name}/vault.yml, which is never read: export it as DEEV_PVE_TOKEN_SECRET.");
                _out.Line("    tokenSecretEnv: DEEV_PVE_TOKEN_SECRET");
                if (One(on, "storage", name, first) is string storage) _out.Line("    storage: " + TierText.Quote(storage));
                var template = One(on, "template_prefix", name, first);
                if (template != null) _out.Line("    template: " + TierText.Quote(template));
                else _warnings.Add(first.Problem($"hypervisor '{name}': no host names mgmt_vm.template_prefix; the tier needs the template to clone"));
            }
        }

        /// <summary>The one value of <c>mgmt_vm.&lt;key&gt;</c> the hosts on a hypervisor agree on; null (with a warning when they disagree).</summary>
        private string? One(IReadOnlyList<HostPlan> on, string key, string hypervisor, Located at)
        {
            var values = on.Select(h => h.MgmtVm?[key]?.Text).Where(v => v != null && !IsTemplate(v)).Distinct(StringComparer.Ordinal).ToList();
            if (values.Count > 1) _warnings.Add(at.Problem($"hypervisor '{hypervisor}': its hosts name {values.Count} different mgmt_vm.{key} values ({string.Join(", ", values)}); the tier has one; not mapped"));
            return values.Count == 1 ? values[0] : null;
        }

        private static string? Literal(IReadOnlyDictionary<string, Located> vars, string key) =>
            vars.TryGetValue(key, out var v) && v.Text is string t && !IsTemplate(t) ? t : null;

        /// <summary>Production DHCP and DNS: the core router's OPNsense (Kea + Unbound), from the routers group's variables.</summary>
        private void Backends()
        {
            var routers = _inventory.GroupVars("routers");
            if (!routers.TryGetValue("opnsense_api_url", out var urlAt)) return;
            if (urlAt.Text is not string url || IsTemplate(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "https")
            {
                _warnings.Add(urlAt.Problem($"opnsense_api_url '{urlAt.Text}' is not a literal https URL; dhcp and dns are not mapped"));
                return;
            }
            var endpoint = uri.GetLeftPart(UriPartial.Authority);
            var secrets = "apiKeyEnv: DEEV_OPNSENSE_KEY, apiSecretEnv: DEEV_OPNSENSE_SECRET";
            _out.Line("");
            _out.Line("# The core router's Kea and Unbound (routers group). opnsense_api_key/secret are in the vault, which is never read:");
            _out.Line("# export them as DEEV_OPNSENSE_KEY and DEEV_OPNSENSE_SECRET. Add caFile: (the site CA in pki/) if the router's certificate needs it.");
            _out.Line($"dhcp: {{ kind: opnsense, endpoint: \"{endpoint}\", {secrets} }}");
            var server = IPAddress.TryParse(uri.Host, out _) ? $", server: {uri.Host}" : "";
            _out.Line($"dns: {{ kind: opnsense, endpoint: \"{endpoint}\"{server}, {secrets} }}");
        }

        private IReadOnlyList<string> Services(HashSet<string> mapped)
        {
            var written = new List<string>();
            var known = ServiceGroups.ToDictionary(g => g.Group, StringComparer.Ordinal);
            var infrastructure = new HashSet<string>(_inventory.Groups.ContainsKey("infrastructure") ? Descendants("infrastructure") : Array.Empty<string>(), StringComparer.Ordinal);
            _out.Line("");
            _out.Line("# One service per functional group. The inventory declares no backup per service: each says so below; replace it");
            _out.Line("# with { paths: [...] } or a real reason before relying on Test-DeevExtendedTier's backup checks.");
            _out.Line("services:");
            foreach (var group in _inventory.Groups.Values)
            {
                if (!known.TryGetValue(group.Name, out var service))
                {
                    if (!NotServices.Contains(group.Name) && !infrastructure.Contains(group.Name) && group.Hosts.Any(h => mapped.Contains(h.Host)))
                        _warnings.Add(group.At.Problem($"group '{group.Name}' holds a management host but is not a known service group; not mapped"));
                    continue;
                }
                var hosts = _inventory.HostsOf(group.Name);
                if (hosts.Count == 0) { _warnings.Add(group.At.Problem($"service group '{group.Name}' has no host; not mapped")); continue; }
                if (hosts.Count > 1) { _warnings.Add(group.At.Problem($"service group '{group.Name}' has {hosts.Count} hosts; a tier service runs on one; not mapped")); continue; }
                var (host, at) = hosts[0];
                if (!mapped.Contains(host)) { _warnings.Add(at.Problem($"service group '{group.Name}' runs on '{host}', which is not a mapped management host; not mapped")); continue; }
                if (group.Name.EndsWith("_observability", StringComparison.Ordinal))
                    _notes.Add(group.At.Problem($"'{group.Name}' is an early group name; written as the service '{service.Service}'"));
                _out.Line($"  {service.Service}:");
                _out.Line($"    class: {service.Class}");
                _out.Line($"    host: {host}");
                _out.Line($"    backup: {{ none: \"imported from the Ansible group {group.Name}, which declares no backup: review\" }}");
                written.Add(service.Service);
            }
            if (written.Count == 0) _out.Line("  {}");
            return written;
        }

        private IEnumerable<string> Descendants(string group)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var queue = new Queue<string>(new[] { group });
            while (queue.Count > 0)
            {
                var name = queue.Dequeue();
                if (!seen.Add(name) || !_inventory.Groups.TryGetValue(name, out var g)) continue;
                foreach (var c in g.Children) queue.Enqueue(c);
            }
            return seen;
        }
    }
}
