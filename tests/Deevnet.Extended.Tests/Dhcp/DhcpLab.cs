using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
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
    /// <summary>All DHCP lab tests share the lab's two servers and address space, so they run one after another.</summary>
    [CollectionDefinition("DhcpLab", DisableParallelization = true)]
    public sealed class DhcpLabCollection
    {
    }

    /// <summary>Builds the lab's dnsmasq and Kea back ends, reached locally (files on this machine) or over the lab's SSH.</summary>
    internal sealed class DhcpLab : IDisposable
    {
        private readonly List<IHostTransport> _transports = new List<IHostTransport>();

        public DhcpLab()
        {
            Env = LabEnvironment.Require();
        }

        public LabEnvironment Env { get; }

        public static readonly Ipv4Network Management = DhcpPlannerTests.Net("10.231.99.0/24");

        public string Path(string server) => server == "kea" ? Env["DEEV_LAB_KEA_CONFIG"] : Env["DEEV_LAB_DNSMASQ_HOSTS"];

        public byte[]? Bytes(string server) => File.Exists(Path(server)) ? File.ReadAllBytes(Path(server)) : null;

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
        public IDhcpBackend Backend(string server, string via, string? pidFile = null, string? socket = null, string? knownHosts = null)
        {
            var t = Transport(via, knownHosts);
            return server == "kea"
                ? new KeaDhcpBackend(t, Env["DEEV_LAB_KEA_CONFIG"], socket ?? Env["DEEV_LAB_KEA_SOCKET"], Env["DEEV_LAB_KEA_NETNS"])
                : new DnsmasqDhcpBackend(t, Env["DEEV_LAB_DNSMASQ_HOSTS"], pidFile ?? Env["DEEV_LAB_DNSMASQ_PID"], Env["DEEV_LAB_SRV_NETNS"], new[] { Management });
        }

        /// <summary>Guest names of the DHCP back-end tests.</summary>
        public const string GuestPrefix = "dhb-";

        /// <summary>A random MAC in 02:de:3e:…, distinct from the lab self-tests' 02:de:3f:… range.</summary>
        public static string RandomMac()
        {
            var b = RandomNumberGenerator.GetBytes(3);
            return $"02:de:3e:{b[0]:x2}:{b[1]:x2}:{b[2]:x2}";
        }

        public static DhcpReservation Want(string mac, string ip, string name) => DhcpFields.Desired(mac, DhcpFields.ParseAddress(ip), name, "lab test");

        /// <summary>Removes what a test reserved, so later tests start from the lab's own state.</summary>
        public void CleanUp(string server, IEnumerable<string> macs)
        {
            var list = macs.ToList();
            if (list.Count > 0) Backend(server, "local").ApplyAsync(new DhcpBatch(removals: list), CancellationToken.None).GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            foreach (var t in _transports) t.Dispose();
        }
    }
}
