using System;

namespace Deevnet.Extended.Core.Journal
{
    /// <summary>One change of one journal record, flattened for tables and filters (Get-DeevChange's output).</summary>
    public sealed class JournalEntry
    {
        public JournalEntry(ChangeRecord record, JournalChange change)
        {
            Time = record.Time;
            Operator = record.Operator;
            Server = record.Server;
            Kind = change.Kind;
            Key = change.Key;
            Action = change.Action;
            Before = change.Before;
            After = change.After;
            Result = record.Result;
            Command = record.Command;
            TierPath = record.TierPath;
            TierSha256 = record.TierSha256;
            PlanSha256 = record.PlanSha256;
        }

        public DateTimeOffset Time { get; }
        public string Operator { get; }
        public string Server { get; }
        public string Kind { get; }
        public string Key { get; }
        public string Action { get; }
        public string? Before { get; }
        public string? After { get; }
        public string Result { get; }
        public string Command { get; }
        public string TierPath { get; }
        public string TierSha256 { get; }

        /// <summary>The SHA-256 of the saved plan file this change was applied from (Invoke-DeevPlan), or null.</summary>
        public string? PlanSha256 { get; }

        /// <summary>True when a word of the key, or of the entry before or after, <paramref name="matches"/> (a host or service name).</summary>
        public bool Mentions(Func<string, bool> matches) =>
            matches(Key) || (Before != null && Words(Before, matches)) || (After != null && Words(After, matches));

        private static bool Words(string text, Func<string, bool> matches)
        {
            foreach (var word in text.Split(new[] { ' ', ',', '(', ')', '\t' }, StringSplitOptions.RemoveEmptyEntries))
            {
                if (matches(word)) return true;
                var dot = word.IndexOf('.');
                if (dot > 0 && matches(word.Substring(0, dot))) return true;   // a FQDN's first label is the host or service
            }
            return false;
        }
    }
}
