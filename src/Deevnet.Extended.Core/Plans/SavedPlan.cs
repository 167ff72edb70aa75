using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Text;

namespace Deevnet.Extended.Core.Plans
{
    /// <summary>
    /// A plan written by <c>-PlanPath</c> and applied later by <c>Invoke-DeevPlan</c>. It is meant to be reviewed in a
    /// pull request, so its text is canonical: keys sorted, steps and changes sorted, no timestamps, LF line ends. The
    /// same state saved twice gives the same bytes. It records what it was computed from (the tier file's and the
    /// identity file's SHA-256, and per server a fingerprint of the owned entries it read) so that a plan whose world
    /// moved is refused (<c>PlanStale</c>) instead of applied. It holds names, addresses and hashes only: no secrets.
    /// </summary>
    public sealed class SavedPlan
    {
        public const string CurrentFormat = "deevnet-plan/1";

        private static readonly JsonSerializerOptions Options = new JsonSerializerOptions(JsonText.Options)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };

        [JsonPropertyName("format")] public string Format { get; set; } = CurrentFormat;

        /// <summary>The cmdlet that made the plan (its name only: a command line could carry a secret).</summary>
        [JsonPropertyName("command")] public string Command { get; set; } = "";

        [JsonPropertyName("tier")] public PlanSource Tier { get; set; } = new PlanSource();

        /// <summary>The identity file beside the tier; its hash is empty when it does not exist.</summary>
        [JsonPropertyName("identity")] public PlanSource Identity { get; set; } = new PlanSource();

        [JsonPropertyName("steps")] public List<PlanStep> Steps { get; set; } = new List<PlanStep>();

        /// <summary>Adds a step, replacing one for the same service and server (a second batch of one invocation).</summary>
        public void Add(PlanStep step)
        {
            Steps.RemoveAll(s => s.Service == step.Service && s.Server == step.Server && s.Subject == step.Subject);
            Steps.Add(step);
        }

        /// <summary>The canonical text: sorted keys, sorted lists, two-space indentation, LF line ends, final newline.</summary>
        public string ToJson()
        {
            Steps = Steps.OrderBy(s => s.Service, StringComparer.Ordinal).ThenBy(s => s.Server, StringComparer.Ordinal)
                .ThenBy(s => s.Subject, StringComparer.Ordinal).ToList();
            foreach (var step in Steps) step.Sort();
            var node = JsonSerializer.SerializeToNode(this, Options)!;
            var text = Sorted(node)!.ToJsonString(new JsonSerializerOptions(Options) { WriteIndented = true });
            return text.Replace("\r\n", "\n") + "\n";
        }

        /// <summary>Reads a plan file's text; anything that is not a plan of this format is <c>PlanInvalid</c>.</summary>
        public static SavedPlan Parse(string json, string path)
        {
            SavedPlan? plan;
            try
            {
                plan = JsonSerializer.Deserialize<SavedPlan>(json, Options);
            }
            catch (JsonException ex)
            {
                throw Invalid(path, $"it is not JSON ({ex.Message})");
            }
            if (plan == null || plan.Format != CurrentFormat)
                throw Invalid(path, $"it is not a {CurrentFormat} document (format: {plan?.Format ?? "missing"})");
            if (string.IsNullOrEmpty(plan.Tier.Path) || plan.Steps.Any(s => string.IsNullOrEmpty(s.Service) || string.IsNullOrEmpty(s.Server)))
                throw Invalid(path, "it names no tier file, or a step without its service and server");
            return plan;
        }

