using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// Everything a hypervisor back end needs to build one management VM, resolved from the tier file and the host's
    /// identity. Back ends never read the tier themselves: what is not here is not set.
    /// </summary>
    public sealed class VmSpec
    {
        private static readonly Regex MacPattern = new Regex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", RegexOptions.CultureInvariant);

        public const string DefaultDataDiskSerial = "deevnet-data";

        public VmSpec(string name, int vmId, string macAddress, string hypervisor, string segment, string bridge, int? vlan,
            int cores, int memoryMb, int? diskGb, DataDisk? dataDisk, bool startOnBoot, StartupOrder? startup,
            CloudInitSettings cloudInit, IPAddress ipAddress, string fqdn)
        {
            if (Tier.NameRules.WhyNotAName(name ?? "", "VM name") is { } badName) throw new ArgumentException(Text.SafeText.Printable(badName), nameof(name));
            var mac = (macAddress ?? "").ToLowerInvariant();
            if (!MacPattern.IsMatch(mac)) throw new ArgumentException($"'{macAddress}' is not a MAC address.", nameof(macAddress));
            if (Tier.VmIdRules.WhyNotAVmId(vmId) is { } badVmId) throw new ArgumentOutOfRangeException(nameof(vmId), badVmId);
            if (!Tier.NameRules.IsName(bridge ?? "") && !Regex.IsMatch(bridge ?? "", "^[A-Za-z0-9_.-]{1,15}$")) throw new ArgumentException($"'{bridge}' is not a bridge name.", nameof(bridge));
            Name = name!;
            VmId = vmId;
            MacAddress = mac;
            Hypervisor = hypervisor;
            Segment = segment;
            Bridge = bridge!;
            Vlan = vlan;
            Cores = cores;
            MemoryMb = memoryMb;
            DiskGb = diskGb;
            DataDisk = dataDisk;
            StartOnBoot = startOnBoot;
            Startup = startup;
            CloudInit = cloudInit;
            IPAddress = ipAddress;
            Fqdn = fqdn;
        }

        public string Name { get; }
        public int VmId { get; }

        /// <summary>Lowercase, colon-separated.</summary>
        public string MacAddress { get; }

        /// <summary>The tier's name of the hypervisor.</summary>
        public string Hypervisor { get; }
        public string Segment { get; }
        public string Bridge { get; }
        public int? Vlan { get; }
        public int Cores { get; }
        public int MemoryMb { get; }

        /// <summary>OS disk size in GiB: grown to this when smaller, never shrunk; null leaves the template's size.</summary>
        public int? DiskGb { get; }
        public DataDisk? DataDisk { get; }
        public bool StartOnBoot { get; }
        public StartupOrder? Startup { get; }
        public CloudInitSettings CloudInit { get; }

        /// <summary>The address the VM answers at once it is up (reserved or static).</summary>
        public IPAddress IPAddress { get; }
        public string Fqdn { get; }

        /// <summary>
        /// The SSH host key a new VM boots with, handed in through its seed (when the back end
        /// <see cref="IVmBackend.SeedsHostKey"/>), so its key is known before it is on the network. Not part of the
        /// VM's compared settings: it only matters for the first boot.
        /// </summary>
        public Transport.GeneratedHostKey? FirstBootHostKey { get; set; }

        /// <summary>
        /// Builds the spec of <paramref name="host"/>. <paramref name="vmId"/> and <paramref name="macAddress"/> come
        /// from the identity layer (or the pipeline object of Get-DeevMgmtHost); the rest from the tier.
        /// </summary>
        public static VmSpec FromTier(SiteTier tier, MgmtHost host, int vmId, string macAddress)
        {
            if (tier == null) throw new ArgumentNullException(nameof(tier));
            if (host == null) throw new ArgumentNullException(nameof(host));
            var hypervisor = HypervisorOf(tier, host);
            var segment = tier.SegmentOf(host);
            return new VmSpec(host.Name, vmId, macAddress, hypervisor.Name, segment.Name, segment.Bridge, segment.Vlan,
                host.Cores, host.MemoryMb, host.DiskGb, host.DataDisk, true, host.Startup,
                CloudInitSettings.For(tier, host, segment, hypervisor), host.IPAddress, tier.FqdnOf(host.Name));
        }

        /// <summary>The hypervisor a host's VM lives on; a host without one is not a VM the module builds.</summary>
        public static Hypervisor HypervisorOf(SiteTier tier, MgmtHost host)
        {
            if (host.Hypervisor == null)
                throw VmErrors.Create(VmErrors.VmHypervisorMissing, DeevErrorKind.InvalidArgument,
                    $"Host {host.Name} names no hypervisor, so the module does not manage a VM for it.", host.Name,
                    $"Add 'hypervisor: <name>' to hosts.{host.Name} in {tier.SourcePath}.");
            return tier.FindHypervisor(host.Hypervisor)
                ?? throw VmErrors.Create(VmErrors.VmHypervisorMissing, DeevErrorKind.InvalidArgument,
                    $"Host {host.Name} names hypervisor '{host.Hypervisor}', which the tier does not define.", host.Name);
        }
    }

    /// <summary>What cloud-init gets: DHCP on reservation segments, a static address on static ones, user and key.</summary>
    public sealed class CloudInitSettings
    {
        public CloudInitSettings(bool dhcp, string? addressCidr, IPAddress? gateway, IReadOnlyList<IPAddress> dnsServers, string? searchDomain,
            string user, string? sshPublicKey)
        {
            Dhcp = dhcp;
            AddressCidr = addressCidr;
            Gateway = gateway;
            DnsServers = dnsServers;
            SearchDomain = searchDomain;
            User = user;
            SshPublicKey = sshPublicKey;
        }

        public bool Dhcp { get; }

        /// <summary><c>10.20.25.22/24</c> for static addressing; null with DHCP.</summary>
        public string? AddressCidr { get; }
        public IPAddress? Gateway { get; }
        public IReadOnlyList<IPAddress> DnsServers { get; }
        public string? SearchDomain { get; }
        public string User { get; }

        /// <summary>One OpenSSH public key line, or null when the tier names none.</summary>
        public string? SshPublicKey { get; }

        /// <summary>
        /// The user is the hypervisor's <c>ciUser</c>, else <c>access.user</c>; the key is read from the hypervisor's
        /// <c>sshKeyFile</c>, else from <c>&lt;access.identityFile&gt;.pub</c> when that file exists.
        /// </summary>
        public static CloudInitSettings For(SiteTier tier, MgmtHost host, Segment segment, Hypervisor hypervisor)
        {
            var user = hypervisor.Get("ciUser") ?? tier.Access.User;
            var key = ReadPublicKey(hypervisor.Get("sshKeyFile"), hypervisor.Section + ".sshKeyFile")
                ?? (tier.Access.IdentityFile != null && File.Exists(tier.Access.IdentityFile + ".pub")
                    ? ReadPublicKey(tier.Access.IdentityFile + ".pub", "access.identityFile + .pub") : null);
            if (segment.Addressing == SegmentAddressing.Static)
            {
                return new CloudInitSettings(false, $"{host.IPAddress}/{segment.Subnet.PrefixLength}", segment.Gateway,
                    segment.DnsServers, tier.Site.Domain, user, key);
            }
            return new CloudInitSettings(true, null, null, Array.Empty<IPAddress>(), null, user, key);
        }

        private static string? ReadPublicKey(string? path, string what)
        {
            if (path == null) return null;
            string text;
            try
            {
                text = File.ReadAllText(path).Trim();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw VmErrors.Create("SshKeyUnreadable", DeevErrorKind.ObjectNotFound, $"{what} names '{path}', which cannot be read: {ex.Message}", path);
            }
            var line = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith("#", StringComparison.Ordinal));
            if (line == null || !Regex.IsMatch(line, @"^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$"))
                throw VmErrors.Create("SshKeyUnreadable", DeevErrorKind.InvalidData, $"{what} names '{path}', which holds no OpenSSH public key.", path);
            return line;
        }
    }
}
