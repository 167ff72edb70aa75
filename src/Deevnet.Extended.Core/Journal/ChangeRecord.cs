using System;
using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace Deevnet.Extended.Core.Journal
{
    /// <summary>One change of an applied batch, as the plan said it: kind, key, action, and the entry before and after.</summary>
    public sealed class JournalChange
    {
        [JsonPropertyName("kind")] public string Kind { get; set; } = "";
        [JsonPropertyName("key")] public string Key { get; set; } = "";
        [JsonPropertyName("action")] public string Action { get; set; } = "";
        [JsonPropertyName("before")] public string? Before { get; set; }
        [JsonPropertyName("after")] public string? After { get; set; }
    }

    /// <summary>
    /// One line of the change journal: who changed what on which server, when, from which tier file (and its hash),
    /// with which command, and how it ended. Written as one JSON object per line, so a journal is read with any
    /// JSON-lines tool and appended to by concurrent writers without interleaving.
    /// </summary>
    public sealed class ChangeRecord
    {
        [JsonPropertyName("time")] public DateTimeOffset Time { get; set; }
        [JsonPropertyName("operator")] public string Operator { get; set; } = "";
        [JsonPropertyName("command")] public string Command { get; set; } = "";
        [JsonPropertyName("tierPath")] public string TierPath { get; set; } = "";
        [JsonPropertyName("tierSha256")] public string TierSha256 { get; set; } = "";
        [JsonPropertyName("server")] public string Server { get; set; } = "";
        [JsonPropertyName("changes")] public List<JournalChange> Changes { get; set; } = new List<JournalChange>();

        /// <summary><c>applied</c>, or <c>failed: &lt;error id&gt;</c> (the server was left as it was, or rolled back).</summary>
        [JsonPropertyName("result")] public string Result { get; set; } = "";

        /// <summary>The hash of the saved plan that was applied, when one was.</summary>
        [JsonPropertyName("planSha256")] public string? PlanSha256 { get; set; }
    }
}
