using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DnsClient;
using DnsClient.Protocol;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// Name look-ups for checks. Names in the site zone are asked of the tier's DNS server (the server the tier
    /// manages, which may be the only one that knows them, as in a lab); other names go to the system resolver.
    /// Without a DNS server in the tier, everything goes to the system resolver.
    /// </summary>
    public sealed class CheckResolver
    {
        private readonly ILookupClient? _client;
        private readonly string? _zone;

        /// <param name="server">The tier's DNS server, or null.</param>
        /// <param name="port">Its port.</param>
        /// <param name="zone">Names under this zone are asked of <paramref name="server"/>.</param>
        /// <param name="queryTimeout">Limit of one DNS query (DnsClient's own timer; checks also have theirs).</param>
        public CheckResolver(IPAddress? server, int port, string? zone, TimeSpan queryTimeout)
        {
            Server = server == null ? null : new IPEndPoint(server, port);
            _zone = zone?.TrimEnd('.').ToLowerInvariant();
            if (Server != null)
            {
                _client = new LookupClient(new LookupClientOptions(new NameServer(Server))
                {
                    UseCache = false,
                    Retries = 1,
                    Timeout = queryTimeout,
                    ThrowDnsErrors = false,
                    UseTcpFallback = true,
                    ContinueOnDnsError = false,
                    ContinueOnEmptyResponse = false,
                });
            }
        }

        /// <summary>The tier's DNS server, or null when the tier names none.</summary>
        public IPEndPoint? Server { get; }

        /// <summary>The client for the tier's DNS server (null when there is none).</summary>
        public ILookupClient? Client => _client;

        /// <summary>Addresses of <paramref name="hostOrAddress"/>: a literal address as is, else looked up.</summary>
        public async Task<IPAddress[]> ResolveAsync(string hostOrAddress, CancellationToken cancellationToken)
        {
            if (IPAddress.TryParse(hostOrAddress, out var literal)) return new[] { literal };
            var name = hostOrAddress.TrimEnd('.').ToLowerInvariant();
            if (_client != null && _zone != null && (name == _zone || name.EndsWith("." + _zone, StringComparison.Ordinal)))
            {
                var response = await _client.QueryAsync(name, QueryType.A, QueryClass.IN, cancellationToken).ConfigureAwait(false);
                var addresses = response.Answers.OfType<ARecord>().Select(a => a.Address).ToArray();
                if (addresses.Length == 0)
                {
                    throw new CheckFailedException($"{name} does not resolve at {Server} ({Describe(response)}).");
                }
                return addresses;
            }
            try
            {
                var found = await System.Net.Dns.GetHostAddressesAsync(name, cancellationToken).ConfigureAwait(false);
                return found.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Concat(found.Where(a => a.AddressFamily != AddressFamily.InterNetwork)).ToArray();
            }
            catch (SocketException ex)
            {
                throw new CheckFailedException($"{name} does not resolve: {ex.Message}.");
            }
        }

        /// <summary>An empty or failed DNS answer in words: the response code, or that the answer was empty.</summary>
        public static string Describe(IDnsQueryResponse response)
        {
            if (response.HasError) return response.ErrorMessage;
            return response.Header.ResponseCode == DnsHeaderResponseCode.NoError ? "no record in the answer" : response.Header.ResponseCode.ToString();
        }

    }

    /// <summary>A check found what it looked for to be wrong; the message is the result's detail.</summary>
    public sealed class CheckFailedException : Exception
    {
        public CheckFailedException(string message) : base(message) { }
    }
}
