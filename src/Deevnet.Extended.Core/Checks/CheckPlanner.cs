using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// Turns a tier into the list of checks to run: for every host the derived host checks (DNS, DHCP, identity, VM,
    /// isolation), then for each of its services the declared checks and the derived service checks (CNAMEs, backup).
    /// Planning touches no server; reads shared by many checks (the reservation list) happen once, lazily, under the
    /// run's token.
    /// </summary>
    public sealed partial class CheckPlanner
    {
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

        private readonly SiteTier _tier;
        private readonly CheckBackends _backends;
        private readonly CheckResolver _resolver;
        private readonly TimeSpan _defaultTimeout;
        private readonly Func<DateTime> _utcNow;
        private readonly object _lock = new object();
        private Task<IReadOnlyList<ReservationView>>? _reservations;
        private CancellationToken _runToken;

        public CheckPlanner(SiteTier tier, CheckBackends backends, CheckResolver resolver, TimeSpan? defaultTimeout = null, Func<DateTime>? utcNow = null)
        {
            _tier = tier;
            _backends = backends;
            _resolver = resolver;
            _defaultTimeout = defaultTimeout ?? DefaultTimeout;
            _utcNow = utcNow ?? (() => DateTime.UtcNow);
        }

        /// <summary>A resolver for the tier's <c>dns.server</c>/<c>dns.port</c> (system resolver only when it names none).</summary>
        public static CheckResolver ResolverFor(SiteTier tier, TimeSpan queryTimeout)
        {
            IPAddress? server = null;
            var port = 53;
            if (tier.Dns?.Get("server") is string s && IPAddress.TryParse(s, out var ip)) server = ip;
            if (tier.Dns?.Get("port") is string p && int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) port = n;
            return new CheckResolver(server, port, tier.Dns?.Get("zone") ?? tier.Site.Domain, queryTimeout);
        }

        /// <summary>Plans every selected check. <paramref name="runToken"/> bounds the shared reads (Ctrl+C).</summary>
        public IReadOnlyList<CheckItem> Plan(CheckSelection selection, CancellationToken runToken = default)
        {
            _runToken = runToken;
            var items = new List<CheckItem>();
            foreach (var host in _tier.Hosts)
            {
                var services = _tier.ServicesOn(host.Name).ToList();
                if (selection.IncludesHost(host, services)) items.AddRange(HostChecks(host));
                foreach (var service in services.Where(selection.IncludesService))
                {
                    items.AddRange(ServiceChecks(service, host));
                }
            }
            return items.Where(i => selection.IncludesCheck(i.Check)).ToList();
        }

        private CheckItem HostItem(MgmtHost host, string check, string target, Func<CancellationToken, Task<CheckOutcome>> run, TimeSpan? timeout = null) =>
            new CheckItem("", host.Name, "", check, target, timeout ?? _defaultTimeout, run);

        private CheckItem HostSkip(MgmtHost host, string check, string target, string reason) =>
            CheckItem.Skipped("", host.Name, "", check, target, reason);

        /// <summary>The host's identity: from the identity file, else from a VMID fixed in the tier, else null.</summary>
        private IdentityView? IdentityOf(MgmtHost host)
        {
            var recorded = _backends.Identity.Value?.Find(host.Name);
            if (recorded != null) return recorded;
            return host.FixedVmId is int vmid ? new IdentityView(vmid, MacFor(_tier.Site.MacNamespace, vmid), "vmid in the tier file") : null;
        }

        /// <summary>MAC = namespace + VMID as three big-endian octets, lowercase (docs/tier-file.md, Identity).</summary>
        public static string MacFor(string macNamespace, int vmId) =>
            string.Format(CultureInfo.InvariantCulture, "{0}:{1:x2}:{2:x2}:{3:x2}", macNamespace.ToLowerInvariant(), (vmId >> 16) & 0xff, (vmId >> 8) & 0xff, vmId & 0xff);

        /// <summary>The reservation list, read once per run and shared by every reservation check.</summary>
        private Task<IReadOnlyList<ReservationView>> ReservationsAsync(IReservationSource source, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _reservations ??= Task.Run(() => source.ReadAsync(_runToken), _runToken);
            }
            return _reservations.WaitAsync(cancellationToken);
        }

        private static string Seconds(TimeSpan span) => span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : $"{span.TotalSeconds:0.#} s";
    }
}
