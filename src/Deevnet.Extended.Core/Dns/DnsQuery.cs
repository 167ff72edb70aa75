using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DnsClient;
using DnsClient.Protocol;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// Real DNS queries against one server (DnsClient, no cache): how the dnsmasq back end learns about records others
    /// made, how it sees a reload take effect, and what the checks engine can use to prove records resolve.
    /// </summary>
    public sealed class DnsQuery
    {
        private readonly LookupClient _client;

        public DnsQuery(string server, int port, TimeSpan timeout)
        {
            Server = server;
            Port = port;
            if (!IPAddress.TryParse(server, out var address))
                address = System.Net.Dns.GetHostAddresses(server).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
            _client = new LookupClient(new LookupClientOptions(new NameServer(address, port))
            {
                UseCache = false,
                Timeout = timeout,
                Retries = 1,
                ThrowDnsErrors = false,
                UseTcpFallback = true,
                ContinueOnDnsError = false,
                ContinueOnEmptyResponse = false,
            });
        }

        public string Server { get; }
        public int Port { get; }

        /// <summary>
        /// The records of <paramref name="type"/> held at exactly <paramref name="name"/> (a CNAME at the name is returned
        /// as such when asking for A). Fails with <c>DnsServerUnreachable</c> when the server does not answer in time.
        /// </summary>
        public async Task<IReadOnlyList<DnsRecord>> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken)
        {
            IDnsQueryResponse response;
            try
            {
                response = await _client.QueryAsync(name, ToQueryType(type), QueryClass.IN, cancellationToken).ConfigureAwait(false);
            }
            catch (DnsResponseException ex)
            {
                throw new DeevException(DnsErrors.ServerUnreachable, DeevErrorKind.ConnectionError,
                    $"The DNS server {Server}:{Port} did not answer a query for {name} {type}: {ex.Message}", $"{Server}:{Port}", ex)
                {
                    RecommendedAction = "Check that the server runs and that dns.server / dns.port in the tier file point at it.",
                };
            }
            var result = new List<DnsRecord?>();
            foreach (var rr in response.Answers)
            {
                var owner = rr.DomainName.Value.TrimEnd('.').ToLowerInvariant();
                if (owner != name) continue;
                switch (rr)
                {
                    // An answer the module could not have written is skipped, not a failure (DnsRecord.TryRead).
                    case ARecord a: result.Add(DnsRecord.TryRead(owner, DnsRecordType.A, a.Address.ToString(), rr.InitialTimeToLive)); break;
                    case CNameRecord c: result.Add(DnsRecord.TryRead(owner, DnsRecordType.CNAME, c.CanonicalName.Value, rr.InitialTimeToLive)); break;
                    case PtrRecord p: result.Add(DnsRecord.TryRead(owner, DnsRecordType.PTR, p.PtrDomainName.Value, rr.InitialTimeToLive)); break;
                }
            }
            return result.OfType<DnsRecord>().ToList();
        }

        /// <summary>Asks for the SOA of <paramref name="zone"/>: proves the server answers at all (any answer will do).</summary>
        public async Task PingAsync(string zone, CancellationToken cancellationToken)
        {
            try
            {
                await _client.QueryAsync(zone, QueryType.SOA, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            }
            catch (DnsResponseException ex)
            {
                throw new DeevException(DnsErrors.ServerUnreachable, DeevErrorKind.ConnectionError,
                    $"The DNS server {Server}:{Port} did not answer a query for {zone} SOA: {ex.Message}", $"{Server}:{Port}", ex)
                {
                    RecommendedAction = "Check that the server runs and that dns.server / dns.port in the tier file point at it.",
                };
            }
        }

        /// <summary>Runs many queries at once, at most <paramref name="parallel"/> in flight.</summary>
        public async Task<IReadOnlyList<DnsRecord>> QueryManyAsync(IEnumerable<(string Name, DnsRecordType Type)> questions, CancellationToken cancellationToken, int parallel = 32)
        {
            var gate = new SemaphoreSlim(parallel);
            var tasks = questions.Select(async q =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { return await QueryAsync(q.Name, q.Type, cancellationToken).ConfigureAwait(false); }
                finally { gate.Release(); }
            }).ToList();
            var all = await Task.WhenAll(tasks).ConfigureAwait(false);
            return all.SelectMany(x => x).ToList();
        }

        private static QueryType ToQueryType(DnsRecordType type) =>
            type == DnsRecordType.A ? QueryType.A : type == DnsRecordType.PTR ? QueryType.PTR : QueryType.CNAME;
    }
}
