using System.Collections.Generic;
using System.Linq;

namespace Deevnet.Extended.Core.Plans
{
    public enum ChangeAction
    {
        Add,
        Change,
        Remove,
        Unchanged,
    }

    /// <summary>
    /// One line of a plan: what a writing back end will do to one entry (a reservation, a record set, a VM setting).
    /// Back ends compute the whole plan before touching anything; -WhatIf prints it; a run with nothing to do
    /// has only <see cref="ChangeAction.Unchanged"/> lines.
    /// </summary>
    public sealed class PlannedChange
    {
        public PlannedChange(ChangeAction action, string kind, string key, string? before, string? after, string? target = null)
        {
            Action = action;
            Kind = kind;
            Key = key;
            Before = before;
            After = after;
            Target = target;
        }

        public ChangeAction Action { get; }

        /// <summary>What sort of entry: <c>Reservation</c>, <c>A</c>, <c>PTR</c>, <c>CNAME</c>, <c>VM</c>, …</summary>
        public string Kind { get; }

        /// <summary>What identifies the entry: a MAC, a record name, a VMID.</summary>
        public string Key { get; }

        /// <summary>The entry as it is now (null when absent).</summary>
        public string? Before { get; }

        /// <summary>The entry as it will be (null when removed).</summary>
        public string? After { get; }

        /// <summary>The server or hypervisor the change goes to.</summary>
        public string? Target { get; }

        /// <summary>One line for -WhatIf and logs: <c>Add Reservation 02:de:99:00:03:85: (none) -> 10.231.99.21 dv99obs001v01</c>.</summary>
        public override string ToString() => $"{Action} {Kind} {Key}: {Before ?? "(none)"} -> {After ?? "(none)"}";
    }

    /// <summary>A whole plan, applied as one transaction by the back end that made it.</summary>
    public sealed class ChangePlan
    {
        public ChangePlan(string target, IReadOnlyList<PlannedChange> changes)
        {
            Target = target;
            Changes = changes;
        }

        /// <summary>The server the plan is for.</summary>
        public string Target { get; }
        public IReadOnlyList<PlannedChange> Changes { get; }
        public bool HasChanges => Changes.Any(c => c.Action != ChangeAction.Unchanged);
        public int Count(ChangeAction action) => Changes.Count(c => c.Action == action);

        /// <summary><c>2 to add, 1 to change, 0 to remove, 7 unchanged</c>.</summary>
        public string Summary => $"{Count(ChangeAction.Add)} to add, {Count(ChangeAction.Change)} to change, {Count(ChangeAction.Remove)} to remove, {Count(ChangeAction.Unchanged)} unchanged";
    }
}
