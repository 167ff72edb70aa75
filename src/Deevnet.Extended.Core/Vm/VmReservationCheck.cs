using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// Identity before first boot: a VM on a <c>reservation</c> segment is only built when the site's DHCP server already
    /// holds its reservation (MAC → address); otherwise the guest would take a pool lease on first boot. There is no
    /// switch around this: the fix is to create the reservation. The server is read once per batch.
    /// </summary>
    public sealed class VmReservationCheck
    {
        private readonly Func<CancellationToken, Task<IReadOnlyList<DhcpReservation>>> _read;
        private readonly string _server;
        private readonly string _tierPath;
        private IReadOnlyList<DhcpReservation>? _cache;

        public VmReservationCheck(IDhcpBackend dhcp, string tierPath)
            : this(dhcp.ReadAsync, dhcp.Server, tierPath)
        {
        }

        public VmReservationCheck(Func<CancellationToken, Task<IReadOnlyList<DhcpReservation>>> read, string server, string tierPath)
        {
            _read = read;
            _server = server;
            _tierPath = tierPath;
        }

        /// <summary>Throws <c>ReservationMissing</c> unless the server reserves the spec's address for its MAC.</summary>
        public async Task EnsureAsync(VmSpec spec, CancellationToken cancellationToken)
        {
            if (!spec.CloudInit.Dhcp) return; // static segments: cloud-init gives the address
            _cache ??= await _read(cancellationToken).ConfigureAwait(false);
            var mine = _cache.Where(r => string.Equals(r.ClientId, spec.MacAddress, StringComparison.OrdinalIgnoreCase)).ToList();
            if (mine.Any(r => r.IPAddress.Equals(spec.IPAddress))) return;
            var found = mine.Count == 0 ? "holds no reservation for it" : "reserves " + string.Join(", ", mine.Select(r => r.IPAddress)) + " for it instead";
            throw VmErrors.Create(VmErrors.ReservationMissing, DeevErrorKind.ObjectNotFound,
                $"{spec.Name} sits on the reservation segment '{spec.Segment}', but the DHCP server {_server} {found} (MAC {spec.MacAddress} → {spec.IPAddress}). Its identity must exist before the VM first boots; nothing was created.",
                spec.Name,
                $"Create the reservation first: Get-DeevMgmtHost -Name {spec.Name} -TierPath '{_tierPath}' | Set-DeevDhcpReservation");
        }

        /// <summary>Forgets what was read (after the caller changed reservations).</summary>
        public void Refresh() => _cache = null;
    }
}
