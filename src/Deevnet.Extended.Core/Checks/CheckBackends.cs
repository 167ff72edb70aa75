using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// The back ends derived checks read from. Each is either available or missing with a reason; a check whose
    /// back end is missing is Skipped with that reason, never Passed. The cmdlet fills these from the tier and the
    /// back-end factories; tests fill them with real servers or stand-ins.
    /// </summary>
    public sealed class CheckBackends
    {
        public Backend<ICheckTransports> Transports { get; set; } = Backend<ICheckTransports>.Missing("running commands on hosts is not available in this build");
        public Backend<IHostKeyVerifier> HostKeys { get; set; } = Backend<IHostKeyVerifier>.Missing("SSH host-key checking is not available in this build");
        public Backend<IReservationSource> Reservations { get; set; } = Backend<IReservationSource>.Missing("reading DHCP reservations is not available in this build");
        public Backend<IIdentitySource> Identity { get; set; } = Backend<IIdentitySource>.Missing("the identity file is not available in this build");
        public Backend<IVmInventory> Vms { get; set; } = Backend<IVmInventory>.Missing("reading VMs from hypervisors is not available in this build");
        public Backend<IBackupCatalog> Backups { get; set; } = Backend<IBackupCatalog>.Missing("reading the backup catalog is not available in this build");
    }

    /// <summary>A back end, or the reason there is none.</summary>
    public sealed class Backend<T> where T : class
    {
        private Backend(T? value, string? missingReason)
        {
            Value = value;
            MissingReason = missingReason;
        }

        public T? Value { get; }
        public string? MissingReason { get; }
        public bool IsAvailable => Value != null;

        public static Backend<T> Available(T value) => new Backend<T>(value ?? throw new ArgumentNullException(nameof(value)), null);
        public static Backend<T> Missing(string reason) => new Backend<T>(null, reason);
    }

    /// <summary>Transports to hosts, one connection per machine for the whole run (a transport pool).</summary>
    public interface ICheckTransports
    {
        Task<IHostTransport> GetAsync(Via via, CancellationToken cancellationToken);
    }

    /// <summary>Checks that an SSH server answers with the host key recorded for it (known_hosts).</summary>
    public interface IHostKeyVerifier
    {
        /// <summary>Passed with the fingerprint, or Failed naming the recorded and the offered fingerprints.</summary>
        Task<CheckOutcome> VerifyAsync(string host, int port, CancellationToken cancellationToken);
    }

    /// <summary>A DHCP reservation as the server holds it.</summary>
    public sealed class ReservationView
    {
        public ReservationView(string macAddress, IPAddress ipAddress, string? name)
        {
            MacAddress = macAddress.ToLowerInvariant();
            IPAddress = ipAddress;
            Name = name;
        }

        /// <summary>Lowercase, colon-separated.</summary>
        public string MacAddress { get; }
        public IPAddress IPAddress { get; }
        public string? Name { get; }

        public override string ToString() => $"{MacAddress} → {IPAddress}" + (Name != null ? $" ({Name})" : "");
    }

    /// <summary>Reads every reservation from the site's DHCP server (once per run).</summary>
    public interface IReservationSource
    {
        /// <summary>Where the reservations come from, for details (e.g. <c>dnsmasq via ssh://…</c>).</summary>
        string Description { get; }
        Task<IReadOnlyList<ReservationView>> ReadAsync(CancellationToken cancellationToken);
    }

    /// <summary>A host's allocated identity.</summary>
    public sealed class IdentityView
    {
        public IdentityView(int vmId, string macAddress, string source)
        {
            VmId = vmId;
            MacAddress = macAddress.ToLowerInvariant();
            Source = source;
        }

        public int VmId { get; }
        public string MacAddress { get; }

        /// <summary>Where it is recorded (the identity file, or the tier's fixed <c>vmid</c>).</summary>
        public string Source { get; }
    }

    /// <summary>Allocated identities (the tier's companion identity file).</summary>
    public interface IIdentitySource
    {
        /// <summary>The host's identity, or null when none is allocated yet.</summary>
        IdentityView? Find(string hostName);
    }

    /// <summary>A VM as its hypervisor reports it.</summary>
    public sealed class VmView
    {
        public VmView(string name, int? vmId, IReadOnlyList<string> macAddresses, bool startOnBoot, string state)
        {
            Name = name;
            VmId = vmId;
            MacAddresses = macAddresses;
            StartOnBoot = startOnBoot;
            State = state;
        }

        public string Name { get; }
        public int? VmId { get; }
        public IReadOnlyList<string> MacAddresses { get; }
        public bool StartOnBoot { get; }
        public string State { get; }
    }

    /// <summary>Reads management VMs from hypervisors.</summary>
    public interface IVmInventory
    {
        /// <summary>The host's VM on its hypervisor, or null when there is none.</summary>
        Task<VmView?> FindAsync(Hypervisor hypervisor, MgmtHost host, CancellationToken cancellationToken);
    }

    /// <summary>A backup in the store.</summary>
    public sealed class BackupView
    {
        public BackupView(string id, DateTimeOffset created)
        {
            Id = id;
            Created = created;
        }

        public string Id { get; }
        public DateTimeOffset Created { get; }
    }

    /// <summary>The backup store's catalog.</summary>
    public interface IBackupCatalog
    {
        /// <summary>The newest backup of the service whose manifest verifies, or null when there is none yet.</summary>
        Task<BackupView?> NewestGoodAsync(string service, CancellationToken cancellationToken);
    }
}
