using System;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Dns;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Lists the A, PTR and CNAME records on the tier's DNS server: the module's own and, marked IsOwned = false, the
    /// ones others wrote (dnsmasq cannot list those: for it they are looked up by the names asked for). With
    /// <c>-Desired</c>, the records the tier asks for instead (a host's A and PTR, a CNAME per service name), without
    /// contacting the server.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "DeevDnsRecord")]
    [OutputType(typeof(DnsRecord))]
    public sealed class GetDeevDnsRecordCommand : DnsCmdlet
    {
        /// <summary>Record names, host names or FQDNs; wildcards allowed. Bound by property name (Name/HostName).</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string[]? HostName { get; set; }

        /// <summary>Only these record types.</summary>
        [Parameter]
        public DnsRecordType[]? Type { get; set; }

        /// <summary>Only the records the module owns.</summary>
        [Parameter]
        public SwitchParameter Owned { get; set; }

        /// <summary>The records the tier asks for (what Sync-DeevDnsRecord writes), not the server's; no server is contacted.</summary>
        [Parameter]
        public SwitchParameter Desired { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var patterns = HostName?.Select(h => h.Contains(".") ? h : tier.FqdnOf(h)).Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
            var exact = HostName?.Where(h => !WildcardPattern.ContainsWildcardCharacters(h)).Select(h => DnsRecord.NormalizeName(h.Contains(".") ? h : tier.FqdnOf(h))).ToList();
            var records = Desired ? DesiredRecords.FromTier(tier) : WithBackend(tier, backend => RunAsync(token => backend.ReadAsync(exact, token)))?.All;
            if (records == null) return;
            foreach (var r in records.OrderBy(r => r.Type).ThenBy(r => r.Name, StringComparer.Ordinal))
            {
                if (Owned && !r.IsOwned) continue;
                if (Type != null && Type.Length > 0 && !Type.Contains(r.Type)) continue;
                if (patterns != null && !patterns.Any(p => p.IsMatch(r.Name) || (r.Type != DnsRecordType.A && p.IsMatch(r.Value)))) continue;
                WriteObject(r);
            }
        }
    }
}
