using System;
using System.Linq;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// The NoCloud seed (volume label <c>cidata</c>) that gives a libvirt VM what PVE's cloud-init drive gives a PVE VM:
    /// hostname, user and key, and DHCP or the static address; its user-data is also the Proxmox <c>cicustom</c> snippet
    /// (<see cref="Proxmox.ProxmoxSnippets"/>). Every value comes validated from the tier; strings are still written
    /// JSON-quoted (valid YAML) so nothing can break out of its field. Real cloud-init (22.4) reads all three files as
    /// meant: tests/Deevnet.Extended.Tests/Vm/CloudInitSeedTests.cs.
    /// </summary>
    internal static class CloudInitSeed
    {
        public static string MetaData(VmSpec spec) =>
            $"instance-id: {Q($"{spec.Name}-{spec.VmId}")}\nlocal-hostname: {Q(spec.Name)}\n";

        /// <summary>
        /// The user-data; with the spec's first-boot host key (and <paramref name="withHostKey"/>), cloud-init installs
        /// that key as the VM's only host key, so the module knows it before the VM is on the network: <c>ssh_deletekeys</c>
        /// removes the image's keys, and cloud-init's ssh module generates none when <c>ssh_keys</c> is given (an empty
        /// <c>ssh_genkeytypes</c> would say so too, but cloud-init 22.4's schema rejects an empty list). The key's PEM
        /// holds only base64 and header lines: a block scalar keeps it as is.
        /// </summary>
        public static string UserData(VmSpec spec, bool withHostKey = true)
        {
            var ci = spec.CloudInit;
            var sb = new StringBuilder("#cloud-config\n");
            sb.Append("hostname: ").Append(Q(spec.Name)).Append('\n');
            sb.Append("fqdn: ").Append(Q(spec.Fqdn)).Append('\n');
            sb.Append("users:\n  - name: ").Append(Q(ci.User)).Append('\n');
            sb.Append("    sudo: ").Append(Q("ALL=(ALL) NOPASSWD:ALL")).Append('\n');
            sb.Append("    shell: /bin/bash\n");
            if (ci.SshPublicKey != null) sb.Append("    ssh_authorized_keys:\n      - ").Append(Q(ci.SshPublicKey)).Append('\n');
            var key = withHostKey ? spec.FirstBootHostKey : null;
            if (key != null)
            {
                sb.Append("ssh_deletekeys: true\nssh_keys:\n  ed25519_private: |\n");
                foreach (var line in key.PrivateKeyPem.TrimEnd('\n').Split('\n')) sb.Append("    ").Append(line).Append('\n');
                sb.Append("  ed25519_public: ").Append(Q(key.PublicKeyLine)).Append('\n');
            }
            return sb.ToString();
        }

        /// <summary>
        /// Netplan-style version 2. The default route is written <c>to: 0.0.0.0/0</c> (<c>::/0</c>): cloud-init before 23.x does not
        /// know netplan's <c>default</c> keyword, and a route it cannot parse makes it drop the whole <c>ethernets</c>
        /// section at boot, leaving a static VM without an address.
        /// </summary>
        public static string NetworkConfig(VmSpec spec)
        {
            var ci = spec.CloudInit;
            var sb = new StringBuilder("version: 2\nethernets:\n  mgmt0:\n");
            sb.Append("    match:\n      macaddress: ").Append(Q(spec.MacAddress)).Append('\n');
            if (ci.Dhcp)
            {
                sb.Append("    dhcp4: true\n");
                return sb.ToString();
            }
            sb.Append("    dhcp4: false\n    addresses: [").Append(Q(ci.AddressCidr!)).Append("]\n");
            if (ci.Gateway != null)
            {
                var anywhere = ci.Gateway.AddressFamily == AddressFamily.InterNetworkV6 ? "::/0" : "0.0.0.0/0";
                sb.Append("    routes:\n      - to: ").Append(Q(anywhere)).Append("\n        via: ").Append(Q(ci.Gateway.ToString())).Append('\n');
            }
            if (ci.DnsServers.Count > 0 || ci.SearchDomain != null)
            {
                sb.Append("    nameservers:\n");
                if (ci.DnsServers.Count > 0) sb.Append("      addresses: [").Append(string.Join(", ", ci.DnsServers.Select(a => Q(a.ToString())))).Append("]\n");
                if (ci.SearchDomain != null) sb.Append("      search: [").Append(Q(ci.SearchDomain)).Append("]\n");
            }
            return sb.ToString();
        }

        /// <summary>
        /// One line that changes whenever the seed would: kept in the domain metadata, compared on every run and read
        /// back after writing. The key appears as its SHA-256, the rest as written; a first-boot host key does not count
        /// (it is new for every VM and only read on its first boot).
        /// </summary>
        public static string Summary(VmSpec spec)
        {
            var ci = spec.CloudInit;
            var ip = ci.Dhcp ? "ip=dhcp" : $"ip={ci.AddressCidr}" + (ci.Gateway != null ? ",gw=" + ci.Gateway : "");
            var dns = ci.DnsServers.Count > 0 ? " nameserver=" + string.Join(",", ci.DnsServers) : "";
            var search = !ci.Dhcp && ci.SearchDomain != null ? " searchdomain=" + ci.SearchDomain : "";
            var key = ci.SshPublicKey != null ? " sshkey=" + Sha(ci.SshPublicKey) : "";
            return $"{ip}{dns}{search} user={ci.User}{key} hostname={spec.Fqdn} seed={Sha(UserData(spec, withHostKey: false) + MetaData(spec) + NetworkConfig(spec)).Substring(0, 16)}";
        }

        private static string Sha(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

        /// <summary>A JSON string literal, which YAML reads as the same string.</summary>
        private static string Q(string value)
        {
            var sb = new StringBuilder("\"");
            foreach (var c in value)
            {
                if (c == '"' || c == '\\') sb.Append('\\').Append(c);
                else if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4"));
                else sb.Append(c);
            }
            return sb.Append('"').ToString();
        }
    }
}
