using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// The record set a tier asks for, whatever the back end: for every host an A record
    /// <c>&lt;host&gt;.&lt;domain&gt;</c> → its address and the PTR back, for every service name a CNAME
    /// <c>&lt;name&gt;.&lt;domain&gt;</c> → the host's FQDN. Pure and ordered, so the same tier always yields
    /// the same list. Back ends drop PTRs for reverse zones they do not serve and say so.
    /// </summary>
    public static class DesiredRecords
    {
        public static IReadOnlyList<DnsRecord> FromTier(SiteTier tier)
        {
            var records = new List<DnsRecord>();
            foreach (var host in tier.Hosts)
            {
                records.AddRange(ForHost(tier.FqdnOf(host.Name), host.IPAddress.ToString()));
            }
            foreach (var service in tier.Services)
            {
                foreach (var name in service.Names)
                {
                    records.Add(ForAlias(name + "." + tier.Site.Domain, tier.FqdnOf(service.Host)));
                }
            }
            return Sort(records);
        }

        /// <summary>The A record of a host and the PTR that points back at it.</summary>
        public static IEnumerable<DnsRecord> ForHost(string fqdn, string ipAddress, int ttl = DnsRecord.DefaultTtl)
        {
            var a = DnsRecord.Create(fqdn, DnsRecordType.A, ipAddress, ttl);
            yield return a;
            yield return DnsRecord.Create(DnsRecord.ReverseName(System.Net.IPAddress.Parse(a.Value)), DnsRecordType.PTR, a.Name, ttl);
        }

        /// <summary>A service alias: <paramref name="alias"/> CNAME <paramref name="target"/>.</summary>
        public static DnsRecord ForAlias(string alias, string target, int ttl = DnsRecord.DefaultTtl) =>
            DnsRecord.Create(alias, DnsRecordType.CNAME, target, ttl);

        /// <summary>Type, then name, then value: the order plans and files are written in.</summary>
        public static IReadOnlyList<DnsRecord> Sort(IEnumerable<DnsRecord> records) =>
            records.OrderBy(r => r.Type).ThenBy(r => r.Name, System.StringComparer.Ordinal).ThenBy(r => r.Value, System.StringComparer.Ordinal).ToList();
    }
}
