using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Checks.Readers
{
    /// <summary>Reservations as the tier's DHCP server holds them, through the DHCP back end's read API.</summary>
    public sealed class DhcpReservationReader : IReservationSource
    {
        private readonly SiteTier _tier;
        private readonly TransportPool _pool;

        public DhcpReservationReader(SiteTier tier, TransportPool pool)
        {
            _tier = tier;
            _pool = pool;
        }

        public string Description => $"{_tier.Dhcp!.Kind} ({_tier.Dhcp.Via?.ToString() ?? _tier.Dhcp.Get("endpoint")})";

        public async Task<IReadOnlyList<ReservationView>> ReadAsync(CancellationToken cancellationToken)
        {
            // Created here, not at planning: a back end that cannot be set up fails the reservation checks with its reason.
            var backend = DhcpBackendFactory.Create(_tier, _pool);
            var all = await backend.ReadAsync(cancellationToken).ConfigureAwait(false);
            return all.Select(r => new ReservationView(r.ClientId, r.IPAddress, r.Name)).ToList();
        }
    }
}
