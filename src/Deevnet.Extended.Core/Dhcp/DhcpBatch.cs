using System.Collections.Generic;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>
    /// What one cmdlet invocation (one pipeline) asks of a DHCP server: reservations to create or update (keyed by MAC),
    /// MACs whose reservations to remove, and whether owned entries not named in <see cref="Upserts"/> go away.
    /// A batch is planned and applied as one transaction.
    /// </summary>
    public sealed class DhcpBatch
    {
        public DhcpBatch(IEnumerable<DhcpReservation>? upserts = null, IEnumerable<string>? removals = null, bool prune = false)
        {
            Upserts = new List<DhcpReservation>(upserts ?? new DhcpReservation[0]);
            Removals = new List<string>(removals ?? new string[0]);
            Prune = prune;
        }

        /// <summary>Desired reservations; MACs normalised. A MAC, address or name twice is refused when planned (<c>ReservationDuplicate</c>).</summary>
        public IReadOnlyList<DhcpReservation> Upserts { get; }

        /// <summary>Normalised MACs whose owned reservation is removed.</summary>
        public IReadOnlyList<string> Removals { get; }

        /// <summary>Remove every owned reservation whose MAC is not in <see cref="Upserts"/> (Sync -Prune).</summary>
        public bool Prune { get; }
    }
}
