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

        /// <summary>
        /// Tests one backup. <paramref name="identityFile"/> overrides the tier's <c>backup.identityFile</c>;
        /// <paramref name="record"/> writes the result beside the backup (<c>.verify</c>).
        /// </summary>
        public async Task<BackupTestResult> TestAsync(BackupInfo backup, CancellationToken cancellationToken, string? identityFile = null, bool record = true)
        {
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
            if (backup.Sha256 != null && outcome.AgeExit == 0 && outcome.StoreError == null && !string.Equals(outcome.CipherSha256, backup.Sha256, StringComparison.Ordinal))
                problems.Add(new BackupProblem(archive, "the encrypted file differs from what was written (SHA-256 mismatch with its .meta)"));
            if (outcome.AgeExit != 0)
                problems.Add(new BackupProblem(pipe.CurrentPath != null ? "/" + pipe.CurrentPath : archive,
                    $"the encrypted archive is damaged{(pipe.CurrentPath != null ? " inside this file" : "")}: {BackupStore.FirstLine(outcome.AgeError)}"));
            else if (outcome.StoreError != null)
                problems.Add(new BackupProblem(archive, "could not be read from the store: " + outcome.StoreError.Message));
            if (outcome.TarError != null)
                problems.Add(new BackupProblem(pipe.CurrentPath != null ? "/" + pipe.CurrentPath : archive, outcome.TarError.Message));
            else if (outcome.AgeExit == 0 && !pipe.Ended)
                problems.Add(new BackupProblem(pipe.CurrentPath != null ? "/" + pipe.CurrentPath : archive, "the archive ends early (truncated)"));

            var readWhole = outcome.AgeExit == 0 && outcome.StoreError == null && outcome.TarError == null && pipe.Ended;
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

            var result = new BackupTestResult(backup, problems, pipe.Entries.Count, pipe.BytesRead);
            if (record)
            {
                var text = $"time={_clock().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\nresult={(result.Passed ? "passed" : "failed")}\nproblems={problems.Count}\nentries={pipe.Entries.Count}\n";
                await _catalog.Store.WriteTextAsync(_catalog.StoreTransport, backup.Service, backup.BackupName + BackupStore.VerifySuffix, text, cancellationToken).ConfigureAwait(false);
                backup.Status = result.Passed ? BackupStatus.Verified : BackupStatus.Failed;
            }
            return result;
        }

        internal static int Percent(long bytes, long? total) => total is > 0 ? (int)Math.Min(99, bytes * 100 / total.Value) : -1;
    }
}
