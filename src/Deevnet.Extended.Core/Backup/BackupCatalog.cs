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
    /// Reads the store without the private key: which whole backups each service has, whether each one's seal proves
    /// it was taken by this site (only the public allowed signers are needed), their time, size and status, the newest
    /// good one (the freshness check), and retention. A backup is whole only once its archive has been
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

        /// <summary>Signs (when backups are taken here) and verifies seals.</summary>
        public BackupSigner Signer => _signer ??= new BackupSigner(Settings);

        private BackupSigner? _signer;

        internal IHostTransport StoreTransport => _transports(Store.Via);

        /// <summary>Whole backups of the given services, newest first, each with its seal checked.</summary>
        public async Task<IReadOnlyList<BackupInfo>> ListAsync(IEnumerable<string> services, CancellationToken cancellationToken)
        {
            var files = await Store.ListAsync(StoreTransport, services, cancellationToken).ConfigureAwait(false);
            var checks = await AuthenticateAsync(files, cancellationToken).ConfigureAwait(false);
            var now = _clock();
            return files.GroupBy(f => f.Service, StringComparer.Ordinal)
                .SelectMany(g => FromFiles(g.Key, g.ToList(), now, Store.Location, name => checks[(g.Key, name)]))
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
            var all = await ListAsync(service.Name, cancellationToken).ConfigureAwait(false);
            var newest = all.FirstOrDefault(b => b.IsGood);
            var unauthenticated = all.Where(b => b.Status == BackupStatus.Unauthenticated).ToList();
            var note = newest == null && unauthenticated.Count > 0
                ? $"{unauthenticated.Count} unauthenticated backup(s) do not count, e.g. {unauthenticated[0].BackupName}: {unauthenticated[0].SignatureProblem}"
                : null;
            return new BackupFreshness(service.Name, true, newest, Settings.MaxAge, _clock(), null, note);
        }

        /// <summary>
        /// One backup by base name (whatever its state: the caller refuses what it must), or, when
        /// <paramref name="backupName"/> is null, the newest authenticated whole one (an unauthenticated backup is
        /// never chosen: naming it is the only way to reach it).
        /// </summary>
        public async Task<BackupInfo> FindAsync(string service, string? backupName, CancellationToken cancellationToken)
        {
            var all = await ListAsync(service, cancellationToken).ConfigureAwait(false);
            var found = backupName == null ? all.FirstOrDefault(b => b.Signature == BackupSignature.Valid) : all.FirstOrDefault(b => b.BackupName == StripSuffix(backupName));
            if (found == null && backupName == null && all.Count > 0)
                throw Unauthenticated(all[0], $"There is no authenticated backup of '{service}' in {Store.Location}; the newest of {all.Count} unauthenticated one(s), {all[0].BackupName}, is refused: {all[0].SignatureProblem}.");
            return found ?? throw new BackupException("BackupNotFound", DeevErrorKind.ObjectNotFound,
                backupName == null ? $"There is no whole backup of '{service}' in {Store.Location}." : $"There is no whole backup '{backupName}' of '{service}' in {Store.Location}.",
                backupName ?? service) { RecommendedAction = "List the backups with Get-DeevBackup, or take one with Backup-DeevService." };
        }

        /// <summary>
        /// Refuses a backup whose origin is not proven, with <c>BackupUnauthenticated</c>. <paramref name="allowUnsigned"/>
        /// (the cmdlets' -AllowUnsigned) accepts one that has no seal at all, or a tier that cannot check seals; a seal
        /// that does not verify or belongs to another archive is refused always.
        /// </summary>
        public static void RequireAuthenticated(BackupInfo backup, bool allowUnsigned)
        {
            if (backup.Signature == BackupSignature.Valid) return;
            if (allowUnsigned && backup.Signature != BackupSignature.Invalid) return;
            throw Unauthenticated(backup, $"Backup {backup.BackupName} is not authenticated: {backup.SignatureProblem}.");
        }

        /// <summary>
        /// Reads the encrypted archive once (no key involved) and compares its SHA-256 with the verified seal: proves,
        /// before anything is written, that the archive is the one that was signed and not another put under its name.
        /// </summary>
        public async Task RequireSealedArchiveAsync(BackupInfo backup, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (backup.Seal == null) return; // an unsigned backup accepted with -AllowUnsigned: nothing to compare with
            using var hash = new MeterStream(null);
            await Store.ReadAsync(StoreTransport, backup.Service, backup.FileName, hash, timeout, cancellationToken).ConfigureAwait(false);
            RequireSealedBytes(backup, hash.Sha256());
        }

        /// <summary>Refuses an archive whose bytes (SHA-256 as read) are not the ones its seal signed.</summary>
        public static void RequireSealedBytes(BackupInfo backup, string archiveSha256)
        {
            if (backup.Seal == null || string.Equals(backup.Seal.ArchiveSha256, archiveSha256, StringComparison.Ordinal)) return;
            throw Unauthenticated(backup, $"The archive of {backup.BackupName} is not the one its seal signed (SHA-256 {archiveSha256}, signed {backup.Seal.ArchiveSha256}): it was replaced.");
        }

        private static BackupException Unauthenticated(BackupInfo backup, string message) =>
            new BackupException("BackupUnauthenticated", DeevErrorKind.SecurityError, message, backup.BackupName)
            {
                RecommendedAction = backup.Signature == BackupSignature.Invalid
                    ? "Do not use it: it was not signed by a key of backup.allowedSignersFile, or was changed since. Find out who wrote it to the store."
                    : "A backup taken before signing was turned on can be used explicitly: name it with -BackupName and pass -AllowUnsigned.",
            };

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
            var checks = await AuthenticateAsync(files, cancellationToken).ConfigureAwait(false);
            var plan = PlanRetention(service, files, Settings.Keep, _clock(), name => checks[(service, name)].Signature == BackupSignature.Valid);
            await Store.DeleteAsync(StoreTransport, service, plan.Files, cancellationToken).ConfigureAwait(false);
            return plan.RemovedBackups;
        }

        /// <summary>
        /// The retention decision alone (pure, for tests and -WhatIf). <paramref name="authenticated"/> says, by base
        /// name, whether a backup's seal verified: only those count and only those are ever removed. An unauthenticated
        /// backup (planted, or taken before signing was on) neither fills a place of <c>keep</c> nor is deleted, so
        /// planting backups can never push a good one out.
        /// </summary>
        public static RetentionPlan PlanRetention(string service, IReadOnlyList<StoredFile> files, int keep, DateTime nowUtc, Func<string, bool> authenticated)
        {
            var whole = FromFiles(service, files, nowUtc, "", name => authenticated(name) ? SealCheck.Assumed : SealCheck.Missing)
                .Where(b => b.Signature == BackupSignature.Valid).ToList(); // newest first
            var kept = new HashSet<string>(whole.Take(Math.Max(1, keep)).Select(b => b.BackupName), StringComparer.Ordinal);
            // Never-tested backups are not proof of anything (a lost private key makes every new one unreadable), so
            // the newest verified backup stays whatever came after it; so does the newest one not known to be bad.
            var newestVerified = whole.FirstOrDefault(b => b.Status == BackupStatus.Verified);
            if (newestVerified != null) kept.Add(newestVerified.BackupName);
            var newestGood = whole.FirstOrDefault(b => b.IsGood);
            if (newestGood != null) kept.Add(newestGood.BackupName);
            var removed = whole.Where(b => !kept.Contains(b.BackupName)).Select(b => b.BackupName).ToList();
            var wholeNames = new HashSet<string>(files.Where(f => f.Name.EndsWith(BackupStore.ArchiveSuffix, StringComparison.Ordinal))
                .Select(f => f.Name.Substring(0, f.Name.Length - BackupStore.ArchiveSuffix.Length)), StringComparer.Ordinal);
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

        private static List<BackupInfo> FromFiles(string service, IReadOnlyList<StoredFile> files, DateTime nowUtc, string location, Func<string, SealCheck> check)
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
                var sealCheck = check(baseName);
                var seal = sealCheck.Seal;
                var valid = sealCheck.Signature == BackupSignature.Valid;
                var info = new BackupInfo(service, host, baseName, time, f.Size, valid ? StatusOf(verify) : BackupStatus.Unauthenticated, location)
                {
                    Age = nowUtc - time,
                    Signature = sealCheck.Signature,
                    SignatureProblem = sealCheck.Problem,
                    SignedBy = sealCheck.Principal,
                    Seal = seal,
                    // What a verified seal says is trusted; the .meta sidecar is shown for unauthenticated backups only,
                    // and never their paths (a restore shows the tier's paths for those).
                    PlainSize = seal?.PlainSize ?? ParseLong(meta?.Get("plainSize")),
                    EntryCount = seal?.EntryCount ?? (int?)ParseLong(meta?.Get("entries")),
                    Sha256 = seal?.ArchiveSha256 ?? meta?.Get("sha256"),
                    Paths = seal?.Paths ?? (IReadOnlyList<string>)Array.Empty<string>(),
                    VerifiedAt = ParseTime(verify?.Get("time")),
                };
                result.Add(info);
            }
            return result.OrderByDescending(b => b.Time).ThenByDescending(b => b.BackupName, StringComparer.Ordinal).ToList();
        }

        /// <summary>Checks the seal of every whole backup in <paramref name="files"/>, keyed by (service, base name).</summary>
        private async Task<Dictionary<(string, string), SealCheck>> AuthenticateAsync(IReadOnlyList<StoredFile> files, CancellationToken cancellationToken)
        {
            var byName = files.GroupBy(f => (f.Service, f.Name)).ToDictionary(g => g.Key, g => g.First());
            var result = new Dictionary<(string, string), SealCheck>();
            foreach (var f in files)
            {
                if (!f.Name.EndsWith(BackupStore.ArchiveSuffix, StringComparison.Ordinal)) continue;
                var baseName = f.Name.Substring(0, f.Name.Length - BackupStore.ArchiveSuffix.Length);
                byName.TryGetValue((f.Service, baseName + BackupStore.SealSuffix), out var seal);
                result[(f.Service, baseName)] = await CheckSealAsync(f, baseName, seal, cancellationToken).ConfigureAwait(false);
            }
            return result;
        }

        private async Task<SealCheck> CheckSealAsync(StoredFile archive, string baseName, StoredFile? sealFile, CancellationToken cancellationToken)
        {
            if (!Signer.CanVerify) return new SealCheck(BackupSignature.Unchecked, "the tier names no backup.allowedSignersFile, so no seal can be checked");
            if (sealFile == null) return new SealCheck(BackupSignature.Missing, $"it has no {BackupStore.SealSuffix} (it is unsigned)");
            if (sealFile.Content == null || sealFile.Size > BackupSeal.MaxBytes || !BackupSeal.TrySplit(sealFile.Content, out var message, out var signature))
                return new SealCheck(BackupSignature.Invalid, $"its {BackupStore.SealSuffix} is not a signed seal");
            var (principal, problem) = await Signer.VerifyAsync(message, signature, cancellationToken).ConfigureAwait(false);
            if (problem != null) return new SealCheck(BackupSignature.Invalid, $"its seal {problem}");
            var seal = BackupSeal.TryParse(message, out var parseProblem);
            if (seal == null) return new SealCheck(BackupSignature.Invalid, parseProblem);
            BackupName.TryParse(archive.Service, baseName, out var host, out var time);
            if (seal.BackupName != baseName || seal.Service != archive.Service || seal.Host != host || seal.TimeUtc != time)
                return new SealCheck(BackupSignature.Invalid, $"its seal was signed for {seal.BackupName}, another backup");
            if (seal.ArchiveSize != archive.Size)
                return new SealCheck(BackupSignature.Invalid, $"the archive has {archive.Size} bytes, its seal signed {seal.ArchiveSize}: it is not the archive that was signed");
            return new SealCheck(BackupSignature.Valid, null, principal, seal);
        }

        /// <summary>The outcome of checking one backup's seal.</summary>
        private sealed class SealCheck
        {
            public static readonly SealCheck Assumed = new SealCheck(BackupSignature.Valid, null);
            public static readonly SealCheck Missing = new SealCheck(BackupSignature.Missing, "unsigned");

            public SealCheck(BackupSignature signature, string? problem, string? principal = null, BackupSeal? seal = null)
            {
                Signature = signature;
                Problem = problem;
                Principal = principal;
                Seal = seal;
            }

            public BackupSignature Signature { get; }
            public string? Problem { get; }
            public string? Principal { get; }
            public BackupSeal? Seal { get; }
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
            foreach (var suffix in new[] { BackupStore.ArchiveSuffix, BackupStore.MetaSuffix, BackupStore.VerifySuffix, BackupStore.SealSuffix })
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
