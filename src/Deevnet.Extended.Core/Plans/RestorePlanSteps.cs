using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json.Serialization;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Plans
{
    /// <summary>
    /// The <c>restore</c> and <c>rebuild</c> steps of a saved plan. Both pin the backup they put back by its name and by
    /// the digests its verified seal signs (the archive's and the MANIFEST's SHA-256), so another archive under the same
    /// name is refused when the plan is applied. They hold names, paths and hashes only: never the age key or its path.
    /// <para>
    /// A restore step does not fingerprint the files on the target host. They are what the restore replaces, and a
    /// service that runs keeps writing them (logs, metrics), so such a fingerprint would make nearly every restore plan
    /// stale without protecting anything: the review is of which backup goes where, and that is pinned.
    /// </para>
    /// </summary>
    public static class RestorePlanSteps
    {
        /// <summary>
        /// A backup pinned for a plan. Only a backup whose seal verified has digests worth pinning; an unsigned one
        /// (accepted with -AllowUnsigned) is refused with <c>BackupUnauthenticated</c>: restore it directly instead.
        /// </summary>
        public static SavedBackup Pin(BackupInfo backup)
        {
            if (backup.Seal == null)
                throw new BackupException("BackupUnauthenticated", DeevErrorKind.SecurityError,
                    $"Backup {backup.BackupName} has no verified seal, so a saved plan cannot pin it by its digests; nothing was saved.", backup.BackupName)
                {
                    RecommendedAction = "Restore an unsigned backup directly (Restore-DeevService -BackupName … -AllowUnsigned), or save a plan for a signed one.",
                };
            return new SavedBackup { Name = backup.BackupName, ArchiveSha256 = backup.Seal.ArchiveSha256, ManifestSha256 = backup.Seal.ManifestSha256 };
        }

        /// <summary>
        /// How the backup found now differs from the pinned one (null: it is gone), one phrase each; empty when it is
        /// the same authenticated archive.
        /// </summary>
        public static IReadOnlyList<string> Differences(SavedBackup pinned, BackupInfo? now)
        {
            if (now == null) return new[] { $"the backup {pinned.Name} is gone from the store" };
            if (now.Seal == null || now.Signature != BackupSignature.Valid)
                return new[] { $"the backup {pinned.Name} is no longer authenticated ({now.SignatureProblem ?? "no verified seal"})" };
            var moved = new List<string>();
            if (now.Seal.ArchiveSha256 != pinned.ArchiveSha256)
                moved.Add($"the backup {pinned.Name} was replaced: its archive is SHA-256 {Short(now.Seal.ArchiveSha256)}, the plan pinned {Short(pinned.ArchiveSha256)}");
            else if (now.Seal.ManifestSha256 != pinned.ManifestSha256)
                moved.Add($"the backup {pinned.Name} was replaced: its manifest is SHA-256 {Short(now.Seal.ManifestSha256)}, the plan pinned {Short(pinned.ManifestSha256)}");
            return moved;
        }

        /// <summary>The read fingerprint of a pinned backup: one entry, the backup's name, so a refusal names it.</summary>
        public static PlanFingerprint Fingerprint(SavedBackup? pinned) => PlanFingerprint.Of(pinned == null
            ? Array.Empty<KeyValuePair<string, string>>()
            : new[] { new KeyValuePair<string, string>(pinned.Name, $"archive={pinned.ArchiveSha256}|manifest={pinned.ManifestSha256}") });

        /// <summary>A restore plan's lines and what it restores, as one step for the target host.</summary>
        public static PlanStep FromRestore(ChangePlan plan, string service, SavedBackup backup, string root, bool runCommands) => new PlanStep
        {
            Service = PlanStep.Restore,
            Server = plan.Target,
            Read = Fingerprint(backup),
            Changes = SavedChange.Of(plan),
            RestoreOf = new SavedRestore { Service = service, Backup = backup, Root = root, RunCommands = runCommands },
        };

        /// <summary>
        /// A rebuild as one step for the service's host: a line per playbook step, keyed by its number so the sorted
        /// plan keeps the playbook's order (<c>03 DnsRecords</c>), and the rebuild itself.
        /// </summary>
        public static PlanStep FromRebuild(SavedRebuild rebuild, IReadOnlyList<string> descriptions) => new PlanStep
        {
            Service = PlanStep.Rebuild,
            Server = rebuild.Host.Name,
            Read = Fingerprint(rebuild.Backup),
            Changes = RebuildLines(rebuild, descriptions).Select(SavedChange.Of).ToList(),
            RebuildOf = rebuild,
        };

        public static IEnumerable<PlannedChange> RebuildLines(SavedRebuild rebuild, IReadOnlyList<string> descriptions) =>
            rebuild.Steps.Select((name, i) => new PlannedChange(ChangeAction.Change, "RebuildStep",
                $"{rebuild.Service} {(i + 1).ToString("00", CultureInfo.InvariantCulture)} {name}", null,
                i < descriptions.Count ? descriptions[i] : name, rebuild.Host.Name));

        /// <summary>How the host's identity now differs from the saved one, one phrase per field.</summary>
        public static IReadOnlyList<string> Differences(SavedHost saved, SavedHost now)
        {
            var moved = new List<string>();
            if (saved.VmId != now.VmId) moved.Add($"{saved.Name}'s VMID is {Text(now.VmId)}, the plan has {Text(saved.VmId)}");
            if (!string.Equals(saved.MacAddress, now.MacAddress, StringComparison.OrdinalIgnoreCase)) moved.Add($"{saved.Name}'s MAC is {now.MacAddress ?? "(none)"}, the plan has {saved.MacAddress ?? "(none)"}");
            if (saved.IPAddress != now.IPAddress) moved.Add($"{saved.Name}'s address is {now.IPAddress ?? "(none)"}, the plan has {saved.IPAddress ?? "(none)"}");
            return moved;
        }

        private static string Text(int? vmId) => vmId?.ToString(CultureInfo.InvariantCulture) ?? "(none)";

        private static string Short(string sha256) => sha256.Length > 16 ? sha256.Substring(0, 16) + "…" : sha256;
    }

    /// <summary>A backup as a plan pins it: its name and the digests its verified seal signs.</summary>
    public sealed class SavedBackup
    {
        [JsonPropertyName("name")] public string Name { get; set; } = "";
        [JsonPropertyName("archiveSha256")] public string ArchiveSha256 { get; set; } = "";
        [JsonPropertyName("manifestSha256")] public string ManifestSha256 { get; set; } = "";
    }

    /// <summary>What a <c>restore</c> step puts back where (the host is the step's server).</summary>
    public sealed class SavedRestore
    {
        [JsonPropertyName("service")] public string Service { get; set; } = "";
        [JsonPropertyName("backup")] public SavedBackup Backup { get; set; } = new SavedBackup();
        [JsonPropertyName("root")] public string Root { get; set; } = "/";

        /// <summary>Whether the service's before and after commands run around the restore.</summary>
        [JsonPropertyName("runCommands")] public bool RunCommands { get; set; } = true;
    }

    /// <summary>What a <c>rebuild</c> step runs: the class's playbook (file and SHA-256), its steps in order, the backup and the host.</summary>
    public sealed class SavedRebuild
    {
        [JsonPropertyName("service")] public string Service { get; set; } = "";
        [JsonPropertyName("class")] public string Class { get; set; } = "";
        [JsonPropertyName("playbook")] public PlanSource Playbook { get; set; } = new PlanSource();

        /// <summary>The -PlaybookPath folders the playbook was found through (null: the module's own).</summary>
        [JsonPropertyName("playbookPath")] public List<string>? PlaybookPath { get; set; }

        /// <summary>The playbook's step names in the order they run (never sorted).</summary>
        [JsonPropertyName("steps")] public List<string> Steps { get; set; } = new List<string>();

        /// <summary>The backup its Restore step puts back; null when the service keeps nothing or has no good backup.</summary>
        [JsonPropertyName("backup")] public SavedBackup? Backup { get; set; }

        [JsonPropertyName("host")] public SavedHost Host { get; set; } = new SavedHost();

        /// <summary>Rebuild a host that also holds other services without asking (saved from -Force). Null when not given.</summary>
        [JsonPropertyName("force")] public bool? Force { get; set; }
    }

    /// <summary>A host's identity as the identity file gives it when the plan is saved.</summary>
    public sealed class SavedHost
    {
        [JsonPropertyName("name")] public string Name { get; set; } = "";
        [JsonPropertyName("vmId")] public int? VmId { get; set; }
        [JsonPropertyName("macAddress")] public string? MacAddress { get; set; }
        [JsonPropertyName("ipAddress")] public string? IPAddress { get; set; }
    }

    /// <summary>
    /// What one service's rebuild did, counted from its step results, and the single journal line it becomes: a
    /// rebuild is recorded once per service, whether run directly or from a plan.
    /// </summary>
    public sealed class RebuildTally
    {
        public RebuildTally(string service, string hostName)
        {
            Service = service;
            HostName = hostName;
        }

        public string Service { get; }
        public string HostName { get; }
        public List<string> Ran { get; } = new List<string>();
        public int Skipped { get; private set; }
        public string? FailedStep { get; private set; }

        /// <summary>Nothing ran and nothing failed: every step was already done, which is no change.</summary>
        public bool IsChange => Ran.Count > 0 || FailedStep != null;

        public string Result => FailedStep == null ? "applied" : $"failed at step {FailedStep}";

        public void Add(string? status, string? step)
        {
            if (status == "Done") Ran.Add(step ?? "?");
            else if (status == "Skipped") Skipped++;
            else if (status == "Failed") FailedStep = step;
        }

        /// <summary>The journal's line: <c>Change rebuild runner: (none) -> rebuilt: One, Two done, 1 already done</c>.</summary>
        public ChangePlan ToChangePlan()
        {
            var after = FailedStep == null
                ? $"rebuilt: {string.Join(", ", Ran)} done, {Skipped} already done"
                : $"stopped at {FailedStep}" + (Ran.Count > 0 ? $" after {string.Join(", ", Ran)}" : "");
            return new ChangePlan(HostName, new List<PlannedChange> { new PlannedChange(ChangeAction.Change, "rebuild", Service, null, after, HostName) });
        }
    }
}
