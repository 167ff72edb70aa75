using System;
using System.Collections.Generic;
using System.Globalization;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>What is known about a whole backup without its key.</summary>
    public enum BackupStatus
    {
        /// <summary>Whole (renamed from .partial) and not tested yet: counts as good.</summary>
        Unverified,

        /// <summary>The last Test-DeevBackup of it passed.</summary>
        Verified,

        /// <summary>The last Test-DeevBackup of it failed: never counted as good.</summary>
        Failed,

        /// <summary>
        /// Its origin is not proven (no seal, a seal that does not verify, or one that belongs to another archive):
        /// never counted as good, never chosen as the newest, never removed by retention; test and restore refuse it.
        /// </summary>
        Unauthenticated,
    }

    /// <summary>Backup names: <c>&lt;service&gt;-&lt;host&gt;-&lt;yyyyMMddTHHmmssZ&gt;</c> plus a suffix.</summary>
    public static class BackupName
    {
        public const string StampFormat = "yyyyMMdd'T'HHmmss'Z'";
        private const int StampLength = 16;

        public static string Of(string service, string host, DateTime utc) =>
            $"{service}-{host}-{utc.ToString(StampFormat, CultureInfo.InvariantCulture)}";

        /// <summary>Splits a base name (no suffix) of <paramref name="service"/> into host and time.</summary>
        public static bool TryParse(string service, string baseName, out string host, out DateTime timeUtc)
        {
            host = "";
            timeUtc = default;
            var prefix = service + "-";
            if (!baseName.StartsWith(prefix, StringComparison.Ordinal) || baseName.Length < prefix.Length + 2 + StampLength) return false;
            var stamp = baseName.Substring(baseName.Length - StampLength);
            if (baseName[baseName.Length - StampLength - 1] != '-') return false;
            if (!DateTime.TryParseExact(stamp, StampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timeUtc)) return false;
            host = baseName.Substring(prefix.Length, baseName.Length - StampLength - 1 - prefix.Length);
            return host.Length > 0;
        }
    }

    /// <summary>One whole backup in the store (what <c>Get-DeevBackup</c> lists).</summary>
    public sealed class BackupInfo
    {
        public BackupInfo(string service, string hostName, string backupName, DateTime timeUtc, long size, BackupStatus status, string store)
        {
            Service = service;
            HostName = hostName;
            BackupName = backupName;
            Time = timeUtc;
            Size = size;
            Status = status;
            Store = store;
        }

        public string Service { get; }

        /// <summary>The host the backup was taken from.</summary>
        public string HostName { get; }

        /// <summary>Base name, <c>&lt;service&gt;-&lt;host&gt;-&lt;stamp&gt;</c>.</summary>
        public string BackupName { get; }

        /// <summary>When the backup started (UTC).</summary>
        public DateTime Time { get; }

        /// <summary>Bytes of the encrypted archive.</summary>
        public long Size { get; }
        public BackupStatus Status { get; internal set; }

        /// <summary>Whether its seal proves who took it (<see cref="SignatureProblem"/> says why not).</summary>
        public BackupSignature Signature { get; internal set; } = BackupSignature.Unchecked;

        /// <summary>Why the backup is not authenticated; null when it is.</summary>
        public string? SignatureProblem { get; internal set; }

        /// <summary>The allowed signer (principal) whose key signed it.</summary>
        public string? SignedBy { get; internal set; }

        /// <summary>The verified seal (null unless <see cref="Signature"/> is Valid): the only source of what a restore shows.</summary>
        public BackupSeal? Seal { get; internal set; }

        /// <summary>The store, as the tier names it.</summary>
        public string Store { get; }

        /// <summary>Archive file name in the service's store folder.</summary>
        public string FileName => BackupName + BackupStore.ArchiveSuffix;

        /// <summary>Age when listed.</summary>
        public TimeSpan Age { get; internal set; }

        /// <summary>Bytes of the tar stream inside (from the sidecar; null when the sidecar is missing).</summary>
        public long? PlainSize { get; internal set; }

        /// <summary>Members archived (files, folders, links).</summary>
        public int? EntryCount { get; internal set; }

        /// <summary>SHA-256 of the encrypted archive as written (from the verified seal; from the sidecar for an unauthenticated one).</summary>
        public string? Sha256 { get; internal set; }

        /// <summary>The service's declared paths when it was backed up (from the verified seal; empty when unauthenticated).</summary>
        public IReadOnlyList<string> Paths { get; internal set; } = Array.Empty<string>();

        /// <summary>When the last Test-DeevBackup ran on it (UTC).</summary>
        public DateTime? VerifiedAt { get; internal set; }

        /// <summary>The path the tier was loaded from, for pipelines into cmdlets that load it again.</summary>
        public string? TierPath { get; set; }

        /// <summary>Authenticated and not known to be bad: may be the newest good one, counts for freshness and retention.</summary>
        public bool IsGood => Status == BackupStatus.Verified || Status == BackupStatus.Unverified;
    }

    /// <summary>What <c>Backup-DeevService</c> did for one service.</summary>
    public sealed class BackupResult
    {
        public BackupResult(BackupInfo backup, TimeSpan duration, IReadOnlyList<string> removed, string? afterFailure, IReadOnlyList<string> warnings)
        {
            Backup = backup;
            Duration = duration;
            Removed = removed;
            AfterFailure = afterFailure;
            Warnings = warnings;
        }

        public BackupInfo Backup { get; }
        public string Service => Backup.Service;
        public string HostName => Backup.HostName;
        public string BackupName => Backup.BackupName;
        public DateTime Time => Backup.Time;
        public long Size => Backup.Size;
        public long? PlainSize => Backup.PlainSize;
        public int? EntryCount => Backup.EntryCount;
        public TimeSpan Duration { get; }

        /// <summary>Older backups (base names) removed by retention.</summary>
        public IReadOnlyList<string> Removed { get; }

        /// <summary>Set when the archive is whole but the <c>after</c> command failed (the service may be left stopped).</summary>
        public string? AfterFailure { get; }
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>Plain bytes per second archived.</summary>
        public double BytesPerSecond => Duration.TotalSeconds > 0 ? (PlainSize ?? 0) / Duration.TotalSeconds : 0;
    }

    /// <summary>What <c>Test-DeevBackup</c> found.</summary>
    public sealed class BackupTestResult
    {
        public BackupTestResult(BackupInfo backup, IReadOnlyList<BackupProblem> problems, int entryCount, long plainSize)
        {
            Backup = backup;
            Problems = problems;
            EntryCount = entryCount;
            PlainSize = plainSize;
        }

        public BackupInfo Backup { get; }
        public string Service => Backup.Service;
        public string BackupName => Backup.BackupName;
        public DateTime Time => Backup.Time;
        public bool Passed => Problems.Count == 0;
        public int EntryCount { get; }
        public long PlainSize { get; }
        public IReadOnlyList<BackupProblem> Problems { get; }

        /// <summary>One line: <c>passed, 12 entries</c> or the first problem.</summary>
        public string Message => Passed ? $"passed, {EntryCount} entries checked against the manifest" : $"{Problems.Count} problem(s): {Problems[0]}";
    }

    /// <summary>Where a restore goes.</summary>
    public sealed class RestoreTarget
    {
        /// <param name="hostName">A host of the tier; null for the service's own host.</param>
        /// <param name="root">Folder the backed-up paths are restored under (<c>/</c> puts them back in place).</param>
        /// <param name="runCommands">Run the service's <c>before</c>/<c>after</c> commands around the restore.</param>
        public RestoreTarget(string? hostName = null, string root = "/", bool runCommands = true)
        {
            HostName = hostName;
            Root = root;
            RunCommands = runCommands;
        }

        public string? HostName { get; }
        public string Root { get; }
        public bool RunCommands { get; }
    }

    /// <summary>What <c>Restore-DeevService</c> did.</summary>
    public sealed class RestoreResult
    {
        public RestoreResult(BackupInfo backup, string hostName, string root, int entryCount, IReadOnlyList<BackupProblem> problems, IReadOnlyList<string> extras, string? afterFailure)
        {
            Backup = backup;
            HostName = hostName;
            Root = root;
            EntryCount = entryCount;
            Problems = problems;
            Extras = extras;
            AfterFailure = afterFailure;
        }

        public BackupInfo Backup { get; }
        public string Service => Backup.Service;
        public string BackupName => Backup.BackupName;

        /// <summary>The host restored onto.</summary>
        public string HostName { get; }
        public string Root { get; }
        public int EntryCount { get; }

        /// <summary>Restored files that do not match the manifest (empty when verified).</summary>
        public IReadOnlyList<BackupProblem> Problems { get; }
        public bool Verified => Problems.Count == 0;

        /// <summary>Files under the restored paths that the backup did not hold (left in place).</summary>
        public IReadOnlyList<string> Extras { get; }
        public string? AfterFailure { get; }
    }

    /// <summary>The freshness of one service's backups, for the checks engine.</summary>
    public sealed class BackupFreshness
    {
        public BackupFreshness(string service, bool needed, BackupInfo? newestGood, TimeSpan maxAge, DateTime nowUtc, string? noneReason, string? unauthenticatedNote = null)
        {
            UnauthenticatedNote = unauthenticatedNote;
            Service = service;
            Needed = needed;
            NewestGood = newestGood;
            MaxAge = maxAge;
            Age = newestGood == null ? (TimeSpan?)null : nowUtc - newestGood.Time;
            NoneReason = noneReason;
        }

        public string Service { get; }

        /// <summary>False for services that declare <c>backup: { none: … }</c>.</summary>
        public bool Needed { get; }
        public BackupInfo? NewestGood { get; }
        public TimeSpan? Age { get; }
        public TimeSpan MaxAge { get; }
        public string? NoneReason { get; }

        /// <summary>Set when there is no good backup but unauthenticated ones exist (why they do not count).</summary>
        public string? UnauthenticatedNote { get; }
        public bool IsFresh => !Needed || (Age.HasValue && Age.Value < MaxAge);

        public string Message => !Needed ? $"nothing to back up: {NoneReason}"
            : NewestGood == null ? "no good backup in the store" + (UnauthenticatedNote != null ? $" ({UnauthenticatedNote})" : "")
            : IsFresh ? $"newest good backup {NewestGood.BackupName} is {Format(Age!.Value)} old (limit {Format(MaxAge)})"
            : $"newest good backup {NewestGood.BackupName} is {Format(Age!.Value)} old, older than {Format(MaxAge)}";

        private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{t.TotalHours:0.#}h" : $"{t.TotalMinutes:0.#}m";
    }
}
