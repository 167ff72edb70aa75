using Deevnet.Extended.Core.Plans;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>One line of a DHCP plan as Sync-DeevDhcpReservation emits it: what happened to one MAC's reservation.</summary>
    public sealed class DhcpReservationChange
    {
        public DhcpReservationChange(PlannedChange change, bool applied, string? name = null)
        {
            Action = change.Action;
            ClientId = change.Key;
            Before = change.Before;
            After = change.After;
            Server = change.Target;
            Applied = applied;
            Name = name;
        }

        public ChangeAction Action { get; }

        /// <summary>The MAC the line is about.</summary>
        public string ClientId { get; }

        /// <summary>The tier host the reservation is for, when it is one.</summary>
        public string? Name { get; }
        public string? Before { get; }
        public string? After { get; }
        public string? Server { get; }

        /// <summary>False under -WhatIf, when declined, or when the batch was not applied.</summary>
        public bool Applied { get; }

        public override string ToString() => $"{Action} {ClientId}: {Before ?? "(none)"} -> {After ?? "(none)"}";
    }
}
