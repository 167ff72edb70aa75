using System;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DnsClient;
using DnsClient.Protocol;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>DNS checks against one server: A (declared <c>dns</c> and derived forward), PTR (reverse) and CNAME.</summary>
    public static class DnsProbe
    {
        /// <summary><paramref name="name"/> resolves (directly or through CNAMEs) to <paramref name="expected"/>.</summary>
        public static async Task<CheckOutcome> CheckAddressAsync(ILookupClient client, string server, string name, IPAddress expected, CancellationToken cancellationToken)
        {
            var response = await client.QueryAsync(name, QueryType.A, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            var addresses = response.Answers.OfType<ARecord>().Select(a => a.Address).ToList();
            if (addresses.Count == 0) return CheckOutcome.Fail($"{name} has no A record at {server} ({CheckResolver.Describe(response)}); expected {expected}.");
            if (!addresses.Contains(expected))
            {
                return CheckOutcome.Fail($"{name} resolves to {string.Join(", ", addresses)} at {server}, expected {expected}.");
            }
            return CheckOutcome.Pass($"{name} → {string.Join(", ", addresses)} at {server}.");
        }

        /// <summary>The PTR record of <paramref name="address"/> names <paramref name="expectedFqdn"/>.</summary>
        public static async Task<CheckOutcome> CheckReverseAsync(ILookupClient client, string server, IPAddress address, string expectedFqdn, CancellationToken cancellationToken)
        {
            var response = await client.QueryReverseAsync(address, cancellationToken).ConfigureAwait(false);
            var names = response.Answers.OfType<PtrRecord>().Select(p => Bare(p.PtrDomainName.Value)).ToList();
            if (names.Count == 0) return CheckOutcome.Fail($"{address} has no PTR record at {server} ({CheckResolver.Describe(response)}); expected {expectedFqdn}.");
            if (!names.Contains(Bare(expectedFqdn)))
            {
                return CheckOutcome.Fail($"{address} points back to {string.Join(", ", names)} at {server}, expected {expectedFqdn}.");
            }
            return CheckOutcome.Pass($"{address} → {expectedFqdn} at {server}.");
        }

        /// <summary><paramref name="name"/> is a CNAME of <paramref name="hostFqdn"/> and so ends at <paramref name="hostAddress"/>.</summary>
        public static async Task<CheckOutcome> CheckAliasAsync(ILookupClient client, string server, string name, string hostFqdn, IPAddress hostAddress, CancellationToken cancellationToken)
        {
            var response = await client.QueryAsync(name, QueryType.A, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            var cname = response.Answers.OfType<CNameRecord>().FirstOrDefault(c => Bare(c.DomainName.Value) == Bare(name));
            var addresses = response.Answers.OfType<ARecord>().Select(a => a.Address).ToList();
            if (cname == null)
            {
                return addresses.Count == 0
                    ? CheckOutcome.Fail($"{name} does not resolve at {server} ({CheckResolver.Describe(response)}); expected a CNAME to {hostFqdn}.")
                    : CheckOutcome.Fail($"{name} is not a CNAME: it resolves directly to {string.Join(", ", addresses)} at {server}; expected a CNAME to {hostFqdn}.");
            }
            var target = Bare(cname.CanonicalName.Value);
            if (target != Bare(hostFqdn)) return CheckOutcome.Fail($"{name} is a CNAME to {target} at {server}, expected {hostFqdn}.");
            if (!addresses.Contains(hostAddress))
            {
                var got = addresses.Count == 0 ? "nothing" : string.Join(", ", addresses);
                return CheckOutcome.Fail($"{name} → {hostFqdn} at {server}, but that resolves to {got}, expected {hostAddress}.");
            }
            return CheckOutcome.Pass($"{name} → {hostFqdn} → {hostAddress} at {server}.");
        }

        private static string Bare(string name) => name.TrimEnd('.').ToLowerInvariant();
    }
}
