using System;
using System.Linq;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Dhcp.Dnsmasq;
using Deevnet.Extended.Core.Dhcp.Kea;
using Deevnet.Extended.Core.Dhcp.OPNsense;
using Deevnet.Extended.Core.OPNsense;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>
    /// The one way to reach a site's DHCP server: the back end for the tier's <c>dhcp</c> section
    /// (<c>dnsmasq</c>, <c>kea</c> or <c>opnsense</c>), using the pool's shared connection for its <c>via</c>.
    /// Other areas (checks, VM cmdlets) call <c>Create(tier, pool).ReadAsync(token)</c> to verify reservations.
    /// </summary>
    public static class DhcpBackendFactory
    {
        public static IDhcpBackend Create(SiteTier tier, TransportPool pool, IOperationLog? log = null)
        {
            if (tier is null) throw new ArgumentNullException(nameof(tier));
            if (pool is null) throw new ArgumentNullException(nameof(pool));
            var spec = tier.Dhcp ?? throw DhcpErrors.NotConfigured($"The tier {tier.SourcePath} has no 'dhcp' section, so there is no DHCP server to talk to.");
            switch (spec.Kind)
            {
                case "dnsmasq":
                    return new DnsmasqDhcpBackend(Transport(tier, pool, spec), spec.Require("hostsFile"), spec.Require("pidFile"), spec.Get("netns"),
                        tier.Segments.Where(s => s.Addressing == SegmentAddressing.Reservation).Select(s => s.Subnet).ToList(), log);
                case "kea":
                    return new KeaDhcpBackend(Transport(tier, pool, spec), spec.Require("configFile"), spec.Require("controlSocket"), spec.Get("netns"), log);
                case "opnsense":
                    return new OpnsenseDhcpBackend(OpnsenseClient.FromSpec(spec, log ?? NullOperationLog.Instance, TimeSpan.FromSeconds(60)), log);
                default:
                    throw DhcpErrors.NotConfigured($"dhcp.kind '{spec.Kind}' is not a DHCP back end the module knows (dnsmasq, kea, opnsense).");
            }
        }

        private static IHostTransport Transport(SiteTier tier, TransportPool pool, BackendSpec spec) =>
            pool.Get(spec.Via ?? throw DhcpErrors.NotConfigured($"dhcp.via is required for kind '{spec.Kind}'."), tier.Access);
    }
}
