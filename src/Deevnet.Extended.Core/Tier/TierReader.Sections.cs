using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Identity;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>The top level and the site, access and segments sections.</summary>
    internal sealed partial class TierReader
    {
        private static readonly Regex UserPattern = new Regex(@"^[a-z_][a-z0-9_.-]{0,31}$", RegexOptions.CultureInvariant);
        private static readonly Regex BridgePattern = new Regex(@"^[A-Za-z0-9_.-]{1,15}$", RegexOptions.CultureInvariant);

        private SiteInfo? _site;
        private readonly Dictionary<string, Segment> _segments = new Dictionary<string, Segment>(StringComparer.Ordinal);

        /// <summary>Every segment name written, also those too broken to build, so hosts do not echo their problems.</summary>
        private readonly HashSet<string> _declaredSegments = new HashSet<string>(StringComparer.Ordinal);
        private readonly Dictionary<string, Hypervisor> _hypervisors = new Dictionary<string, Hypervisor>(StringComparer.Ordinal);
        private BackupSettings? _backup;

        /// <summary>Whether the file has a backup section at all (an invalid one is reported once, by itself).</summary>
        private bool _backupSectionGiven;

        /// <summary>Reads the whole document; returns null when any problem was found.</summary>
        public SiteTier? Read(YamlNode root)
        {
            if (!(root is YamlMappingNode))
            {
                Problem(root, "the tier file must be a mapping of sections (site, segments, hosts, services, …)");
                return null;
            }
            var top = Map(root, "")!;
            CheckKeys(top, TierSchema.Root);

            _site = ReadSite(Section(top, "site"));
            var access = ReadAccess(Section(top, "access"));
            ReadSegments(top);
            ReadHypervisors(top);
            var dhcp = ReadBackend(Section(top, "dhcp"), TierSchema.DhcpKinds, null);
            var dns = ReadBackend(Section(top, "dns"), TierSchema.DnsKinds, null);
            _backupSectionGiven = top.Has("backup");
            _backup = ReadBackup(Section(top, "backup"));
            _servers = new[] { dhcp, dns }.Concat(_hypervisors.Values).ToList();
            var hosts = ReadHosts(top);
            var services = ReadServices(top);
            var isolation = ReadIsolation(Section(top, "isolation"));
            var journal = ReadJournal(top);

            if (_problems.Count > 0) return null;
            return new SiteTier(_file, _site!, access!, _segments.Values.ToList(), _hypervisors.Values.ToList(), dhcp, dns, _backup,
                hosts, services, isolation, journal);
        }

        /// <summary>A top-level section as fields, anchored at its key so "required" problems point at the section name.</summary>
        private YamlFields? Section(YamlFields top, string key) => Map(top[key], key, top.KeyNode(key));

        private SiteInfo? ReadSite(YamlFields? f)
        {
            if (f == null) return null;
            CheckKeys(f, TierSchema.Site);
            var name = Name(f, "name");
            var domain = Scalar(f, "domain");
            if (domain != null && !NameRules.IsDnsName(domain.TrimEnd('.')))
            {
                Problem(f["domain"]!, $"site.domain: '{domain}' is not a DNS name (lowercase labels of a-z, 0-9 and '-')");
                domain = null;
            }
            string? ns = null;
            var nsText = Scalar(f, "macNamespace");
            if (nsText != null)
            {
                if (MacAddress.TryParseNamespace(nsText, out _, out var error)) ns = MacAddress.NormalizeNamespace(nsText);
                else Problem(f["macNamespace"]!, "site.macNamespace: " + error);
            }
            int? min = null, max = null;
            var range = List(f, "vmidRange");
            if (range != null)
            {
                if (range.Count != 2)
                    Problem(f["vmidRange"]!, "site.vmidRange: must be [min, max]");
                else
                {
                    min = VmIdOf(range[0], "site.vmidRange[0]");
                    max = VmIdOf(range[1], "site.vmidRange[1]");
                    if (min > max)
                    {
                        Problem(f["vmidRange"]!, $"site.vmidRange: min {min} is greater than max {max}");
                        min = max = null;
                    }
                }
            }
            if (name == null || domain == null || ns == null || min == null || max == null) return null;
            return new SiteInfo(name, domain.TrimEnd('.'), ns, min.Value, max.Value);
        }

        private AccessSettings? ReadAccess(YamlFields? f)
        {
            string user = "a_autoprov";
            string? identityFile = null;
            var knownHosts = ResolveLocal("~/.ssh/known_hosts");
            TimeSpan connect = TimeSpan.FromSeconds(10), command = TimeSpan.FromSeconds(60);
            if (f != null)
            {
                CheckKeys(f, TierSchema.Access);
                var u = Scalar(f, "user");
                if (u != null && !UserPattern.IsMatch(u)) Problem(f["user"]!, $"access.user: '{u}' is not a valid user name");
                else if (u != null) user = u;
                identityFile = LocalPath(f, "identityFile");
                knownHosts = LocalPath(f, "knownHosts") ?? knownHosts;
                connect = Duration(f, "connectTimeout", DurationRules.Timeout) ?? connect;
                command = Duration(f, "commandTimeout", DurationRules.Timeout) ?? command;
            }
            return new AccessSettings(user, identityFile, knownHosts, connect, command);
        }

        private void ReadSegments(YamlFields top)
        {
            var section = Section(top, "segments");
            if (section == null) return;
            var vlans = new Dictionary<int, string>();
            foreach (var entry in section.Entries)
            {
                var name = entry.Key;
                var path = "segments." + name;
                _declaredSegments.Add(name);
                if (NameRules.WhyNotAName(name, "segment name") is { } why) Problem(entry.Value.Key, $"{path}: {why}");
                var f = Map(entry.Value.Value, path, entry.Value.Key);
                if (f == null) continue;
                CheckKeys(f, TierSchema.Segment);
                var tenant = Bool(f, "tenant") ?? false;
                var vlan = Int(f, "vlan", 1, 4094);
                if (vlan.HasValue)
                {
                    if (vlans.TryGetValue(vlan.Value, out var other)) Problem(f["vlan"]!, $"{path}.vlan: VLAN {vlan} is already used by segment '{other}'");
                    else vlans[vlan.Value] = name;
                }

                Ipv4Network? subnet = null;
                var subnetText = Scalar(f, "subnet");
                if (subnetText != null)
                {
                    if (Ipv4Network.TryParse(subnetText, out var net, out var error)) subnet = net;
                    else Problem(f["subnet"]!, $"{path}.subnet: {error}");
                }

                var gateway = Ip(f, "gateway");
                if (gateway == null && !f.Has("gateway") && !tenant) Problem(f.Anchor, $"{path}: 'gateway' is required");
                if (gateway != null && subnet != null)
                {
                    var g = Ipv4Network.ToUInt(gateway);
                    if (!subnet.Value.Contains(gateway)) Problem(f["gateway"]!, $"{path}.gateway: {gateway} is not inside {subnet}");
                    else if (subnet.Value.PrefixLength <= 30 && (g == subnet.Value.Network || g == subnet.Value.Broadcast))
                        Problem(f["gateway"]!, $"{path}.gateway: {gateway} is the {(g == subnet.Value.Network ? "network" : "broadcast")} address of {subnet}");
                }

                SegmentAddressing? addressing = null;
                var addressingText = Scalar(f, "addressing");
                if (addressingText == "reservation") addressing = SegmentAddressing.Reservation;
                else if (addressingText == "static") addressing = SegmentAddressing.Static;
                else if (addressingText != null) Problem(f["addressing"]!, $"{path}.addressing: '{addressingText}' is not reservation or static");
                else if (!f.Has("addressing") && !tenant) Problem(f.Anchor, $"{path}: 'addressing' is required (reservation or static) unless the segment is a tenant segment");

                var bridge = Scalar(f, "bridge") ?? "vmbr0";
                if (!BridgePattern.IsMatch(bridge)) Problem(f["bridge"]!, $"{path}.bridge: '{bridge}' is not a valid interface name");

                var dns = new List<IPAddress>();
                var dnsNodes = List(f, "dns");
                if (dnsNodes != null)
                    for (var i = 0; i < dnsNodes.Count; i++)
                    {
                        var ip = IpOf(dnsNodes[i], $"{path}.dns[{i}]");
                        if (ip != null) dns.Add(ip);
                    }

                if (subnet == null) continue;
                foreach (var existing in _segments.Values)
                    if (Overlaps(existing.Subnet, subnet.Value))
                        Problem(f["subnet"]!, $"{path}.subnet: {subnet} overlaps {existing.Subnet} of segment '{existing.Name}'");
                _segments[name] = new Segment(name, vlan, subnet.Value, gateway, addressing, tenant, bridge, dns);
            }
        }

        private static bool Overlaps(Ipv4Network a, Ipv4Network b)
        {
            var mask = a.PrefixLength < b.PrefixLength ? a.Mask : b.Mask;
            return (a.Network & mask) == (b.Network & mask);
        }
    }
}
