using System.Collections.Generic;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// The optional <c>isolation</c> section: a vantage machine on a tenant segment from which the management hosts'
    /// ports must NOT be reachable. <c>Test-DeevExtendedTier</c> probes them from there (check <c>isolation-vantage</c>).
    /// </summary>
    public sealed class IsolationSettings
    {
        public IsolationSettings(Via vantage, IReadOnlyList<int> ports, string? segment = null)
        {
            Vantage = vantage;
            Ports = ports;
            Segment = segment;
        }

        /// <summary>Where the probes run: a machine on a tenant segment (<c>ssh://user@host</c>).</summary>
        public Via Vantage { get; }

        /// <summary>Management ports that must be unreachable from the vantage (default 22).</summary>
        public IReadOnlyList<int> Ports { get; }

        /// <summary>The tenant segment the vantage sits on, when the tier names it (shown in details).</summary>
        public string? Segment { get; }
    }
}
