using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// One managed setting of a VM: its back-end key (<c>net0</c>, <c>vcpu</c>, …), the value the spec asks for, and how
    /// a read-back value is judged (PVE upper-cases MACs, URL-encodes keys, a grown disk may be larger, …).
    /// The same list drives the plan, the write and the verification, so nothing is set that is not checked.
    /// </summary>
    public sealed class VmSetting
    {
        private readonly Func<string?, bool> _matches;

        public VmSetting(string key, string desired, Func<string?, bool>? matches = null)
        {
            Key = key;
            Desired = desired;
            _matches = matches ?? (actual => string.Equals(actual, desired, StringComparison.Ordinal));
        }

        public string Key { get; }
        public string Desired { get; }
        public bool Matches(string? actual) => _matches(actual);

        public override string ToString() => $"{Key}={Desired}";
    }

    /// <summary>Plans and verification over <see cref="VmSetting"/> lists, shared by every back end.</summary>
    public static class VmPlanning
    {
        public const string VmKind = "VM";
        public const string SettingKind = "VmSetting";

        /// <summary>
        /// Refuses to touch a VMID held by a VM of another name, or a name held by another VMID (<c>VmIdConflict</c> /
        /// <c>VmNameConflict</c>); returns the VM to adopt, or null when the VM is new.
        /// </summary>
        public static VmInfo? CheckOwnership(VmSpec spec, VmInfo? byId, VmInfo? byName, string hypervisor)
        {
            if (byId != null && (byId.IsTemplate || !string.Equals(byId.Name, spec.Name, StringComparison.Ordinal)))
                throw VmErrors.Create(VmErrors.VmIdConflict, DeevErrorKind.ResourceExists,
                    $"VMID {spec.VmId} on {hypervisor} belongs to {(byId.IsTemplate ? "the template" : "the VM")} '{byId.Name}', not to {spec.Name}. Nothing was changed.",
                    spec.Name, $"Give {spec.Name} a free VMID (New-DeevHostIdentity), or remove or renumber '{byId.Name}' yourself.");
            if (byId == null && byName != null)
                throw VmErrors.Create(VmErrors.VmNameConflict, DeevErrorKind.ResourceExists,
                    $"A VM named {spec.Name} exists on {hypervisor} with VMID {byName.VmId}, but its identity is VMID {spec.VmId}. Nothing was changed.",
                    spec.Name, $"Renumbering moves the MAC and address: remove VM {byName.VmId} (Remove-DeevMgmtVm -VmId {byName.VmId} -Name {spec.Name}) or fix the identity file.");
            return byId;
        }

        /// <summary>The plan for a VM that does not exist yet: one Add for the VM, one Add per setting.</summary>
        public static ChangePlan ForNew(VmSpec spec, string target, string template, IEnumerable<VmSetting> settings)
        {
            var changes = new List<PlannedChange> { new PlannedChange(ChangeAction.Add, VmKind, spec.VmId.ToString(), null, $"{spec.Name} from {template}", target) };
            changes.AddRange(settings.Select(s => new PlannedChange(ChangeAction.Add, SettingKind, $"{spec.Name}.{s.Key}", null, s.Desired, target)));
            return new ChangePlan(target, changes);
        }

        /// <summary>The plan for an existing VM: Change or Unchanged per setting.</summary>
        public static ChangePlan ForExisting(VmSpec spec, VmInfo vm, string target, IEnumerable<VmSetting> settings)
        {
            var changes = new List<PlannedChange> { new PlannedChange(ChangeAction.Unchanged, VmKind, spec.VmId.ToString(), vm.Name, vm.Name, target) };
            foreach (var s in settings)
            {
                var actual = Actual(vm, s.Key);
                changes.Add(new PlannedChange(s.Matches(actual) ? ChangeAction.Unchanged : ChangeAction.Change, SettingKind, $"{spec.Name}.{s.Key}", actual, s.Desired, target));
            }
            return new ChangePlan(target, changes);
        }

        /// <summary>The settings that differ from the VM as it is.</summary>
        public static IReadOnlyList<VmSetting> Pending(VmInfo vm, IEnumerable<VmSetting> settings) => settings.Where(s => !s.Matches(Actual(vm, s.Key))).ToList();

        /// <summary>Throws <c>VmVerificationFailed</c> naming the first setting the read-back VM does not hold.</summary>
        public static void Verify(VmSpec spec, VmInfo readBack, IEnumerable<VmSetting> settings)
        {
            foreach (var s in settings)
            {
                var actual = Actual(readBack, s.Key);
                if (!s.Matches(actual)) throw VmErrors.Verification(spec.Name, s.Key, s.Desired, actual);
            }
        }

        public static string? Actual(VmInfo vm, string key) => vm.Settings.TryGetValue(key, out var v) ? v : null;
    }
}
