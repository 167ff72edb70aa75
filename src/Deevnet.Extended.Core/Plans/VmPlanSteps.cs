using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json.Serialization;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Core.Plans
{
    /// <summary>
    /// The <c>vm</c> step of a saved plan: per hypervisor, the VMs to build or remove (by name and VMID), the lines the
    /// provisioner planned for them, and what each VM was when it was read (absent, or its name, MAC, state and a digest
    /// of its configuration). The step names VMs only: the spec is recomputed from the tier whose hash the plan holds,
    /// and a first-boot host key is made when the plan is applied, so no key, password or token is ever in the file.
    /// </summary>
    public sealed class VmStepBuilder
    {
        private readonly string _hypervisor;
        private readonly List<SavedVm> _vms = new List<SavedVm>();
        private readonly List<PlannedChange> _lines = new List<PlannedChange>();
        private readonly List<KeyValuePair<string, string>> _read = new List<KeyValuePair<string, string>>();

        public VmStepBuilder(string hypervisor) => _hypervisor = hypervisor;

        /// <summary>Adds one VM: what to do, the lines planned for it, and the VM as read (null: it does not exist).</summary>
        public void Add(SavedVm vm, IEnumerable<PlannedChange> lines, VmInfo? read)
        {
            _vms.RemoveAll(v => v.VmId == vm.VmId);
            _vms.Add(vm);
            var key = VmPlanSteps.EntryKey(vm.Name, vm.VmId);
            _read.RemoveAll(e => e.Key == key);
            if (read != null) _read.Add(new KeyValuePair<string, string>(key, VmPlanSteps.StateOf(read)));
            _lines.AddRange(lines);
        }

        /// <summary>Every line planned, as one plan for the hypervisor (what the journal records).</summary>
        public ChangePlan Changes => new ChangePlan(_hypervisor, _lines.ToList());

        public PlanFingerprint Read => PlanFingerprint.Of(_read);

        public PlanStep ToStep() => new PlanStep
        {
            Service = PlanStep.Vm,
            Server = _hypervisor,
            Read = Read,
            Changes = SavedChange.Of(Changes),
            Vms = _vms.Select(v => v.Copy()).ToList(),
        };
    }

    public static class VmPlanSteps
    {
        /// <summary>How a fingerprint entry and a refusal name a VM: <c>dv99web001v01 (VMID 910)</c>.</summary>
        public static string EntryKey(string name, int vmId) => $"{name} (VMID {vmId.ToString(CultureInfo.InvariantCulture)})";

        /// <summary>
        /// What a VM is, for the fingerprint: name, MAC, power state, template flag and a digest of its configuration
        /// (CPU, memory, network, disks, start-up and every managed setting as read back), so a hand edit of any of them
        /// makes the plan stale.
        /// </summary>
        public static string StateOf(VmInfo vm) =>
            $"name={vm.Name}|mac={vm.MacAddress}|state={vm.State}|template={vm.IsTemplate}|config={ConfigDigest(vm)}";

        public static string ConfigDigest(VmInfo vm)
        {
            var text = new StringBuilder()
                .Append("node=").Append(vm.Node).Append('\n')
                .Append("cores=").Append(vm.Cores).Append('\n')
                .Append("memory=").Append(vm.MemoryMb).Append('\n')
                .Append("bridge=").Append(vm.Bridge).Append('\n')
                .Append("vlan=").Append(vm.Vlan).Append('\n')
                .Append("onboot=").Append(vm.StartOnBoot).Append('\n')
                .Append("order=").Append(vm.StartupOrder).Append('\n');
            foreach (var d in vm.Disks.OrderBy(d => d.Slot, StringComparer.Ordinal))
                text.Append("disk=").Append(d.Slot).Append(' ').Append(d.SizeBytes).Append(' ').Append(d.Serial).Append(' ').Append(d.Source).Append('\n');
            foreach (var s in vm.Settings.OrderBy(s => s.Key, StringComparer.Ordinal))
                text.Append("setting=").Append(s.Key).Append('=').Append(s.Value).Append('\n');
            foreach (var p in vm.RestartPending.OrderBy(p => p, StringComparer.Ordinal))
                text.Append("pending=").Append(p).Append('\n');
            return SavedPlan.HashOf(Encoding.UTF8.GetBytes(text.ToString())).Substring(0, 16);
        }

        /// <summary>The one line of a power change (<c>Unchanged</c> when the VM is already there), keyed by VMID like a build.</summary>
        public static PlannedChange StateLine(string hypervisor, int vmId, string name, string before, string after) =>
            new PlannedChange(before == after ? ChangeAction.Unchanged : ChangeAction.Change, "VmState", vmId.ToString(CultureInfo.InvariantCulture),
                $"{name} {before}", $"{name} {after}", hypervisor);

        /// <summary>The one line of a VM removal, as Remove-DeevMgmtVm journals it.</summary>
        public static PlannedChange RemoveLine(string hypervisor, VmInfo vm) =>
            new PlannedChange(ChangeAction.Remove, VmPlanning.VmKind, vm.VmId.ToString(CultureInfo.InvariantCulture),
                $"{vm.Name} ({vm.State}, {vm.MacAddress})", null, hypervisor);
    }

    /// <summary>One VM of a <c>vm</c> step: <c>build</c> (New-DeevMgmtVm: create or correct, then start), <c>remove</c>, <c>start</c> or <c>stop</c>.</summary>
    public sealed class SavedVm
    {
        public const string Build = "build";
        public const string Remove = "remove";
        public const string Start = "start";
        public const string Stop = "stop";

        [JsonPropertyName("action")] public string Action { get; set; } = "";
        [JsonPropertyName("name")] public string Name { get; set; } = "";
        [JsonPropertyName("vmId")] public int VmId { get; set; }

        /// <summary>Build: make a first-boot host key when the plan is applied (never in the file). Null when not asked.</summary>
        [JsonPropertyName("seedHostKey")] public bool? SeedHostKey { get; set; }

        /// <summary>Build: reboot a running VM whose written settings wait for a restart. Null when not asked.</summary>
        [JsonPropertyName("restart")] public bool? Restart { get; set; }

        /// <summary>Stop: power off at once instead of a shutdown. Null when not asked.</summary>
        [JsonPropertyName("force")] public bool? Force { get; set; }

        internal SavedVm Copy() => (SavedVm)MemberwiseClone();
    }
}
