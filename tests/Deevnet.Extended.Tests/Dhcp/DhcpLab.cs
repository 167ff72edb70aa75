using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dhcp.Dnsmasq;
using Deevnet.Extended.Core.Dhcp.Kea;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    /// <summary>
    /// The DHCP lab tests reload the lab's two servers many times a second; they run one after another so that a
    /// 2-core machine is not swamped. Their state does not need it: each class has its own space (DhcpLab).
    /// </summary>
    [CollectionDefinition("DhcpLab", DisableParallelization = true)]
    public sealed class DhcpLabCollection
    {
    }

    /// <summary>The space of DhcpBackendLabTests: MACs 02:de:3e:…, 10.231.99.160-175 and the whole 10.231.98.0/24.</summary>
    public sealed class DhcpBackendSpace : LabSpaceFixture
    {
        public DhcpBackendSpace() : base("dhb") => DhcpLab.RemoveOwnKeaLeftovers(this);
    }

    /// <summary>The space of DhcpCmdletLabTests: MACs 02:de:3d:…, 10.231.99.32-47, its tier (hosts dhc…).</summary>
    public sealed class DhcpCmdletSpace : LabSpaceFixture
    {
        public DhcpCmdletSpace() : base("dhc") => DhcpLab.RemoveOwnKeaLeftovers(this);
    }

    /// <summary>
    /// Builds the lab's dnsmasq and Kea back ends for one suite's space, reached locally (files on this machine) or
    /// over the lab's SSH. dnsmasq: the space's own hosts file (linked into dnsmasq's dhcp-hosts.d). Kea has one
    /// configuration file for everyone, so what a test compares there is its space's part and the hand-made entry.
    /// </summary>
    internal sealed class DhcpLab : IDisposable
    {
        public const string KeaHandMadeMac = "02:aa:00:00:00:01";
        private readonly List<IHostTransport> _transports = new List<IHostTransport>();

        public DhcpLab(LabSpaceFixture fixture)
        {
            Env = LabEnvironment.Require();
            Space = fixture.Space;
        }

        public LabEnvironment Env { get; }
        public LabSpace Space { get; }

        public static readonly Ipv4Network Management = DhcpPlannerTests.Net("10.231.99.0/24");

        public string Path(string server) => server == "kea" ? Env["DEEV_LAB_KEA_CONFIG"] : Space.DnsmasqHosts;

        /// <summary>
        /// What the server's file holds that this suite may compare before and after: dnsmasq, the space's own hosts
        /// file byte for byte; Kea, every reservation of the space (its MACs or addresses) and the hand-made one, as
        /// the file has them, with their subnet.
        /// </summary>
        public string? Snapshot(string server)
        {
            var path = Path(server);
            if (!File.Exists(path)) return null;
            var text = File.ReadAllText(path);
            return server == "kea" ? KeaPart(Space, text) : text;
        }

        internal static string KeaPart(LabSpace space, string config)
        {
            using var doc = JsonDocument.Parse(config, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var lines = new List<string>();
            foreach (var subnet in doc.RootElement.GetProperty("Dhcp4").GetProperty("subnet4").EnumerateArray())
            {
                if (!subnet.TryGetProperty("reservations", out var reservations)) continue;
                var cidr = subnet.GetProperty("subnet").GetString();
                foreach (var r in reservations.EnumerateArray())
                {
                    var mac = r.TryGetProperty("hw-address", out var m) ? m.GetString() ?? "" : "";
                    var ip = r.TryGetProperty("ip-address", out var a) ? a.GetString() ?? "" : "";
                    if (space.OwnsMac(mac) || space.OwnsAddress(ip) || mac == KeaHandMadeMac) lines.Add(cidr + " " + r.GetRawText());
                }
            }
            return string.Join("\n", lines);
        }

        public SshTransportOptions SshOptions(string? knownHosts = null) => new SshTransportOptions
        {
            KeyFile = Env["DEEV_LAB_SSH_KEY"],
            KnownHostsPath = knownHosts ?? Env["DEEV_LAB_KNOWN_HOSTS"],
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };

        public IHostTransport Transport(string via, string? knownHosts = null)
        {
            IHostTransport t = via == "local"
                ? new LocalTransport()
                : new SshTransport(Via.Ssh(Env["DEEV_LAB_SSH_USER"], Env["DEEV_LAB_SSH_HOST"], int.Parse(Env["DEEV_LAB_SSH_PORT"])), SshOptions(knownHosts));
            _transports.Add(t);
            return t;
        }

        /// <param name="pidFile">Overrides dnsmasq's pid file (fault tests).</param>
        /// <param name="socket">Overrides Kea's control socket (fault tests).</param>
        public IDhcpBackend Backend(string server, string via, string? pidFile = null, string? socket = null, string? knownHosts = null) =>
            Backend(Env, Space, Transport(via, knownHosts), server, pidFile, socket);

        private static IDhcpBackend Backend(LabEnvironment env, LabSpace space, IHostTransport t, string server, string? pidFile = null, string? socket = null) =>
            server == "kea"
                ? new KeaDhcpBackend(t, env["DEEV_LAB_KEA_CONFIG"], socket ?? env["DEEV_LAB_KEA_SOCKET"], env["DEEV_LAB_KEA_NETNS"])
                : new DnsmasqDhcpBackend(t, space.DnsmasqHosts, pidFile ?? env["DEEV_LAB_DNSMASQ_PID"], env["DEEV_LAB_SRV_NETNS"], new[] { Management });

        /// <summary>A reservation's host name in the space (dnsmasq registers it in DNS when a guest leases).</summary>
        public string Name(string name) => Space.GuestPrefix + name;

        /// <summary>A random MAC of the space (02:de:3e:… for the back-end tests).</summary>
        public string RandomMac() => Space.RandomMac();

        public static DhcpReservation Want(string mac, string ip, string name) => DhcpFields.Desired(mac, DhcpFields.ParseAddress(ip), name, "lab test");

        /// <summary>Removes what a test reserved: only its own entries.</summary>
        public void CleanUp(string server, IEnumerable<string> macs)
        {
            var list = macs.ToList();
            if (list.Count > 0) Backend(server, "local").ApplyAsync(new DhcpBatch(removals: list), CancellationToken.None).GetAwaiter().GetResult();
        }

        /// <summary>
        /// A fresh space starts with empty dnsmasq files, but Kea's file is shared: reservations of the space's MACs that
        /// an earlier, interrupted run of the same suite left there are removed before the suite starts.
        /// </summary>
        public static void RemoveOwnKeaLeftovers(LabSpaceFixture fixture)
        {
            var env = LabEnvironment.Current;
            if (env == null) return;
            using var t = new LocalTransport();
            var kea = Backend(env, fixture.Space, t, "kea");
            var left = kea.ReadAsync(CancellationToken.None).GetAwaiter().GetResult()
                .Where(r => r.IsOwned && fixture.Space.OwnsMac(r.ClientId)).Select(r => r.ClientId).ToList();
            if (left.Count > 0) kea.ApplyAsync(new DhcpBatch(removals: left), CancellationToken.None).GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            foreach (var t in _transports) t.Dispose();
        }
    }
}
