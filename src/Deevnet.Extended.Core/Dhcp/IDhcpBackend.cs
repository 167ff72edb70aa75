using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>
    /// A site's DHCP server as the module sees it: reservations to read, and batches to plan and apply.
    /// Get one with <c>DhcpBackendFactory.Create(tier, pool)</c>. Every implementation applies a batch as one
    /// transaction (one read, one validated write, one reload) and never changes an entry it does not own.
    /// </summary>
    public interface IDhcpBackend
    {
        /// <summary>Names the server in plans, results and errors, e.g. <c>dnsmasq ssh://root@10.231.0.2</c>.</summary>
        string Server { get; }

        /// <summary>Every reservation the server holds, owned or not (<see cref="DhcpReservation.IsOwned"/>), in MAC order.</summary>
        Task<IReadOnlyList<DhcpReservation>> ReadAsync(CancellationToken cancellationToken);

        /// <summary>What <see cref="ApplyAsync"/> would do now; changes nothing (-WhatIf). Throws <see cref="ReservationConflictException"/>.</summary>
        Task<DhcpPlan> PlanAsync(DhcpBatch batch, CancellationToken cancellationToken);

        /// <summary>
        /// Plans the batch against what the server holds at that moment (under the server-side lock, so concurrent
        /// batches serialise) and applies it in one transaction; returns the plan that was applied. With no changes,
        /// nothing is written or reloaded. On a conflict nothing is applied.
        /// </summary>
        Task<DhcpPlan> ApplyAsync(DhcpBatch batch, CancellationToken cancellationToken);
    }
}
