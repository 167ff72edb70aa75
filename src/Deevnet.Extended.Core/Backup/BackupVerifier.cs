using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// <c>Test-DeevBackup</c>: decrypts a stored backup in a stream (nothing is written anywhere), checks every member
    /// against the MANIFEST inside it (type, size, SHA-256, mode, owner, time, link target), checks the ciphertext
    /// against the sidecar's SHA-256, and names each bad file. The result is recorded beside the backup
    /// (<c>.verify</c>: time and passed/failed, no file names) so listing and freshness know failed backups.
    /// </summary>
    public sealed class BackupVerifier
    {
        private readonly BackupCatalog _catalog;
        private readonly IProgress<OperationProgress>? _progress;
        private readonly Func<DateTime> _clock;

        public BackupVerifier(SiteTier tier, Func<Via, IHostTransport> transports, IProgress<OperationProgress>? progress = null, Func<DateTime>? clock = null)
        {
            _clock = clock ?? (() => DateTime.UtcNow);
            _catalog = new BackupCatalog(tier, transports, _clock);
            _progress = progress;
        }

        public BackupCatalog Catalog => _catalog;

        public TimeSpan StreamTimeout { get; set; } = TimeSpan.FromHours(24);

        /// <summary>Accept a backup without a seal (-AllowUnsigned); a seal that does not verify is refused always.</summary>
        public bool AllowUnsigned { get; set; }

        /// <summary>
        /// Tests one backup. <paramref name="identityFile"/> overrides the tier's <c>backup.identityFile</c>;
        /// <paramref name="record"/> writes the result beside the backup (<c>.verify</c>).
        /// </summary>
        public async Task<BackupTestResult> TestAsync(BackupInfo backup, CancellationToken cancellationToken, string? identityFile = null, bool record = true)
        {
            BackupCatalog.RequireAuthenticated(backup, AllowUnsigned);
            var key = BackupReader.RequireIdentity(_catalog, identityFile);
            var activity = $"Testing {backup.BackupName}";
            using var pipe = new TarPipe(null, captureManifest: true, holdEnd: false);
            var outcome = await BackupReader.ReadAsync(_catalog.Store, _catalog.StoreTransport, backup, key, pipe,
                bytes => _progress?.Report(new OperationProgress(activity, $"{BackupEngine.Size(bytes)} decrypted and checked", Percent(bytes, backup.PlainSize))),
                StreamTimeout, cancellationToken).ConfigureAwait(false);
            _progress?.Report(new OperationProgress(activity, "done", 100, null, completed: true));
            BackupReader.ThrowIfKeyProblem(outcome, key, backup);

            var problems = new List<BackupProblem>();
            var archive = $"{_catalog.Store.Location}/{backup.Service}/{backup.FileName}";
            var readWhole = outcome.AgeExit == 0 && outcome.StoreError == null && outcome.TarError == null && pipe.Ended;
            if (backup.Sha256 != null && outcome.AgeExit == 0 && outcome.StoreError == null && !string.Equals(outcome.CipherSha256, backup.Sha256, StringComparison.Ordinal))
                problems.Add(new BackupProblem(archive, $"the encrypted file differs from what was written (SHA-256 mismatch with its {(backup.Seal != null ? "seal" : ".meta")})"));
            if (outcome.AgeExit != 0)
                problems.Add(new BackupProblem(pipe.CurrentPath != null ? "/" + pipe.CurrentPath : archive,
                    $"the encrypted archive is damaged{(pipe.CurrentPath != null ? " inside this file" : "")}: {BackupStore.FirstLine(outcome.AgeError)}"));
            else if (outcome.StoreError != null)
                problems.Add(new BackupProblem(archive, "could not be read from the store: " + outcome.StoreError.Message));
            if (outcome.TarError != null)
                problems.Add(new BackupProblem(pipe.CurrentPath != null ? "/" + pipe.CurrentPath : archive, outcome.TarError.Message));
            else if (outcome.AgeExit == 0 && !pipe.Ended)
                problems.Add(new BackupProblem(pipe.CurrentPath != null ? "/" + pipe.CurrentPath : archive, "the archive ends early (truncated)"));

            if (readWhole)
            {
                if (pipe.Manifest == null)
                {
                    problems.Add(new BackupProblem(TarPipe.ManifestName, "the archive has no MANIFEST"));
                }
                else
                {
                    try
                    {
                        var manifest = BackupManifest.Parse(pipe.Manifest, backup.BackupName);
                        if (manifest.Service != backup.Service || manifest.Host != backup.HostName)
                            problems.Add(new BackupProblem(TarPipe.ManifestName, $"describes {manifest.Service} on {manifest.Host}, not {backup.Service} on {backup.HostName}"));
                        problems.AddRange(ManifestCheck.Compare(manifest.Entries, pipe.Entries, extrasAreProblems: true));
                    }
                    catch (BackupException ex)
                    {
                        problems.Add(new BackupProblem(TarPipe.ManifestName, ex.Message));
                    }
                }
            }

            // A whole, readable archive that is not the signed one: someone with the public recipient put it in the
            // place of a signed backup. Refused (and recorded as failed), naming what differs inside it.
            if (readWhole && backup.Seal != null)
            {
                var replaced = !string.Equals(outcome.CipherSha256, backup.Seal.ArchiveSha256, StringComparison.Ordinal)
                    ? $"The archive of {backup.BackupName} is not the one its seal signed (SHA-256 {outcome.CipherSha256}, signed {backup.Seal.ArchiveSha256}): it was replaced."
                    : pipe.Manifest != null && BackupSeal.Sha256Hex(pipe.Manifest) != backup.Seal.ManifestSha256 ? $"The MANIFEST inside {backup.BackupName} is not the one its seal signed." : null;
                if (replaced != null)
                {
                    if (record) await RecordAsync(backup, false, problems.Count, pipe.Entries.Count, cancellationToken).ConfigureAwait(false);
                    var inside = problems.FirstOrDefault(p => p.Path != archive);
                    throw new BackupException("BackupUnauthenticated", Errors.DeevErrorKind.SecurityError, replaced + (inside != null ? $" Inside it: {inside}." : ""), backup.BackupName)
                    { RecommendedAction = "Do not use it; find out who wrote it to the store, and restore another backup." };
                }
            }

            var result = new BackupTestResult(backup, problems, pipe.Entries.Count, pipe.BytesRead);
            if (record) await RecordAsync(backup, result.Passed, problems.Count, pipe.Entries.Count, cancellationToken).ConfigureAwait(false);
            return result;
        }

        private async Task RecordAsync(BackupInfo backup, bool passed, int problems, int entries, CancellationToken cancellationToken)
        {
            var text = $"time={_clock().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\nresult={(passed ? "passed" : "failed")}\nproblems={problems}\nentries={entries}\n";
            await _catalog.Store.WriteTextAsync(_catalog.StoreTransport, backup.Service, backup.BackupName + BackupStore.VerifySuffix, text, cancellationToken).ConfigureAwait(false);
            if (backup.Status != BackupStatus.Unauthenticated) backup.Status = passed ? BackupStatus.Verified : BackupStatus.Failed;
        }

        internal static int Percent(long bytes, long? total) => total is > 0 ? (int)Math.Min(99, bytes * 100 / total.Value) : -1;
    }
}
