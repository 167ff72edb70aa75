using System;
using Deevnet.Extended.Core.Journal;

namespace Deevnet.Extended.Core.Drift
{
    /// <summary>How a server entry differs from the tier.</summary>
    public enum DriftKind
    {
        /// <summary>The tier asks for the entry; the server does not have it.</summary>
        Missing,

        /// <summary>The module's entry is there with other content than the tier asks for.</summary>
        Changed,

        /// <summary>The module's entry is there but the tier no longer asks for it (Sync -Prune would remove it).</summary>
        Stale,

        /// <summary>An entry in the module's space (its MACs, names or addresses) that the module did not write.</summary>
        Foreign,
    }

    /// <summary>
    /// One difference between a server and the tier, with the journal record that last touched the entry, so an entry
    /// edited by hand shows as "changed, and the journal last wrote X".
    /// </summary>
    public sealed class DriftEntry
    {
        public DriftEntry(string server, DriftKind drift, string kind, string key, string? before, string? after, string note, string tierPath, JournalEntry? last)
        {
            Server = server;
            Drift = drift;
            Kind = kind;
            Key = key;
            Before = before;
            After = after;
            Note = note;
            TierPath = tierPath;
            LastChange = last;
        }

        public string Server { get; }
        public DriftKind Drift { get; }

        /// <summary><c>Reservation</c>, <c>A</c>, <c>PTR</c> or <c>CNAME</c>, as plans and the journal name them.</summary>
        public string Kind { get; }

        /// <summary>A MAC (reservations) or a record name, as plans and the journal key them.</summary>
        public string Key { get; }

        /// <summary>The entry as the server has it now (null when it is missing).</summary>
        public string? Before { get; }

        /// <summary>The entry as the tier wants it (null when the tier does not want it).</summary>
        public string? After { get; }

        /// <summary>Why this is drift, in words (and, for a foreign entry, where it was found).</summary>
        public string Note { get; }

        public string TierPath { get; }

        /// <summary>The last journal change of this entry on this server; null when the journal has none (or there is no journal).</summary>
        public JournalEntry? LastChange { get; }

        public DateTimeOffset? LastTime => LastChange?.Time;
        public string? LastOperator => LastChange?.Operator;
        public string? LastCommand => LastChange?.Command;

        /// <summary>
        /// True when the server's entry is not what the journal last recorded the module writing: someone changed or
        /// removed it by hand since. False when there is no journal record to compare with.
        /// </summary>
        public bool EditedOutsideModule =>
            LastChange != null && Drift != DriftKind.Foreign && LastChange.Result == "applied" && !string.Equals(LastChange.After, Before, StringComparison.Ordinal);

        public override string ToString() => $"{Drift} {Kind} {Key} on {Server}: {Before ?? "(none)"} -> {After ?? "(none)"}";
    }
}
