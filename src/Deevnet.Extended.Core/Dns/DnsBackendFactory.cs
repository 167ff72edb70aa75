using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.OPNsense;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>Everything a back end takes from the tier's <c>dns</c> section, resolved once.</summary>
    public sealed class DnsBackendSettings
    {
        public DnsBackendSettings(SiteTier tier, BackendSpec spec, IHostTransport? transport, IOperationLog log, TimeSpan timeout)
        {
            Tier = tier;
            Spec = spec;
            Transport = transport;
            Log = log;
            Timeout = timeout;
            Zone = DnsRecord.NormalizeName(spec.Get("zone") ?? tier.Site.Domain, "dns.zone");
            ServerAddress = spec.Get("server") ?? (spec.Via != null && !spec.Via.IsLocal ? spec.Via.Host : "127.0.0.1");
            Port = int.TryParse(spec.Get("port"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 53;
        }

        public SiteTier Tier { get; }
        public BackendSpec Spec { get; }

        /// <summary>Where commands run (null for the HTTP back ends, except PowerDNS reached through via).</summary>
        public IHostTransport? Transport { get; }
        public IOperationLog Log { get; }

        /// <summary>Limit of one server operation (a command, a query, an HTTP call).</summary>
        public TimeSpan Timeout { get; }

        /// <summary>The forward zone (<c>dns.zone</c>, default the site domain).</summary>
        public string Zone { get; }

        /// <summary>Address DNS queries (and nsupdate) go to.</summary>
        public string ServerAddress { get; }
        public int Port { get; }

        public IHostTransport RequireTransport() => Transport ?? throw new InvalidOperationException("This DNS back end needs a transport.");

        /// <summary>
        /// The reverse zones the tier's segments fall in, most specific first (a /24 gives <c>c.b.a.in-addr.arpa</c>,
        /// then <c>b.a.in-addr.arpa</c> and <c>a.in-addr.arpa</c>): a server holds PTRs in whichever of them it serves.
        /// </summary>
        public IReadOnlyList<string> ReverseZoneCandidates()
        {
            var zones = new List<string>();
            foreach (var seg in Tier.Segments.Where(s => !s.IsTenant))
            {
                var b = seg.Subnet.NetworkAddress.GetAddressBytes();
                var octets = Math.Max(1, seg.Subnet.PrefixLength / 8);
                for (var n = Math.Min(3, octets); n >= 1; n--)
                    zones.Add(string.Join(".", b.Take(n).Reverse().Select(x => x.ToString(CultureInfo.InvariantCulture))) + ".in-addr.arpa");
            }
            foreach (var host in Tier.Hosts)
            {
                var b = host.IPAddress.GetAddressBytes();
                for (var n = 3; n >= 1; n--)
                    zones.Add(string.Join(".", b.Take(n).Reverse().Select(x => x.ToString(CultureInfo.InvariantCulture))) + ".in-addr.arpa");
            }
            return zones.Distinct(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>
    /// Makes the back end the tier's <c>dns</c> section names. Callers (cmdlets, the checks engine) use only this,
    /// <see cref="DesiredRecords"/> and <see cref="IDnsBackend"/>.
    /// </summary>
    public static class DnsBackendFactory
    {
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

        /// <summary>
        /// Creates the back end for <paramref name="tier"/>. <paramref name="transportFor"/> hands out the connection to a
        /// server (a TransportPool's getter); it is not called for the HTTP back ends, except PowerDNS with a via (its SSH tunnel). The transport stays the caller's.
        /// </summary>
        public static IDnsBackend Create(SiteTier tier, Func<Via, IHostTransport> transportFor, IOperationLog? log = null, TimeSpan? timeout = null)
        {
            var spec = tier.Dns ?? throw new DeevException(DnsErrors.NotConfigured, DeevErrorKind.ObjectNotFound,
                $"The tier file {tier.SourcePath} has no 'dns' section, so there is no DNS server to write to.", tier.SourcePath);
            // The file and command back ends run on the server of via; PowerDNS reaches its loopback API through it (SSH tunnel).
            var needsTransport = spec.Kind == "dnsmasq" || spec.Kind == "unbound" || spec.Kind == "bind" || (spec.Kind == "powerdns" && spec.Via != null);
            var transport = needsTransport ? transportFor(spec.Via ?? Via.Local) : null;
            var settings = new DnsBackendSettings(tier, spec, transport, log ?? NullOperationLog.Instance, timeout ?? DefaultTimeout);
            switch (spec.Kind)
            {
                case "dnsmasq": return new DnsmasqDnsBackend(settings);
                case "unbound": return new UnboundDnsBackend(settings);
                case "bind": return new BindDnsBackend(settings);
                case "powerdns": return new PowerDnsBackend(settings);
                case "opnsense": return new OpnsenseDnsBackend(settings, OpnsenseClient.FromSpec(spec, settings.Log, settings.Timeout));
                default:
                    throw new DeevException(DnsErrors.NotConfigured, DeevErrorKind.InvalidData, $"dns.kind '{spec.Kind}' is not a DNS back end the module knows.", spec.Kind);
            }
        }

        /// <summary>Creates the back end for <paramref name="tier"/>, reaching its server through <paramref name="pool"/>.</summary>
        public static IDnsBackend Create(SiteTier tier, TransportPool pool, IOperationLog? log = null, TimeSpan? timeout = null) =>
            Create(tier, via => pool.Get(via, tier.Access), log, timeout);
    }
}
