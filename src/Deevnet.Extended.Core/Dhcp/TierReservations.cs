using System.Collections.Generic;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>
    /// The reservations the tier asks for: one per host on a segment whose addressing is <c>reservation</c> and whose
    /// MAC is known, plus the hosts that cannot have one yet (no VMID/MAC). What Sync writes and Compare-DeevTier
    /// compares against.
    /// </summary>
    public sealed class TierReservations
    {
        private TierReservations(IReadOnlyList<DhcpReservation> wanted, IReadOnlyList<string> withoutMac, bool identityReadable, string identityPath)
        {
            Wanted = wanted;
            IdentityPath = identityPath;
            WithoutMac = withoutMac;
            IdentityComplete = withoutMac.Count == 0 && identityReadable;
        }

        public IReadOnlyList<DhcpReservation> Wanted { get; }

        /// <summary>Hosts on reservation segments that have no VMID/MAC yet.</summary>
        public IReadOnlyList<string> WithoutMac { get; }

        /// <summary>True when every reservation host's MAC is known, so an owned reservation the tier does not name is really stale.</summary>
        public bool IdentityComplete { get; }

        /// <summary>The identity file the MACs came from (named when it is partly unreadable).</summary>
        public string IdentityPath { get; }

        public static TierReservations Of(SiteTier tier)
        {
            var resolver = new IdentityResolver(tier);
            var wanted = new List<DhcpReservation>();
            var withoutMac = new List<string>();
            foreach (var host in tier.Hosts)
            {
                if (tier.SegmentOf(host).Addressing != SegmentAddressing.Reservation) continue;
                var identity = resolver.Resolve(host);
                if (identity.MacAddress == null) withoutMac.Add(host.Name);
                else wanted.Add(DhcpFields.Desired(identity.MacAddress, host.IPAddress, host.Name, null));
            }
            return new TierReservations(wanted, withoutMac, resolver.Companion.Problems.Count == 0, resolver.Companion.Path);
        }
    }
}
