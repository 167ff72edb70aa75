using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// The three files PVE puts on a Linux VM's NoCloud cloud-init drive, built from the VM's config as qemu-server
    /// src/PVE/QemuServer/Cloudinit.pm generate_nocloud does (PVE 9.2), so tests can hand them to real cloud-init. Only
    /// what the module's VMs use: net0/ipconfig0 (IPv4), nameserver/searchdomain, and <c>cicustom</c> parts read from
    /// snippet storages (name → folder). Generated user-data is not built: with a custom user part it is not used, and
    /// without one the VM gets no first-boot host key.
    /// </summary>
    internal static class PveCloudInitDrive
    {
        /// <summary>user-data, network-config and meta-data, or an exception with upstream's message.</summary>
        public static (string UserData, string NetworkConfig, string MetaData) Build(IReadOnlyDictionary<string, string> config,
            IReadOnlyDictionary<string, string> snippetStorages, string hostSearch, string hostDns)
        {
            // Cloudinit.pm get_custom_cloudinit_files: each cicustom part replaces the generated file.
            var custom = config.TryGetValue("cicustom", out var cicustom) ? ParseCiCustom(cicustom) : new Dictionary<string, string>();
            string? Part(string key) => custom.TryGetValue(key, out var volid) ? ReadSnippet(volid, snippetStorages) : null;
            var user = Part("user") ?? throw new NotSupportedException("generated user-data is not modelled: set cicustom user=");
            var network = Part("network") ?? NetworkConfig(config, hostSearch, hostDns);
            // Cloudinit.pm nocloud_gen_metadata: the instance id is the SHA-1 of user-data and network-config.
            var meta = Part("meta") ?? "instance-id: " + Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(user + network))).ToLowerInvariant() + "\n";
            return (user, network, meta);
        }

        private static Dictionary<string, string> ParseCiCustom(string value)
        {
            if (PveRules.CiCustom(value) is { } why) throw new InvalidOperationException(why);
            return value.Split(',').Where(p => p.Trim().Length > 0).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        }

        /// <summary>
        /// Cloudinit.pm read_cloudinit_snippets_file: the volume must parse as a snippet (pve-storage Plugin.pm
        /// parse_volname: <c>snippets/&lt;file&gt;</c>, no further slash) of a storage that has one, and is read whole.
        /// </summary>
        private static string ReadSnippet(string volid, IReadOnlyDictionary<string, string> storages)
        {
            var m = PveRules.VolumeId.Match(volid);
            var file = Regex.Match(m.Groups[2].Value, "^snippets/([^/]+)$");
            if (!file.Success) throw new InvalidOperationException($"{volid} is not in the snippets directory");
            if (!storages.TryGetValue(m.Groups[1].Value, out var folder)) throw new InvalidOperationException($"storage '{m.Groups[1].Value}' does not exist");
            var path = Path.Combine(folder, file.Groups[1].Value);
            if (!File.Exists(path)) throw new InvalidOperationException($"unable to open file '{path}' - No such file or directory");
            return File.ReadAllText(path);
        }

        /// <summary>
        /// Cloudinit.pm nocloud_network: network config version 1, one physical ethN per netN with an ipconfigN, then a
        /// nameserver entry from the VM's nameserver/searchdomain, or the node's resolv.conf when the VM sets neither.
        /// </summary>
        private static string NetworkConfig(IReadOnlyDictionary<string, string> config, string hostSearch, string hostDns)
        {
            var sb = new StringBuilder("version: 1\nconfig:\n");
            var i = "    ";
            foreach (var net in config.Keys.Where(k => Regex.IsMatch(k, "^net\\d+$")).OrderBy(k => k, StringComparer.Ordinal))
            {
                var id = net.Substring(3);
                if (!config.TryGetValue("ipconfig" + id, out var ipconfig)) continue;
                var mac = Regex.Match(config[net], "=([0-9A-Fa-f:]{17})").Groups[1].Value.ToLowerInvariant();
                sb.Append($"{i}- type: physical\n{i}  name: eth{id}\n{i}  mac_address: '{mac}'\n{i}  subnets:\n");
                var p = ipconfig.Split(',').Select(x => x.Split('=', 2)).ToDictionary(x => x[0], x => x[1]);
                if (p.TryGetValue("ip", out var ip))
                {
                    if (ip == "dhcp") sb.Append($"{i}  - type: dhcp4\n");
                    else
                    {
                        var cidr = ip.Split('/');
                        var mask = new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder(int.Parse(cidr[1]) == 0 ? 0 : -1 << (32 - int.Parse(cidr[1])))));
                        sb.Append($"{i}  - type: static\n{i}    address: '{cidr[0]}'\n{i}    netmask: '{mask}'\n");
                        if (p.TryGetValue("gw", out var gw)) sb.Append($"{i}    gateway: '{gw}'\n");
                    }
                }
            }
            // Cloudinit.pm get_dns_conf: the VM's values, else the node's resolv.conf.
            var search = (config.TryGetValue("searchdomain", out var s) ? s : hostSearch).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var servers = (config.TryGetValue("nameserver", out var n) ? n : hostDns).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            sb.Append($"{i}- type: nameserver\n");
            if (servers.Length > 0) sb.Append($"{i}  address:\n").Append(string.Concat(servers.Select(a => $"{i}  - '{a}'\n")));
            if (search.Length > 0) sb.Append($"{i}  search:\n").Append(string.Concat(search.Select(d => $"{i}  - '{d}'\n")));
            return sb.ToString();
        }
    }
}