        /// <summary>SHA-256 (lowercase hex) of a plan file's bytes: the hash the journal records for an applied plan.</summary>
        public static string HashOf(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

        public static DeevException Invalid(string path, string why) =>
            new DeevException(PlanErrors.Invalid, DeevErrorKind.InvalidData, $"The plan '{path}' cannot be used: {why}. Nothing was changed.", path)
            {
                RecommendedAction = "Save the plan again with -PlanPath from the command that makes it.",
            };

        private static JsonNode? Sorted(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    var copy = new JsonObject();
                    foreach (var pair in obj.OrderBy(p => p.Key, StringComparer.Ordinal)) copy[pair.Key] = Sorted(pair.Value?.DeepClone());
                    return copy;
                case JsonArray array:
                    return new JsonArray(array.Select(item => Sorted(item?.DeepClone())).ToArray());
                default:
                    return node;
            }
        }
    }

    /// <summary>A file the plan was computed from: its full path and SHA-256 at that time.</summary>
    public sealed class PlanSource
    {
        [JsonPropertyName("path")] public string Path { get; set; } = "";
        [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
    }

    /// <summary>
    /// What a plan does on one server: the change lines (as -WhatIf prints them), the entries to write or remove
    /// (exactly those changes, so applying them cannot do more), and the fingerprint of what was read.
    /// </summary>
    public sealed class PlanStep
    {
        public const string Dhcp = "dhcp";
        public const string Dns = "dns";
        public const string Identity = "identity";
        public const string Vm = "vm";
        public const string Restore = "restore";
        public const string Rebuild = "rebuild";

        /// <summary><c>dhcp</c>, <c>dns</c>, <c>identity</c>, <c>vm</c>, <c>restore</c> or <c>rebuild</c>.</summary>
        [JsonPropertyName("service")] public string Service { get; set; } = "";

        /// <summary>The server as plans and the journal name it (for identity: the identity file; for vm: the tier's hypervisor; for restore and rebuild: the host).</summary>
        [JsonPropertyName("server")] public string Server { get; set; } = "";

        [JsonPropertyName("read")] public PlanFingerprint Read { get; set; } = new PlanFingerprint();

        [JsonPropertyName("changes")] public List<SavedChange> Changes { get; set; } = new List<SavedChange>();

        /// <summary>DHCP: the reservations to add or change, as they will be.</summary>
        [JsonPropertyName("setReservations")] public List<SavedReservation>? SetReservations { get; set; }

        /// <summary>DNS: the records to add or change, as they will be.</summary>
        [JsonPropertyName("setRecords")] public List<SavedRecord>? SetRecords { get; set; }

        /// <summary>DNS: the records to remove, as they are.</summary>
        [JsonPropertyName("removeRecords")] public List<SavedRecord>? RemoveRecords { get; set; }

        /// <summary>DHCP: the MACs whose reservations go. Identity: the hosts whose allocation goes.</summary>
        [JsonPropertyName("remove")] public List<string>? Remove { get; set; }

        /// <summary>Identity: the hosts that get a new VMID.</summary>
        [JsonPropertyName("allocate")] public List<string>? Allocate { get; set; }

        /// <summary>VM: the VMs to build, remove, start or stop, by name and VMID.</summary>
        [JsonPropertyName("vms")] public List<SavedVm>? Vms { get; set; }

        /// <summary>Restore: the service, where it goes and the backup pinned by name and digests.</summary>
        [JsonPropertyName("restoreOf")] public SavedRestore? RestoreOf { get; set; }

        /// <summary>Rebuild: the service, its playbook and steps, the pinned backup and the host's identity.</summary>
        [JsonPropertyName("rebuildOf")] public SavedRebuild? RebuildOf { get; set; }

        [JsonIgnore] public bool HasChanges => Changes.Count > 0;

        /// <summary>What tells two steps on one server apart: the service a restore or rebuild is for (several may share a host).</summary>
        [JsonIgnore] public string Subject => RestoreOf?.Service ?? RebuildOf?.Service ?? "";

        internal void Sort()
        {
            Changes = Changes.OrderBy(c => c.Kind, StringComparer.Ordinal).ThenBy(c => c.Key, StringComparer.Ordinal)
                .ThenBy(c => c.Action, StringComparer.Ordinal).ToList();
            SetReservations = SetReservations?.OrderBy(r => r.ClientId, StringComparer.Ordinal).ToList();
            SetRecords = SetRecords?.OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Type, StringComparer.Ordinal).ToList();
            RemoveRecords = RemoveRecords?.OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Type, StringComparer.Ordinal).ToList();
            Remove = Remove?.OrderBy(r => r, StringComparer.Ordinal).ToList();
            Allocate = Allocate?.OrderBy(r => r, StringComparer.Ordinal).ToList();
            Vms = Vms?.OrderBy(v => v.VmId).ToList();
        }
    }

    /// <summary>One change line of a plan, as -WhatIf prints it.</summary>
    public sealed class SavedChange
    {
        [JsonPropertyName("action")] public string Action { get; set; } = "";
        [JsonPropertyName("kind")] public string Kind { get; set; } = "";
        [JsonPropertyName("key")] public string Key { get; set; } = "";
        [JsonPropertyName("before")] public string? Before { get; set; }
        [JsonPropertyName("after")] public string? After { get; set; }

        public static SavedChange Of(PlannedChange c) =>
            new SavedChange { Action = c.Action.ToString(), Kind = c.Kind, Key = c.Key, Before = c.Before, After = c.After };

        /// <summary>The lines of a plan that change something, as saved.</summary>
        public static List<SavedChange> Of(ChangePlan plan) =>
            plan.Changes.Where(c => c.Action != ChangeAction.Unchanged).Select(Of).ToList();

        public override string ToString() => $"{Action} {Kind} {Key}: {Before ?? "(none)"} -> {After ?? "(none)"}";
    }

    /// <summary>A DHCP reservation as a plan writes it.</summary>
    public sealed class SavedReservation
    {
        [JsonPropertyName("clientId")] public string ClientId { get; set; } = "";
        [JsonPropertyName("ipAddress")] public string IPAddress { get; set; } = "";
        [JsonPropertyName("name")] public string? Name { get; set; }
        [JsonPropertyName("description")] public string? Description { get; set; }
        [JsonPropertyName("scopeId")] public string? ScopeId { get; set; }
    }

    /// <summary>A DNS record as a plan writes or removes it.</summary>
    public sealed class SavedRecord
    {
        [JsonPropertyName("name")] public string Name { get; set; } = "";
        [JsonPropertyName("type")] public string Type { get; set; } = "";
        [JsonPropertyName("value")] public string Value { get; set; } = "";
        [JsonPropertyName("ttl")] public int Ttl { get; set; }
    }

    /// <summary>
    /// What a step read on its server: per owned entry a short hash of its state, and the SHA-256 of them all. Hashes,
    /// not the entries, so the plan stays short on a big server; per entry, so a refusal can name the entry that moved.
    /// </summary>
    public sealed class PlanFingerprint
    {
        [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
        [JsonPropertyName("entries")] public SortedDictionary<string, string> Entries { get; set; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

        /// <summary>A fingerprint of entries given as key and state; several states of one key are combined.</summary>
        public static PlanFingerprint Of(IEnumerable<KeyValuePair<string, string>> entries)
        {
            var fingerprint = new PlanFingerprint();
            foreach (var group in entries.GroupBy(e => e.Key, StringComparer.Ordinal))
                fingerprint.Entries[group.Key] = Short(string.Join("\n", group.Select(e => e.Value).OrderBy(v => v, StringComparer.Ordinal)));
            fingerprint.Sha256 = SavedPlan.HashOf(Encoding.UTF8.GetBytes(string.Concat(fingerprint.Entries.Select(e => e.Key + "=" + e.Value + "\n"))));
            return fingerprint;
        }

        /// <summary>What differs from <paramref name="now"/>: one phrase per entry that changed, appeared or went.</summary>
        public IReadOnlyList<string> Differences(PlanFingerprint now)
        {
            var moved = new List<string>();
            if (now.Sha256 == Sha256) return moved;
            foreach (var key in Entries.Keys.Union(now.Entries.Keys).OrderBy(k => k, StringComparer.Ordinal))
            {
                var had = Entries.TryGetValue(key, out var before);
                var has = now.Entries.TryGetValue(key, out var after);
                if (had && !has) moved.Add($"{key} is gone");
                else if (!had && has) moved.Add($"{key} appeared");
                else if (before != after) moved.Add($"{key} changed");
            }
            if (moved.Count == 0) moved.Add("the entries' fingerprint differs");
            return moved;
        }

        private static string Short(string state) => SavedPlan.HashOf(Encoding.UTF8.GetBytes(state)).Substring(0, 16);
    }
}
