using System;
using System.IO;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Lab;

namespace Deevnet.Extended.Tests.Dns
{
    /// <summary>
    /// The space of DnsBackendLabTests (tests/lab/spaces, "dns"): the domain dns.lab.deevnet.test as its own zone in
    /// BIND and PowerDNS, its own /24s 10.231.97.0/24 and 10.231.96.0/24 (their reverse zones too), its own Unbound
    /// include and dnsmasq records and CNAME files, and a hand-made record handmade.dns.lab.deevnet.test in all four.
    /// Syncing with prune there touches nothing of anyone else's.
    /// </summary>
    public sealed class DnsSpace : LabSpaceFixture
    {
        public DnsSpace() : base("dns")
        {
        }
    }

    /// <summary>
    /// Tier variants of the space, one per DNS back end: the space's tier (the lab tier rewritten into it) with its
    /// <c>dns:</c> section replaced by one that points at the lab's Unbound (the space's include), BIND or PowerDNS.
    /// dnsmasq is the space's tier as is (its own records and CNAME files).
    /// </summary>
    internal static class DnsLab
    {
        public static readonly string[] Kinds = { "dnsmasq", "unbound", "bind", "powerdns" };

        /// <summary>The PowerDNS API as the lab server sees it (the tiers reach it through SSH).</summary>
        public const string PowerDnsEndpoint = "http://127.0.0.1:8081";

        /// <summary>Writes the variant tier for <paramref name="kind"/> into a fresh folder; <paramref name="edit"/> may change the text.</summary>
        public static string WriteTier(LabSpace space, string kind, Func<string, string>? edit = null, string? dnsOverride = null)
        {
            var lab = LabEnvironment.Require();
            var text = File.ReadAllText(space.Tier);
            var dns = dnsOverride ?? DnsSection(kind, lab, space);
            if (dns != null) text = Regex.Replace(text, @"^dns:\s*\n(?:[ \t#].*\n|\s*\n)*", dns, RegexOptions.Multiline);
            if (edit != null) text = edit(text);
            var dir = Path.Combine(space.Root, "tiers", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, kind + ".tier.yaml");
            File.WriteAllText(path, text);
            return path;
        }

        public static string? DnsSection(string kind, LabEnvironment lab, LabSpace space)
        {
            var host = lab["DEEV_LAB_SSH_HOST"];
            Environment.SetEnvironmentVariable("DEEV_LAB_PDNS_API_KEY", lab["DEEV_LAB_PDNS_API_KEY"]);
            switch (kind)
            {
                case "dnsmasq": return null;
                case "unbound":
                    return $"dns:\n  kind: unbound\n  via: \"ssh://root@{host}\"\n  server: {host}\n  port: {lab["DEEV_LAB_UNBOUND_PORT"]}\n" +
                           $"  include: {space.UnboundInclude}\n  controlConfig: {lab["DEEV_LAB_UNBOUND_CONF"]}\n\n";
                case "bind":
                    return $"dns:\n  kind: bind\n  via: \"ssh://root@{host}\"\n  server: {host}\n  port: {lab["DEEV_LAB_BIND_PORT"]}\n  tsigKeyFile: {lab["DEEV_LAB_BIND_TSIG"]}\n\n";
                case "powerdns":
                    // As in production: the http-only API on the server's loopback, through an SSH tunnel over via.
                    return $"dns:\n  kind: powerdns\n  via: \"ssh://root@{host}\"\n  server: {host}\n  port: {lab["DEEV_LAB_PDNS_PORT"]}\n  endpoint: {PowerDnsEndpoint}\n  apiKeyEnv: DEEV_LAB_PDNS_API_KEY\n\n";
                default: throw new ArgumentOutOfRangeException(nameof(kind));
            }
        }

        public static SiteTier Load(LabSpace space, string kind, Func<string, string>? edit = null) => TierLoader.Load(WriteTier(space, kind, edit));

        /// <summary>The DNS port of the back end in the lab.</summary>
        public static DnsQuery Query(SiteTier tier)
        {
            var spec = tier.Dns!;
            return new DnsQuery(spec.Get("server")!, int.Parse(spec.Get("port") ?? "53"), TimeSpan.FromSeconds(3));
        }

        public static IDnsBackend Backend(SiteTier tier, TransportPool pool, TimeSpan? timeout = null) =>
            DnsBackendFactory.Create(tier, pool, null, timeout);
    }
}
