using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Tests.Checks
{
    /// <summary>Builds tiers in code for Core tests (the loader has its own tests; these test the checks).</summary>
    internal sealed class TestTier
    {
        public const string Domain = "t.test";
        public readonly List<Segment> Segments = new List<Segment>
        {
            Seg("management", "10.9.0.0/24", SegmentAddressing.Reservation),
            Seg("platform", "10.9.1.0/24", SegmentAddressing.Static),
            Seg("tenant-a", "10.9.50.0/24", null, tenant: true),
        };
        public readonly List<MgmtHost> Hosts = new List<MgmtHost>();
        public readonly List<Service> Services = new List<Service>();
        public readonly List<Hypervisor> Hypervisors = new List<Hypervisor>();
        public BackendSpec? Dns;
        public BackendSpec? Dhcp;
        public BackupSettings? Backup;
        public IsolationSettings? Isolation;

        public static Segment Seg(string name, string cidr, SegmentAddressing? addressing, bool tenant = false)
        {
            Ipv4Network.TryParse(cidr, out var net, out _);
            return new Segment(name, null, net, null, addressing, tenant, "vmbr0", Array.Empty<IPAddress>());
        }

        public TestTier Host(string name, string ip, string segment = "management", int? vmid = null, string? hypervisor = null, Via? via = null)
        {
            Hosts.Add(new MgmtHost(name, segment, IPAddress.Parse(ip), hypervisor, vmid, 2, 2048, null, null, null, via, 1, 1));
            return this;
        }

        public TestTier Service(string name, string host, ServiceClass cls = ServiceClass.Observability, string[]? names = null,
            CheckSpec[]? checks = null, ServiceBackup? backup = null)
        {
            Services.Add(new Service(name, cls, host, names ?? Array.Empty<string>(), checks ?? Array.Empty<CheckSpec>(),
                backup ?? new ServiceBackup(Array.Empty<string>(), null, null, "stateless test service"), Array.Empty<string>(), 1, 1));
            return this;
        }

        public TestTier DnsServer(IPEndPoint server)
        {
            Dns = new BackendSpec("dns", "dnsmasq", Via.Local, new Dictionary<string, string>
            {
                ["server"] = server.Address.ToString(),
                ["port"] = server.Port.ToString(),
            }, 1, 1);
            return this;
        }

        public TestTier DhcpServer()
        {
            Dhcp = new BackendSpec("dhcp", "dnsmasq", Via.Local, new Dictionary<string, string> { ["hostsFile"] = "/tmp/x", ["pidFile"] = "/tmp/y" }, 1, 1);
            return this;
        }

        public static CheckSpec Check(string kind, string target, TimeSpan? timeout = null, params (string Key, string Value)[] options) =>
            new CheckSpec(kind, target, options.ToDictionary(o => o.Key, o => o.Value), timeout, 1, 1);

        public SiteTier Build() => new SiteTier("/tmp/test.tier.yaml",
            new SiteInfo("test", Domain, "02:de:77", 200, 299),
            new AccessSettings("tester", null, "/nonexistent/known_hosts", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)),
            Segments, Hypervisors, Dhcp, Dns, Backup, Hosts, Services, Isolation);
    }
}
