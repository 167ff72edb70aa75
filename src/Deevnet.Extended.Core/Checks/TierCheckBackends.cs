using System;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// Fills <see cref="CheckBackends"/> from a tier with the real back ends: SSH through the transport pool, host keys
    /// through <see cref="HostKeyProbe"/> and the tier's known_hosts, identity from the companion file, DHCP
    /// reservations, VMs and backups through the DHCP, VM and backup back ends (Checks/Readers).
    /// </summary>
    public static class TierCheckBackends
    {
        public static CheckBackends Create(SiteTier tier, TransportPool pool, CancellationToken runToken)
        {
            var backends = new CheckBackends
            {
                Transports = Backend<ICheckTransports>.Available(new CheckTransportPool((via, _) => Task.FromResult(pool.Get(via, tier.Access)), runToken)),
                HostKeys = Backend<IHostKeyVerifier>.Available(new SshHostKeyVerifier(tier.Access.KnownHostsFile, tier.Access.ConnectTimeout)),
            };
            try
            {
                backends.Identity = Backend<IIdentitySource>.Available(new TierIdentitySource(new IdentityResolver(tier)));
            }
            catch (DeevException ex)
            {
                backends.Identity = Backend<IIdentitySource>.Missing("the identity file cannot be read: " + ex.Message);
            }
            backends.Reservations = tier.Dhcp == null
                ? Backend<IReservationSource>.Missing("the tier has no dhcp section")
                : Backend<IReservationSource>.Available(new Readers.DhcpReservationReader(tier, pool));
            backends.Vms = Backend<IVmInventory>.Available(new Readers.HypervisorVmReader(tier, pool));
            backends.Backups = tier.Backup == null
                ? Backend<IBackupCatalog>.Missing("the tier has no backup section")
                : Backend<IBackupCatalog>.Available(new Readers.BackupCatalogReader(tier, pool));
            AttachReaders?.Invoke(tier, backends);
            return backends;
        }

        /// <summary>
        /// Hook for the DHCP, VM and backup readers: set by the module when those back ends are part of the build, so
        /// this file does not depend on them. Left null, their checks are Skipped with the reason.
        /// </summary>
        public static Action<SiteTier, CheckBackends>? AttachReaders { get; set; }
    }

    /// <summary>Identity from the tier (fixed VMIDs) and its companion identity file (allocated VMIDs).</summary>
    public sealed class TierIdentitySource : IIdentitySource
    {
        private readonly IdentityResolver _resolver;

        public TierIdentitySource(IdentityResolver resolver) => _resolver = resolver;

        public IdentityView? Find(string hostName)
        {
            var host = _resolver.Tier.FindHost(hostName);
            if (host == null) return null;
            var identity = _resolver.Resolve(host);
            if (identity.VmId is not int vmid) return null;
            if (identity.Source == IdentitySource.Fixed) return new IdentityView(vmid, identity.MacAddress!, "vmid in the tier file");
            // The companion file records the MAC as written; the check compares it with f(VMID).
            foreach (var entry in _resolver.Companion.Entries)
            {
                if (entry.HostName == hostName)
                {
                    return new IdentityView(vmid, entry.MacText ?? identity.MacAddress!, $"{_resolver.Companion.Path} line {entry.Line}");
                }
            }
            return new IdentityView(vmid, identity.MacAddress!, "identity file");
        }
    }

    /// <summary>An SSH server must answer with the key recorded in known_hosts; anything else fails with both fingerprints.</summary>
    public sealed class SshHostKeyVerifier : IHostKeyVerifier
    {
        private readonly string _knownHostsPath;
        private readonly TimeSpan _connectTimeout;

        public SshHostKeyVerifier(string knownHostsPath, TimeSpan connectTimeout)
        {
            _knownHostsPath = knownHostsPath;
            _connectTimeout = connectTimeout;
        }

        public async Task<CheckOutcome> VerifyAsync(string host, int port, CancellationToken cancellationToken)
        {
            var report = await HostKeyProbe.GetAsync(host, port, _knownHostsPath, _connectTimeout, cancellationToken).ConfigureAwait(false);
            var problem = report.Check.ToException();
            return problem == null
                ? CheckOutcome.Pass($"answers with the recorded {report.KeyType} {report.Fingerprint} ({report.KnownHostsPath} line {report.KnownHostsLine}).")
                : CheckOutcome.Fail(problem.Message);
        }
    }
}
