using System.Collections.Generic;
using System.Linq;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// A VM as the hypervisor reports it. This is the type the checks engine reads (MAC, start-on-boot), so it only
    /// ever grows: properties are never renamed or removed.
    /// </summary>
    public sealed class VmInfo
    {
        public VmInfo(string name, int vmId, string hypervisor, string node, string? macAddress, string? bridge, int? vlan,
            string state, bool startOnBoot, int? startupOrder, int cores, int memoryMb, IReadOnlyList<VmDisk> disks,
            bool isTemplate = false, IReadOnlyDictionary<string, string>? settings = null, IReadOnlyList<string>? restartPending = null)
        {
            Name = name;
            VmId = vmId;
            Hypervisor = hypervisor;
            Node = node;
            MacAddress = macAddress?.ToLowerInvariant();
            Bridge = bridge;
            Vlan = vlan;
            State = state;
            StartOnBoot = startOnBoot;
            StartupOrder = startupOrder;
            Cores = cores;
            MemoryMb = memoryMb;
            Disks = disks;
            IsTemplate = isTemplate;
            Settings = settings ?? new Dictionary<string, string>();
            RestartPending = restartPending ?? new List<string>();
        }

        public string Name { get; }
        public int VmId { get; }

        /// <summary>The tier's name of the hypervisor.</summary>
        public string Hypervisor { get; }

        /// <summary>The PVE node, or the libvirt connection URI.</summary>
        public string Node { get; }

        /// <summary>MAC of the first NIC, lowercase (PVE reports it uppercase), or null without a NIC.</summary>
        public string? MacAddress { get; }
        public string? Bridge { get; }
        public int? Vlan { get; }

        /// <summary><c>running</c>, <c>stopped</c>, <c>paused</c>, … as the hypervisor says.</summary>
        public string State { get; }
        public bool Running => State == "running";
        public bool StartOnBoot { get; }
        public int? StartupOrder { get; }
        public int Cores { get; }
        public int MemoryMb { get; }
        public IReadOnlyList<VmDisk> Disks { get; }
        public bool IsTemplate { get; }

        /// <summary>Every setting the module manages, as read back (back-end specific keys, e.g. <c>net0</c>, <c>ipconfig0</c>).</summary>
        public IReadOnlyDictionary<string, string> Settings { get; }

        /// <summary>
        /// Settings written to the running VM that take effect only when it restarts (PVE keeps them pending, or the
        /// cloud-init drive was made from older values). <see cref="Settings"/> holds the values in effect now.
        /// </summary>
        public IReadOnlyList<string> RestartPending { get; }
        public bool RestartRequired => RestartPending.Count > 0;

        public VmDisk? FindDiskBySerial(string serial) => Disks.FirstOrDefault(d => d.Serial == serial);

        public override string ToString() => $"{Name} ({VmId}) on {Hypervisor}: {State}";
    }

    /// <summary>One disk of a VM.</summary>
    public sealed class VmDisk
    {
        public VmDisk(string slot, long sizeBytes, string? serial, string? source)
        {
            Slot = slot;
            SizeBytes = sizeBytes;
            Serial = serial;
            Source = source;
        }

        /// <summary><c>scsi0</c>, <c>vda</c>, …</summary>
        public string Slot { get; }
        public long SizeBytes { get; }
        public double SizeGb => SizeBytes / 1073741824.0;
        public string? Serial { get; }

        /// <summary>Volume id or file path.</summary>
        public string? Source { get; }

        public override string ToString() => $"{Slot} {SizeGb:0.#}G{(Serial != null ? " serial=" + Serial : "")}";
    }
}
