using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// A site's extended services tier as read from its tier file, validated whole.
    /// Immutable after loading; identity (VMIDs, MACs) is resolved by the identity layer, not stored here.
    /// </summary>
    public sealed class SiteTier
    {
        public SiteTier(string sourcePath, SiteInfo site, AccessSettings access, IReadOnlyList<Segment> segments,
            IReadOnlyList<Hypervisor> hypervisors, BackendSpec? dhcp, BackendSpec? dns, BackupSettings? backup,
            IReadOnlyList<MgmtHost> hosts, IReadOnlyList<Service> services, IsolationSettings? isolation = null,
            Journal.JournalLocation? journal = null)
        {
            Journal = journal;
            SourcePath = sourcePath;
            Site = site;
            Access = access;
            Segments = segments;
            Hypervisors = hypervisors;
            Dhcp = dhcp;
            Dns = dns;
            Backup = backup;
            Hosts = hosts;
            Services = services;
            Isolation = isolation;
            _segments = segments.ToDictionary(s => s.Name, StringComparer.Ordinal);
            _hosts = hosts.ToDictionary(h => h.Name, StringComparer.Ordinal);
            _hypervisors = hypervisors.ToDictionary(h => h.Name, StringComparer.Ordinal);
        }

        private readonly Dictionary<string, Segment> _segments;
        private readonly Dictionary<string, MgmtHost> _hosts;
        private readonly Dictionary<string, Hypervisor> _hypervisors;

        /// <summary>Full path of the tier file.</summary>
        public string SourcePath { get; }
        public SiteInfo Site { get; }
        public AccessSettings Access { get; }
        public IReadOnlyList<Segment> Segments { get; }
        public IReadOnlyList<Hypervisor> Hypervisors { get; }
        public BackendSpec? Dhcp { get; }
        public BackendSpec? Dns { get; }
        public BackupSettings? Backup { get; }
        public IReadOnlyList<MgmtHost> Hosts { get; }
        public IReadOnlyList<Service> Services { get; }

        /// <summary>The optional <c>isolation</c> section (a vantage on a tenant segment), or null.</summary>
        public IsolationSettings? Isolation { get; }

        /// <summary>Where every applied change is recorded (<c>journal:</c>); null when the tier keeps no journal.</summary>
        public Journal.JournalLocation? Journal { get; }

        public Segment? FindSegment(string name) => _segments.TryGetValue(name, out var s) ? s : null;
        public MgmtHost? FindHost(string name) => _hosts.TryGetValue(name, out var h) ? h : null;
        public Hypervisor? FindHypervisor(string name) => _hypervisors.TryGetValue(name, out var h) ? h : null;

        /// <summary>The segment a host sits on (validated to exist).</summary>
        public Segment SegmentOf(MgmtHost host) => _segments[host.Segment];

        /// <summary><c>&lt;host&gt;.&lt;site domain&gt;</c>.</summary>
        public string FqdnOf(string hostName) => hostName + "." + Site.Domain;

        /// <summary>How the module reaches a host: its own <c>via</c>, else SSH to its address as <c>access.user</c>.</summary>
        public Via ViaOf(MgmtHost host) => (host.Via ?? Via.Ssh(Access.User, host.IPAddress.ToString())).WithDefaultUser(Access.User);

        /// <summary>The services that run on a host.</summary>
        public IEnumerable<Service> ServicesOn(string hostName) => Services.Where(s => s.Host == hostName);
    }

    /// <summary>The <c>site</c> section.</summary>
    public sealed class SiteInfo
    {
        public SiteInfo(string name, string domain, string macNamespace, int vmIdMin, int vmIdMax)
        {
            Name = name;
            Domain = domain;
            MacNamespace = macNamespace;
            VmIdMin = vmIdMin;
            VmIdMax = vmIdMax;
        }

        public string Name { get; }

        /// <summary>Site DNS zone, lowercase, without a trailing dot.</summary>
        public string Domain { get; }

        /// <summary>Three octets, lowercase with colons, e.g. <c>02:de:20</c>.</summary>
        public string MacNamespace { get; }
        public int VmIdMin { get; }
        public int VmIdMax { get; }
    }

    /// <summary>The <c>access</c> section: SSH defaults for every server and host.</summary>
    public sealed class AccessSettings
    {
        public AccessSettings(string user, string? identityFile, string knownHostsFile, TimeSpan connectTimeout, TimeSpan commandTimeout)
        {
            User = user;
            IdentityFile = identityFile;
            KnownHostsFile = knownHostsFile;
            ConnectTimeout = connectTimeout;
            CommandTimeout = commandTimeout;
        }

        public string User { get; }

        /// <summary>Private key file (absolute path), or null.</summary>
        public string? IdentityFile { get; }

        /// <summary>OpenSSH known_hosts file (absolute path).</summary>
        public string KnownHostsFile { get; }
        public TimeSpan ConnectTimeout { get; }
        public TimeSpan CommandTimeout { get; }
    }

    public enum SegmentAddressing
    {
        /// <summary>Hosts take their address from a DHCP reservation.</summary>
        Reservation,

        /// <summary>Hosts are given their address statically (cloud-init).</summary>
        Static,
    }

    /// <summary>One entry of <c>segments</c>.</summary>
    public sealed class Segment
    {
        public Segment(string name, int? vlan, Ipv4Network subnet, System.Net.IPAddress? gateway, SegmentAddressing? addressing,
            bool isTenant, string bridge, IReadOnlyList<System.Net.IPAddress> dnsServers)
        {
            Name = name;
            Vlan = vlan;
            Subnet = subnet;
            Gateway = gateway;
            Addressing = addressing;
            IsTenant = isTenant;
            Bridge = bridge;
            DnsServers = dnsServers;
        }

        public string Name { get; }
        public int? Vlan { get; }
        public Ipv4Network Subnet { get; }
        public System.Net.IPAddress? Gateway { get; }

        /// <summary>Null only for tenant segments, which need none.</summary>
        public SegmentAddressing? Addressing { get; }
        public bool IsTenant { get; }
        public string Bridge { get; }
        public IReadOnlyList<System.Net.IPAddress> DnsServers { get; }
    }

    /// <summary>
    /// A back-end section (<c>dhcp</c>, <c>dns</c>) or hypervisor settings: a kind plus the keys that kind allows.
    /// The loader checks every key against the kind's schema, so a back end reads values it knows are present.
    /// </summary>
    public class BackendSpec
    {
        public BackendSpec(string section, string kind, Via? via, IReadOnlyDictionary<string, string> settings, int line, int column)
        {
            Section = section;
            Kind = kind;
            Via = via;
            Settings = settings;
            Line = line;
            Column = column;
        }

        /// <summary><c>dhcp</c>, <c>dns</c> or <c>hypervisors.&lt;name&gt;</c>.</summary>
        public string Section { get; }

        /// <summary>The back-end kind, lowercase (<c>dnsmasq</c>, <c>kea</c>, <c>unbound</c>, <c>proxmox</c>, …).</summary>
        public string Kind { get; }

        /// <summary>Where the server runs, when the kind is reached through a transport.</summary>
        public Via? Via { get; }

        /// <summary>Every other key of the section as written (scalars as strings), already validated.</summary>
        public IReadOnlyDictionary<string, string> Settings { get; }

        public int Line { get; }
        public int Column { get; }

        /// <summary>A setting, or null when absent.</summary>
        public string? Get(string key) => Settings.TryGetValue(key, out var v) ? v : null;

        /// <summary>A setting that the schema made required for this kind.</summary>
        public string Require(string key) => Get(key) ?? throw new InvalidOperationException($"{Section}.{key} is required for kind '{Kind}'.");

        /// <summary>
        /// Resolves a secret given as <c>&lt;name&gt;Env</c> (environment variable) or <c>&lt;name&gt;File</c> (file content, trimmed).
        /// Returns null when neither is set. The value is never logged.
        /// </summary>
        public string? ResolveSecret(string name) => SecretReference.Resolve(this, name);
    }

    /// <summary>One entry of <c>hypervisors</c>.</summary>
    public sealed class Hypervisor : BackendSpec
    {
        public Hypervisor(string name, string kind, Via? via, IReadOnlyDictionary<string, string> settings, int line, int column)
            : base("hypervisors." + name, kind, via, settings, line, column)
        {
            Name = name;
        }

        public string Name { get; }

        /// <summary>Template name prefix; the newest template (version order) is cloned.</summary>
        public string Template => Require("template");
    }

    /// <summary>The <c>backup</c> section.</summary>
    public sealed class BackupSettings
    {
        public BackupSettings(string store, string recipient, string? identityFile, TimeSpan maxAge, int keep, string? signingKeyFile = null, string? allowedSignersFile = null)
        {
            Store = store;
            Recipient = recipient;
            IdentityFile = identityFile;
            MaxAge = maxAge;
            Keep = keep;
            SigningKeyFile = signingKeyFile;
            AllowedSignersFile = allowedSignersFile;
        }

        /// <summary>A local directory (absolute) or <c>ssh://user@host[:port]/path</c>.</summary>
        public string Store { get; }

        /// <summary>age public key, <c>age1…</c>.</summary>
        public string Recipient { get; }

        /// <summary>age private key file, used only to verify and restore.</summary>
        public string? IdentityFile { get; }
        public TimeSpan MaxAge { get; }
        public int Keep { get; }

        /// <summary>OpenSSH private key that signs each backup's seal; needed only where backups are taken.</summary>
        public string? SigningKeyFile { get; }

        /// <summary>OpenSSH allowed-signers file: the public keys whose seals list, test and restore accept.</summary>
        public string? AllowedSignersFile { get; }
    }

    /// <summary>A data disk: created only when absent, found by its serial.</summary>
    public sealed class DataDisk
    {
        public DataDisk(int sizeGb, string? mount, string serial)
        {
            SizeGb = sizeGb;
            Mount = mount;
            Serial = serial;
        }

        public int SizeGb { get; }
        public string? Mount { get; }
        public string Serial { get; }
    }

    /// <summary>Start-on-boot order and delays.</summary>
    public sealed class StartupOrder
    {
        public StartupOrder(int order, int? up, int? down)
        {
            Order = order;
            Up = up;
            Down = down;
        }

        public int Order { get; }
        public int? Up { get; }
        public int? Down { get; }
    }

    /// <summary>One entry of <c>hosts</c>: a management host (a VM on one segment).</summary>
    public sealed class MgmtHost
    {
        public MgmtHost(string name, string segment, System.Net.IPAddress ipAddress, string? hypervisor, int? fixedVmId,
            int cores, int memoryMb, int? diskGb, DataDisk? dataDisk, StartupOrder? startup, Via? via, int line, int column)
        {
            Name = name;
            Segment = segment;
            IPAddress = ipAddress;
            Hypervisor = hypervisor;
            FixedVmId = fixedVmId;
            Cores = cores;
            MemoryMb = memoryMb;
            DiskGb = diskGb;
            DataDisk = dataDisk;
            Startup = startup;
            Via = via;
            Line = line;
            Column = column;
        }

        public string Name { get; }
        public string Segment { get; }
        public System.Net.IPAddress IPAddress { get; }
        public string? Hypervisor { get; }

        /// <summary>The VMID written in the tier file, or null when the module allocates one.</summary>
        public int? FixedVmId { get; }
        public int Cores { get; }
        public int MemoryMb { get; }
        public int? DiskGb { get; }
        public DataDisk? DataDisk { get; }
        public StartupOrder? Startup { get; }

        /// <summary>How to reach the host, when the tier says; see <see cref="SiteTier.ViaOf"/>.</summary>
        public Via? Via { get; }
        public int Line { get; }
        public int Column { get; }
    }

    public enum ServiceClass
    {
        Observability,
        Automation,
        Access,
    }

    /// <summary>One entry of <c>services</c>.</summary>
    public sealed class Service
    {
        public Service(string name, ServiceClass serviceClass, string host, IReadOnlyList<string> names, IReadOnlyList<CheckSpec> checks,
            ServiceBackup backup, IReadOnlyList<string> configure, int line, int column)
        {
            Name = name;
            Class = serviceClass;
            Host = host;
            Names = names;
            Checks = checks;
            Backup = backup;
            Configure = configure;
            Line = line;
            Column = column;
        }

        public string Name { get; }
        public ServiceClass Class { get; }
        public string Host { get; }

        /// <summary>CNAMEs in the site domain, without the domain.</summary>
        public IReadOnlyList<string> Names { get; }
        public IReadOnlyList<CheckSpec> Checks { get; }
        public ServiceBackup Backup { get; }

        /// <summary>Post-install configuration commands, run on the builder by rebuild playbooks.</summary>
        public IReadOnlyList<string> Configure { get; }
        public int Line { get; }
        public int Column { get; }
    }

    /// <summary>What of a service must survive a rebuild: paths and commands, or an explicit reason for nothing.</summary>
    public sealed class ServiceBackup
    {
        public ServiceBackup(IReadOnlyList<string> paths, string? before, string? after, string? noneReason)
        {
            Paths = paths;
            Before = before;
            After = after;
            NoneReason = noneReason;
        }

        public IReadOnlyList<string> Paths { get; }
        public string? Before { get; }
        public string? After { get; }

        /// <summary>Why nothing needs backing up, when the service says so.</summary>
        public string? NoneReason { get; }
        public bool IsNone => NoneReason != null;

        /// <summary><c>paths: /a, /b</c> or <c>none: reason</c>, for tables.</summary>
        public override string ToString() => IsNone ? "none: " + NoneReason : "paths: " + string.Join(", ", Paths);
    }

    /// <summary>A declared health check: its kind, its target as written, and its options.</summary>
    public sealed class CheckSpec
    {
        public CheckSpec(string kind, string target, IReadOnlyDictionary<string, string> options, TimeSpan? timeout, int line, int column)
        {
            Kind = kind;
            Target = target;
            Options = options;
            Timeout = timeout;
            Line = line;
            Column = column;
        }

        /// <summary><c>tcp</c>, <c>http</c>, <c>https</c>, <c>dns</c>, <c>ssh</c> or <c>command</c>.</summary>
        public string Kind { get; }
        public string Target { get; }
        public IReadOnlyDictionary<string, string> Options { get; }
        public TimeSpan? Timeout { get; }
        public int Line { get; }
        public int Column { get; }
        public string? Get(string key) => Options.TryGetValue(key, out var v) ? v : null;

        public override string ToString() => $"{Kind} {Target}";
    }
}
