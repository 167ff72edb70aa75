using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// The parameter formats PVE checks before an API call runs, for the parameters the module sends. Each rule names the
    /// upstream file and function it mirrors (PVE 9.2: pve-common 9.2.1, qemu-server 9.2.6, pve-manager 9.2.11). A rule
    /// returns null when the value is accepted, else upstream's message for the parameter's entry in <c>errors</c>.
    /// </summary>
    internal static class PveRules
    {
        private const string NotInSchema = "property is not defined in schema and the schema does not allow additional properties";

        // pve-common src/PVE/JSONSchema.pm pve_verify_dns_name.
        private const string DnsLabel = "([a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?)";
        private static readonly Regex DnsName = new Regex($"^({DnsLabel}\\.)*{DnsLabel}$");

        /// <summary>The config keys of POST /nodes/{node}/qemu/{vmid}/config the module uses, and their checks.</summary>
        private static readonly Dictionary<string, Func<string, string?>> Config = new Dictionary<string, Func<string, string?>>
        {
            // qemu-server src/PVE/QemuServer.pm $confdesc: cores integer, minimum 1; memory (property string, current=) minimum 16.
            ["cores"] = v => int.TryParse(v, out var n) && n >= 1 && n <= 1024 ? null : "type check ('integer') failed",
            ["memory"] = v => int.TryParse(v.StartsWith("current=", StringComparison.Ordinal) ? v[8..] : v, out var n) && n >= 16 ? null : "invalid format - value must have a minimum value of 16",
            // QemuServer.pm $agent_fmt: default key 'enabled' (boolean), then fstrim_cloned_disks, type, freeze-fs-on-backup.
            ["agent"] = v => Regex.IsMatch(v, "^(0|1|enabled=[01])(,(fstrim_cloned_disks|freeze-fs-on-backup)=[01]|,type=(virtio|isa))*$") ? null : "invalid format - format error",
            ["onboot"] = Boolean,
            // pve-common src/PVE/JSONSchema.pm pve_verify_startup_order: order, up, down as non-negative integers.
            ["startup"] = v => v.Length > 0 && v.Split(',').All(p => Regex.IsMatch(p, "^(order=\\d+|up=\\d+|down=\\d+)$")) ? null : "value does not look like a valid startup order",
            ["net0"] = Net,
            ["ipconfig0"] = IpConfig,
            // QemuServer.pm $confdesc_cloudinit: ciuser is a plain string.
            ["ciuser"] = v => v.Length > 0 ? null : "value may not be empty",
            ["sshkeys"] = SshKeys,
            ["cicustom"] = CiCustom,
            // QemuServer.pm $confdesc_cloudinit: nameserver format 'address-list', searchdomain 'dns-name-list'
            // (pve-common JSONSchema.pm pve_verify_address_list / pve_verify_dns_name_list).
            ["nameserver"] = v => v.Split(new[] { ' ', ',', ';' }, StringSplitOptions.RemoveEmptyEntries).All(a => IPAddress.TryParse(a, out _)) ? null : "value does not look like a valid address list",
            ["searchdomain"] = v => v.Split(new[] { ' ', ',', ';' }, StringSplitOptions.RemoveEmptyEntries).All(d => DnsName.IsMatch(d)) ? null : "value does not look like a valid list of DNS names",
            ["name"] = Name,
            // qemu-server src/PVE/API2/Qemu.pm update_vm_async: digest maxLength 40; background_delay integer 1..30.
            ["digest"] = v => v.Length <= 40 ? null : "value may only be 40 characters long",
            ["background_delay"] = v => int.TryParse(v, out var n) && n >= 1 && n <= 30 ? null : "value must have a maximum value of 30",
        };

        /// <summary>Errors for the form of POST …/config; new disks (<c>scsiN=storage:size</c>) are checked here too.</summary>
        public static Dictionary<string, string> CheckConfig(IReadOnlyDictionary<string, string> form)
        {
            var errors = new Dictionary<string, string>();
            foreach (var (key, value) in form)
            {
                if (Regex.IsMatch(key, "^scsi\\d+$"))
                {
                    // QemuServer/Drive.pm: a new volume is "STORAGE_ID:SIZE_IN_GiB"; serial is at most 60 characters of [-_ a-zA-Z0-9].
                    if (!Regex.IsMatch(value, "^[a-z][a-z0-9\\-_.]*:\\d+(,serial=[-_ a-zA-Z0-9]{1,60})?$")) errors[key] = "invalid format - format error";
                    continue;
                }
                var why = Config.TryGetValue(key, out var rule) ? rule(value) : NotInSchema;
                if (why != null) errors[key] = why;
            }
            return errors;
        }

        public static string? Boolean(string v) => v == "0" || v == "1" ? null : "type check ('boolean') failed";

        /// <summary>pve-common src/PVE/JSONSchema.pm pve_verify_dns_name (the 'dns-name' format of a VM's name).</summary>
        public static string? Name(string v) => DnsName.IsMatch(v) ? null : "value does not look like a valid DNS name";

        /// <summary>pve-common src/PVE/JSONSchema.pm pve_verify_mac_addr: unicast only (the I/G bit must be clear).</summary>
        public static bool UnicastMac(string v) => Regex.IsMatch(v, "^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$", RegexOptions.IgnoreCase);

        /// <summary>
        /// qemu-server src/PVE/QemuServer/Network.pm $net_fmt / parse_net: the model key carries the MAC
        /// (<c>virtio=MAC</c>), bridge is a 'pve-bridge-id', tag an integer 1..4094, firewall and link_down booleans.
        /// </summary>
        public static string? Net(string v)
        {
            var models = new[] { "virtio", "e1000", "e1000e", "rtl8139", "vmxnet3" };
            string? model = null;
            foreach (var part in v.Split(','))
            {
                var kv = part.Split('=', 2);
                var value = kv.Length > 1 ? kv[1] : null;
                if (models.Contains(kv[0]) && model == null)
                {
                    model = kv[0];
                    if (value != null && !UnicastMac(value)) return "invalid format - format error net0.macaddr: value does not look like a valid unicast MAC address";
                    continue;
                }
                var why = kv[0] switch
                {
                    "macaddr" => value != null && UnicastMac(value) ? null : "value does not look like a valid unicast MAC address",
                    // pve-common src/PVE/JSONSchema.pm pve_verify_bridge_id / $PVE_BRIDGE_ID_RE
                    "bridge" => value != null && Regex.IsMatch(value, "^[-_.\\w\\d]+$") ? null : "value does not look like a valid bridge name",
                    "tag" => int.TryParse(value, out var t) ? (t < 1 ? "value must have a minimum value of 1" : t > 4094 ? "value must have a maximum value of 4094" : null) : "type check ('integer') failed",
                    "firewall" or "link_down" => value == "0" || value == "1" ? null : "type check ('boolean') failed",
                    "mtu" => int.TryParse(value, out var m) && m >= 1 && m <= 65520 ? null : "value must have a maximum value of 65520",
                    _ => "property is not defined in schema and the schema does not allow additional properties",
                };
                if (why != null) return $"invalid format - format error net0.{kv[0]}: {why}";
            }
            return model == null ? "invalid format - format error net0.model: property is missing and it is not optional" : null;
        }

        /// <summary>
        /// qemu-server src/PVE/QemuServer.pm $ipconfig_fmt: ip is 'pve-ipv4-config' (dhcp, manual or a CIDR,
        /// pve-common JSONSchema.pm pve_verify_ipv4_config), gw an IPv4 address; ip6/gw6 likewise for IPv6.
        /// </summary>
        public static string? IpConfig(string v)
        {
            foreach (var part in v.Split(','))
            {
                var kv = part.Split('=', 2);
                var value = kv.Length > 1 ? kv[1] : "";
                var ok = kv[0] switch
                {
                    "ip" => value == "dhcp" || value == "manual" || Cidr4(value),
                    "gw" => IPAddress.TryParse(value, out var g) && g.AddressFamily == AddressFamily.InterNetwork && value.Count(c => c == '.') == 3,
                    "ip6" => value == "dhcp" || value == "auto" || value == "manual" || (value.Contains('/') && IPAddress.TryParse(value.Split('/')[0], out var a6) && a6.AddressFamily == AddressFamily.InterNetworkV6),
                    "gw6" => IPAddress.TryParse(value, out var g6) && g6.AddressFamily == AddressFamily.InterNetworkV6,
                    _ => false,
                };
                if (!ok) return $"invalid format - format error ipconfig0.{kv[0]}: value does not look like a valid ipv4 network configuration";
            }
            return null;
        }

        private static bool Cidr4(string v)
        {
            var p = v.Split('/');
            return p.Length == 2 && IPAddress.TryParse(p[0], out var a) && a.AddressFamily == AddressFamily.InterNetwork && p[0].Count(c => c == '.') == 3
                && int.TryParse(p[1], out var bits) && bits >= 0 && bits <= 32;
        }

        /// <summary>
        /// QemuServer.pm $confdesc_cloudinit sshkeys has format 'urlencoded' (pve-common JSONSchema.pm
        /// pve_verify_urlencoded); update_vm_api then decodes it and checks each key (pve-common Tools.pm
        /// validate_ssh_public_keys).
        /// </summary>
        public static string? SshKeys(string v)
        {
            if (!Regex.IsMatch(v, "^[-%a-zA-Z0-9_.!~*'()]*$")) return "invalid urlencoded string: " + v;
            var keys = Uri.UnescapeDataString(v).Split('\n').Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("#", StringComparison.Ordinal));
            return keys.All(l => Regex.IsMatch(l.Trim(), "^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\\d+|sk-\\S+) [A-Za-z0-9+/=]+( .*)?$")) ? null : "SSH public key validation error";
        }

        /// <summary>
        /// qemu-server src/PVE/QemuServer.pm $cicustom_fmt ('pve-qm-cicustom'): a property string (pve-common
        /// JSONSchema.pm parse_property_string: comma-separated key=value, no duplicate key, no other key) of meta,
        /// network, user and vendor, each a 'pve-volume-id' (pve-storage src/PVE/Storage/Plugin.pm parse_volume_id:
        /// storage id, ':', a non-empty name). That the volume is a snippet is checked only when the drive is built
        /// (<see cref="PveCloudInitDrive"/>), as upstream does.
        /// </summary>
        public static string? CiCustom(string v)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var part in v.Split(',').Where(p => p.Trim().Length > 0))
            {
                var m = Regex.Match(part, "^([^=]+)=(.+)$");
                if (!m.Success) return "value without key, but schema does not define a default key";
                var key = m.Groups[1].Value;
                if (!seen.Add(key)) return "duplicate key in comma-separated list property: " + key;
                if (key is not ("meta" or "network" or "user" or "vendor")) return "invalid key in comma-separated list property: " + key;
                if (!VolumeId.IsMatch(m.Groups[2].Value)) return $"format error - {key}: unable to parse volume ID '{m.Groups[2].Value}'";
            }
            return null;
        }

        /// <summary>pve-storage src/PVE/Storage/Plugin.pm parse_volume_id.</summary>
        public static readonly Regex VolumeId = new Regex("^([a-z][a-z0-9\\-_.]*[a-z0-9]):(.+)$", RegexOptions.IgnoreCase);

        /// <summary>pve-common src/PVE/UPID.pm status_is_error: OK and "WARNINGS: N" are success, anything else an error.</summary>
        public static bool TaskFailed(string exit) => !(exit == "OK" || Regex.IsMatch(exit, "^WARNINGS: \\d+$"));

        /// <summary>
        /// qemu-server src/PVE/QemuServer.pm $fast_plug_option: options written to a running VM's config at once, the
        /// $confdesc_cloudinit keys among them.
        /// </summary>
        public static bool FastPlug(string key) =>
            key is "description" or "hookscript" or "lock" or "name" or "onboot" or "protection" or "shares" or "startup" or "tags" or "vmstatestorage"
            || CloudInitOption(key);

        /// <summary>qemu-server QemuServer.pm $confdesc_cloudinit: the cloud-init options.</summary>
        public static bool CloudInitOption(string key) =>
            key is "ciuser" or "cipassword" or "citype" or "ciupgrade" or "cicustom" or "searchdomain" or "nameserver" or "sshkeys"
            || Regex.IsMatch(key, "^ipconfig\\d+$");

        /// <summary>
        /// qemu-server QemuServer.pm cloudinit_pending_properties: what is recorded as "not on the cloud-init drive yet"
        /// when a running VM takes it (the cloud-init options, name, and every netN).
        /// </summary>
        public static bool CloudInitPending(string key) => CloudInitOption(key) || key == "name" || Regex.IsMatch(key, "^net\\d+$");
    }
}
