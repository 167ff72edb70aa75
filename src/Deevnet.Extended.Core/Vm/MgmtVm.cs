namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// What the VM cmdlets emit: the VM as the hypervisor has it plus the host's identity, named so that it binds by
    /// property name to Set-DeevDhcpReservation (<c>Name</c>, <c>MacAddress</c>, <c>IPAddress</c>) and
    /// Test-DeevExtendedTier (<c>HostName</c>, <c>TierPath</c>).
    /// </summary>
    public sealed class MgmtVm
    {
        public MgmtVm(string name, int vmId, string? macAddress, string? ipAddress, string? segment, string? fqdn, string tierPath,
            string hypervisor, VmInfo? vm, bool inTier, string? changes = null)
        {
            Name = name;
            VmId = vmId;
            MacAddress = macAddress;
            IPAddress = ipAddress;
            Segment = segment;
            Fqdn = fqdn;
            TierPath = tierPath;
            Hypervisor = hypervisor;
            Vm = vm;
            InTier = inTier;
            Changes = changes;
        }

        public string Name { get; }
        public string HostName => Name;
        public int VmId { get; }

        /// <summary>The MAC the hypervisor reports (lowercase), else the declared one.</summary>
        public string? MacAddress { get; }
        public string? IPAddress { get; }
        public string? Segment { get; }
        public string? Fqdn { get; }
        public string TierPath { get; }
        public string Hypervisor { get; }

        /// <summary><c>running</c>, <c>stopped</c>, … or <c>absent</c> when the hypervisor has no such VM.</summary>
        public string State => Vm?.State ?? "absent";
        public bool StartOnBoot => Vm?.StartOnBoot ?? false;
        public int? Cores => Vm?.Cores;
        public int? MemoryMb => Vm?.MemoryMb;

        /// <summary>True when settings are written but wait for a restart (<c>New-DeevMgmtVm -Restart</c> applies them).</summary>
        public bool RestartRequired => Vm?.RestartRequired ?? false;

        /// <summary>The settings that wait for a restart (empty when none).</summary>
        public System.Collections.Generic.IReadOnlyList<string> RestartPending => Vm?.RestartPending ?? System.Array.Empty<string>();

        /// <summary>False for a VM on a tier hypervisor that no tier host declares.</summary>
        public bool InTier { get; }

        /// <summary>What the last New-DeevMgmtVm did (<c>created</c>, <c>2 settings changed</c>, <c>unchanged</c>).</summary>
        public string? Changes { get; }

        /// <summary>The hypervisor's full view of the VM (disks, settings), or null when absent.</summary>
        public VmInfo? Vm { get; }
    }
}
