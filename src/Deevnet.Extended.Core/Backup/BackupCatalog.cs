using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// Reads the store without the private key: which whole backups each service has, their time, size and status,
    /// the newest good one (the freshness check), and retention. A backup is whole only once its archive has been
    /// renamed from <c>.partial</c>; partial files are never listed, never count and are removed by the next run.
    /// </summary>
    public sealed class BackupCatalog
    {
        private readonly SiteTier _tier;
        private readonly Func<Via, IHostTransport> _transports;
        private readonly Func<DateTime> _clock;

        public BackupCatalog(SiteTier tier, Func<Via, IHostTransport> transports, Func<DateTime>? clock = null)
        {
            _tier = tier;
            _transports = transports;
            _clock = clock ?? (() => DateTime.UtcNow);
            Settings = tier.Backup ?? throw NotConfigured(tier);
            Store = BackupStore.Parse(Settings.Store);
        }

        public BackupSettings Settings { get; }
        public BackupStore Store { get; }

        internal IHostTransport StoreTransport => _transports(Store.Via);

        /// <summary>Whole backups of the given services, newest first.</summary>
        public async Task<IReadOnlyList<BackupInfo>> ListAsync(IEnumerable<string> services, CancellationToken cancellationToken)
        {
            var files = await Store.ListAsync(StoreTransport, services, cancellationToken).ConfigureAwait(false);
            var now = _clock();
            return files.GroupBy(f => f.Service, StringComparer.Ordinal)
                .SelectMany(g => FromFiles(g.Key, g.ToList(), now, Store.Location))
                .OrderByDescending(b => b.Time).ThenBy(b => b.Service, StringComparer.Ordinal)
                .ToList();
        }

        /// <summary>Whole backups of one service, newest first.</summary>
        public Task<IReadOnlyList<BackupInfo>> ListAsync(string service, CancellationToken cancellationToken) => ListAsync(new[] { service }, cancellationToken);

        /// <summary>The newest backup of <paramref name="service"/> that is whole and has not failed a test, or null.</summary>
        public async Task<BackupInfo?> NewestGoodAsync(string service, CancellationToken cancellationToken) =>
            (await ListAsync(service, cancellationToken).ConfigureAwait(false)).FirstOrDefault(b => b.IsGood);

        /// <summary>Whether the newest good backup of a service is younger than <c>backup.maxAge</c> (the checks engine's freshness check).</summary>
        public async Task<BackupFreshness> FreshnessAsync(Service service, CancellationToken cancellationToken)
        {
            if (service.Backup.IsNone) return new BackupFreshness(service.Name, false, null, Settings.MaxAge, _clock(), service.Backup.NoneReason);
            var newest = await NewestGoodAsync(service.Name, cancellationToken).ConfigureAwait(false);
            return new BackupFreshness(service.Name, true, newest, Settings.MaxAge, _clock(), null);
        }

        /// <summary>One backup by base name, or the newest whole one when <paramref name="backupName"/> is null.</summary>
        public async Task<BackupInfo> FindAsync(string service, string? backupName, CancellationToken cancellationToken)
        {
            var all = await ListAsync(service, cancellationToken).ConfigureAwait(false);
            var found = backupName == null ? all.FirstOrDefault() : all.FirstOrDefault(b => b.BackupName == StripSuffix(backupName));
            return found ?? throw new BackupException("BackupNotFound", DeevErrorKind.ObjectNotFound,
                backupName == null ? $"There is no whole backup of '{service}' in {Store.Location}." : $"There is no whole backup '{backupName}' of '{service}' in {Store.Location}.",
                backupName ?? service) { RecommendedAction = "List the backups with Get-DeevBackup, or take one with Backup-DeevService." };
        }

        /// <summary>Removes leftover <c>.partial</c> files of a service (an earlier run that died).</summary>
        public async Task<IReadOnlyList<string>> CleanPartialsAsync(string service, CancellationToken cancellationToken)
        {
            var files = await Store.ListAsync(StoreTransport, new[] { service }, cancellationToken).ConfigureAwait(false);
            var partials = files.Where(f => f.Name.EndsWith(BackupStore.PartialSuffix, StringComparison.Ordinal) && f.Name.StartsWith(service + "-", StringComparison.Ordinal)).Select(f => f.Name).ToList();
            await Store.DeleteAsync(StoreTransport, service, partials, cancellationToken).ConfigureAwait(false);
            return partials;
        }

        /// <summary>
        /// Keeps the newest <c>backup.keep</c> whole backups of a service and removes the rest, with their sidecars,
        /// leftover partial files and orphaned sidecars. The newest verified backup and the newest one not known to be
        /// bad are always kept as well, whatever <c>keep</c> says. Returns the removed base names.
        /// </summary>
        public async Task<IReadOnlyList<string>> ApplyRetentionAsync(string service, CancellationToken cancellationToken)
        {
            var files = await Store.ListAsync(StoreTransport, new[] { service }, cancellationToken).ConfigureAwait(false);
            var plan = PlanRetention(service, files, Settings.Keep, _clock());
            await Store.DeleteAsync(StoreTransport, service, plan.Files, cancellationToken).ConfigureAwait(false);
            return plan.RemovedBackups;
        }

        /// <summary>The retention decision alone (pure, for tests and -WhatIf).</summary>
        public static RetentionPlan PlanRetention(string service, IReadOnlyList<StoredFile> files, int keep, DateTime nowUtc)
        {
            var whole = FromFiles(service, files, nowUtc, ""); // newest first
            var kept = new HashSet<string>(whole.Take(Math.Max(1, keep)).Select(b => b.BackupName), StringComparer.Ordinal);
            // Never-tested backups are not proof of anything (a lost private key makes every new one unreadable), so
            // the newest verified backup stays whatever came after it; so does the newest one not known to be bad.
            var newestVerified = whole.FirstOrDefault(b => b.Status == BackupStatus.Verified);
            if (newestVerified != null) kept.Add(newestVerified.BackupName);
            var newestGood = whole.FirstOrDefault(b => b.IsGood);
            if (newestGood != null) kept.Add(newestGood.BackupName);
            var removed = whole.Where(b => !kept.Contains(b.BackupName)).Select(b => b.BackupName).ToList();
            var wholeNames = new HashSet<string>(whole.Select(b => b.BackupName), StringComparer.Ordinal);
            var delete = new List<string>();
            foreach (var f in files)
            {
                if (!f.Name.StartsWith(service + "-", StringComparison.Ordinal)) continue; // not ours: never touched
                if (f.Name.EndsWith(BackupStore.PartialSuffix, StringComparison.Ordinal))
                {
                    delete.Add(f.Name);
                    continue;
                }
                var baseName = BaseOf(f.Name);
                if (baseName == null) continue;
                if (!wholeNames.Contains(baseName) || removed.Contains(baseName)) delete.Add(f.Name);
            }
            return new RetentionPlan(removed, delete);
        }

        private static List<BackupInfo> FromFiles(string service, IReadOnlyList<StoredFile> files, DateTime nowUtc, string location)
        {
            var byName = files.ToDictionary(f => f.Name, StringComparer.Ordinal);
            var result = new List<BackupInfo>();
            foreach (var f in files)
            {
                if (!f.Name.EndsWith(BackupStore.ArchiveSuffix, StringComparison.Ordinal)) continue;
                var baseName = f.Name.Substring(0, f.Name.Length - BackupStore.ArchiveSuffix.Length);
                if (!BackupName.TryParse(service, baseName, out var host, out var time)) continue;
                byName.TryGetValue(baseName + BackupStore.MetaSuffix, out var meta);
                byName.TryGetValue(baseName + BackupStore.VerifySuffix, out var verify);
                var info = new BackupInfo(service, meta?.Get("host") ?? host, baseName, time, f.Size, StatusOf(verify), location)
                {
                    Age = nowUtc - time,
                    PlainSize = ParseLong(meta?.Get("plainSize")),
                    EntryCount = (int?)ParseLong(meta?.Get("entries")),
                    Sha256 = meta?.Get("sha256"),
                    Paths = meta?.Values.Where(v => v.Key == "path").Select(v => v.Value).ToList() ?? new List<string>(),
                    VerifiedAt = ParseTime(verify?.Get("time")),
                };
                result.Add(info);
            }
            return result.OrderByDescending(b => b.Time).ThenByDescending(b => b.BackupName, StringComparer.Ordinal).ToList();
        }

        private static BackupStatus StatusOf(StoredFile? verify) =>
            verify?.Get("result") switch
            {
                "passed" => BackupStatus.Verified,
                "failed" => BackupStatus.Failed,
                _ => BackupStatus.Unverified,
            };

        private static string? BaseOf(string name)
        {
            foreach (var suffix in new[] { BackupStore.ArchiveSuffix, BackupStore.MetaSuffix, BackupStore.VerifySuffix })
            {
                if (name.EndsWith(suffix, StringComparison.Ordinal)) return name.Substring(0, name.Length - suffix.Length);
            }
            return null;
        }

        private static string StripSuffix(string name) => BaseOf(name) ?? name;

        private static long? ParseLong(string? text) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (long?)null;

        private static DateTime? ParseTime(string? text) =>
            DateTime.TryParseExact(text, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : (DateTime?)null;

        internal static BackupException NotConfigured(SiteTier tier) =>
            new BackupException("BackupNotConfigured", DeevErrorKind.InvalidOperation, $"The tier {tier.SourcePath} has no 'backup' section (store, recipient).", tier.SourcePath);
    }

    /// <summary>What retention removes: whole backups by base name, and every file it deletes.</summary>
    public sealed class RetentionPlan
    {
        public RetentionPlan(IReadOnlyList<string> removedBackups, IReadOnlyList<string> files)
        {
            RemovedBackups = removedBackups;
            Files = files;
        }

        public IReadOnlyList<string> RemovedBackups { get; }
        public IReadOnlyList<string> Files { get; }
    }
}
