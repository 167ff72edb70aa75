using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Identity;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>The hosts section and the rules that tie a host to its segment, hypervisor and VMID.</summary>
    internal sealed partial class TierReader
    {
        private readonly Dictionary<string, MgmtHost> _hostsByName = new Dictionary<string, MgmtHost>(StringComparer.Ordinal);
        private readonly HashSet<string> _hostNames = new HashSet<string>(StringComparer.Ordinal);

        private List<MgmtHost> ReadHosts(YamlFields top)
        {
            var hosts = new List<MgmtHost>();
            var section = Section(top, "hosts");
            if (section == null) return hosts;
            var ips = new Dictionary<uint, string>();
            var vmids = new Dictionary<int, string>();
            foreach (var entry in section.Entries)
            {
                var name = entry.Key;
                var path = "hosts." + name;
                _hostNames.Add(name);
                if (NameRules.WhyNotAName(name, "host name") is { } why) Problem(entry.Value.Key, $"{path}: {why}");
                var f = Map(entry.Value.Value, path, entry.Value.Key);
                if (f == null) continue;
                CheckKeys(f, TierSchema.Host);

                var segmentName = Name(f, "segment");
                Segment? segment = null;
                if (segmentName != null && !_segments.TryGetValue(segmentName, out segment) && !_declaredSegments.Contains(segmentName))
                    Problem(f["segment"]!, $"{path}.segment: unknown segment '{segmentName}' (segments: {string.Join(", ", _segments.Keys)})");
                else if (segment != null && segment.IsTenant)
                    Problem(f["segment"]!, $"{path}.segment: '{segmentName}' is a tenant segment; management hosts never sit on tenant segments");

                var ip = Ip(f, "ip");
                if (ip != null)
                {
                    var value = Ipv4Network.ToUInt(ip);
                    if (segment != null) CheckAddressInSegment(f["ip"]!, path + ".ip", ip, segment);
                    if (ips.TryGetValue(value, out var other)) Problem(f["ip"]!, $"{path}.ip: {ip} is already the address of host '{other}'");
                    else ips[value] = name;
                }

                var hypervisor = Name(f, "hypervisor");
                if (hypervisor != null && !_hypervisors.ContainsKey(hypervisor))
                    Problem(f["hypervisor"]!, _hypervisors.Count == 0
                        ? $"{path}.hypervisor: unknown hypervisor '{hypervisor}' (the tier declares no hypervisors)"
                        : $"{path}.hypervisor: unknown hypervisor '{hypervisor}' (hypervisors: {string.Join(", ", _hypervisors.Keys)})");

                var vmid = VmIdOf(f["vmid"], f.PathOf("vmid"));
                if (vmid.HasValue && _site != null)
                {
                    if (vmid < _site.VmIdMin || vmid > _site.VmIdMax)
                        Problem(f["vmid"]!, $"{path}.vmid: {vmid} is outside site.vmidRange [{_site.VmIdMin}, {_site.VmIdMax}]");
                    else if (vmids.TryGetValue(vmid.Value, out var other))
                        Problem(f["vmid"]!, $"{path}.vmid: VMID {vmid} is already the VMID of host '{other}' (both would get MAC {MacAddress.FromVmId(_site.MacNamespace, vmid.Value)})");
                    else vmids[vmid.Value] = name;
                }

                var cores = Int(f, "cores", 1, 1024) ?? 2;
                var memory = Int(f, "memory", 64, 16 * 1024 * 1024) ?? 2048;
                var disk = Int(f, "disk", 1, 1024 * 1024);
                var dataDisk = ReadDataDisk(Map(f["dataDisk"], path + ".dataDisk", f.KeyNode("dataDisk")));
                var startup = ReadStartup(Map(f["startup"], path + ".startup", f.KeyNode("startup")));
                var via = ViaValue(f, "via");

                if (segmentName == null || ip == null) continue;
                var host = new MgmtHost(name, segmentName, ip, hypervisor, vmid, cores, memory, disk, dataDisk, startup, via,
                    (int)entry.Value.Key.Start.Line, (int)entry.Value.Key.Start.Column);
                hosts.Add(host);
                _hostsByName[name] = host;
            }
            return hosts;
        }

        private void CheckAddressInSegment(YamlNode node, string path, System.Net.IPAddress ip, Segment segment)
        {
            var why = AddressRules.WhyNotAHostAddress(ip, segment, _servers);
            if (why != null) Problem(node, $"{path}: {why}");
        }

        private DataDisk? ReadDataDisk(YamlFields? f)
        {
            if (f == null) return null;
            CheckKeys(f, TierSchema.DataDisk);
            var size = Int(f, "size", 1, 1024 * 1024);
            var mount = AbsolutePathOf(f["mount"], f.PathOf("mount"));
            var serial = Scalar(f, "serial") ?? "deevnet-data";
            if (!TierSyntax.IsDiskSerial(serial))
                Problem(f["serial"]!, $"{f.PathOf("serial")}: '{serial}' is not a disk serial (1-20 of A-Z, a-z, 0-9, '_' and '-')");
            return size == null ? null : new DataDisk(size.Value, mount, serial);
        }

        private StartupOrder? ReadStartup(YamlFields? f)
        {
            if (f == null) return null;
            CheckKeys(f, TierSchema.Startup);
            var order = Int(f, "order", 0, 100000);
            var up = Int(f, "up", 0, 86400);
            var down = Int(f, "down", 0, 86400);
            return order == null ? null : new StartupOrder(order.Value, up, down);
        }
    }
}
