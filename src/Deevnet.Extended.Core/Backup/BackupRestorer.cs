using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// <c>Restore-DeevService</c>, confined: one guarded script on the host (<see cref="RestoreScript"/>) runs
    /// <c>before</c>, extracts into staging, moves the staging into place, reads the restored paths back and runs
    /// <c>after</c> (always, once <c>before</c> ran, even on Ctrl-C or a dropped connection). This side decrypts the
    /// backup, checks every member against the service's declared paths as it streams (<see cref="RestoreConfinement"/>)
    /// and the whole stream against its manifest, and only then sends the commit member without which the host moves
    /// nothing. The read-back is compared with the manifest before <c>after</c> runs, so a service that rewrites its
    /// files on start does not spoil it. Restoring to another host or under another root is how a rebuild is rehearsed.
    /// </summary>
    public sealed class BackupRestorer
    {
        private readonly SiteTier _tier;
        private readonly Func<Via, IHostTransport> _transports;
        private readonly IOperationLog _log;
        private readonly IProgress<OperationProgress>? _progress;

        public BackupRestorer(SiteTier tier, Func<Via, IHostTransport> transports, IOperationLog? log = null, IProgress<OperationProgress>? progress = null)
        {
            _tier = tier;
            _transports = transports;
            _log = log ?? NullOperationLog.Instance;
            _progress = progress;
            Catalog = new BackupCatalog(tier, transports);
        }

        public BackupCatalog Catalog { get; }

        public TimeSpan StreamTimeout { get; set; } = TimeSpan.FromHours(24);

        /// <summary>Accept a backup without a seal (-AllowUnsigned); a seal that does not verify is refused always.</summary>
        public bool AllowUnsigned { get; set; }

        /// <summary>
        /// Refuses, before anything is touched, a backup whose origin is not proven (<c>BackupUnauthenticated</c>):
        /// its seal must verify, and the archive's bytes must be the ones the seal signed.
        /// </summary>
        private async Task RequireAuthenticatedAsync(BackupInfo backup, CancellationToken cancellationToken)
        {
            BackupCatalog.RequireAuthenticated(backup, AllowUnsigned);
            await Catalog.RequireSealedArchiveAsync(backup, StreamTimeout, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>What a restore would do (-WhatIf), without touching anything.</summary>
        public ChangePlan Plan(Service service, BackupInfo backup, RestoreTarget target)
        {
            var host = ResolveHost(service, target);
            var root = CheckRoot(target.Root);
            var changes = new List<PlannedChange>();
            if (target.RunCommands && service.Backup.Before != null) changes.Add(new PlannedChange(ChangeAction.Change, "Command", "before", null, service.Backup.Before, host.Name));
            foreach (var path in service.Backup.Paths)
                changes.Add(new PlannedChange(ChangeAction.Change, "Path", ManifestCheck.Display(root, path.TrimStart('/')), null, $"from {backup.BackupName}", host.Name));
            if (target.RunCommands && service.Backup.After != null) changes.Add(new PlannedChange(ChangeAction.Change, "Command", "after", null, service.Backup.After, host.Name));
            return new ChangePlan(host.Name, changes);
        }

        public async Task<RestoreResult> RestoreAsync(Service service, BackupInfo backup, RestoreTarget target, CancellationToken cancellationToken, string? identityFile = null)
        {
            await RequireAuthenticatedAsync(backup, cancellationToken).ConfigureAwait(false);
            var key = BackupReader.RequireIdentity(Catalog, identityFile);
            var host = ResolveHost(service, target);
            var root = CheckRoot(target.Root);
            // What may be written comes from the tier, never from the archive.
            var paths = BackupScripts.RelativePaths(service.Backup.Paths, service.Name);
            var id = RandomHex();
            var token = RandomHex();
            var script = RestoreScript.Build(root, paths, id, token, target.RunCommands ? service.Backup.Before : null, target.RunCommands ? service.Backup.After : null);
            var transport = _transports(_tier.ViaOf(host));
            var activity = $"Restoring {backup.BackupName} to {host.Name}:{root}";

            using var hostPipe = new BlockingPipe();
            using var pipe = new TarPipe(hostPipe.Writer, captureManifest: true, holdEnd: true, confine: new RestoreConfinement(paths));
            using var readBack = new TarPipe(null, captureManifest: false, holdEnd: false);
            var hostTask = transport.StreamAsync(script, readBack, cancellationToken, hostPipe.Reader, StreamTimeout);
            // If the host stops reading (refused target, failed before, tar failed), unblock the decrypting side.
            _ = hostTask.ContinueWith(_ => hostPipe.Abort(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            BackupManifest? manifest = null;
            BackupException? streamError = null;
            try
            {
                var outcome = await BackupReader.ReadAsync(Catalog.Store, Catalog.StoreTransport, backup, key, pipe,
                    bytes => _progress?.Report(new OperationProgress(activity, $"{BackupEngine.Size(bytes)} restored", BackupVerifier.Percent(bytes, backup.PlainSize))),
                    StreamTimeout, cancellationToken).ConfigureAwait(false);
                manifest = CheckStream(backup, key, outcome, pipe);
                // The bytes just streamed must be the ones the seal signed: the archive could have been swapped in the
                // store since the check before the restore. A mismatch throws before the host may commit.
                if (manifest != null) BackupCatalog.RequireSealedBytes(backup, outcome.CipherSha256);
                // Whole and checked: only now does the host get the member that lets it move the staging into place.
                if (manifest != null) pipe.Finish(Encoding.ASCII.GetBytes(token), BackupEngine.ToUnix(DateTime.UtcNow), RestoreScript.CommitMember(id));
            }
            catch (BackupException ex)
            {
                streamError = ex;
            }
            catch (IOException)
            {
                manifest = null;   // the host stopped reading; its status lines say why
            }
            catch (OperationCanceledException)
            {
                Observe(hostTask);   // the guard on the host cleans up and runs `after` on its own
                throw;
            }
            finally
            {
                hostPipe.Complete();
            }

            CommandResult? result = null;
            Exception? hostError = null;
            try
            {
                result = await hostTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is DeevException)
            {
                hostError = ex;
            }
            _progress?.Report(new OperationProgress(activity, "done", 100, null, completed: true));
            var stderr = result?.StandardError ?? "";
            var afterFailure = AfterFailure(service, host.Name, target.RunCommands, stderr, hostError);
            if (afterFailure != null) _log.Warning(afterFailure);
            if (streamError?.ErrorId == "BackupMemberRefused") throw streamError;
            ThrowIfHostFailed(service, backup, host.Name, root, paths, stderr, result, hostError, streamError);
            if (streamError != null) throw streamError;

            var problems = ManifestCheck.Compare(manifest!.Entries, readBack.Entries, extrasAreProblems: false, root);
            var extras = ManifestCheck.Extras(manifest.Entries, readBack.Entries, root).ToList();
            return new RestoreResult(backup, host.Name, root, manifest.Entries.Count, problems, extras, afterFailure);
        }

        /// <summary>The manifest of a stream that ended whole and matches it; null when the host stopped reading it.</summary>
        private static BackupManifest? CheckStream(BackupInfo backup, string key, BackupReader.Outcome outcome, TarPipe pipe)
        {
            if (outcome.TarError is BackupException refused) throw refused;
            BackupReader.ThrowIfKeyProblem(outcome, key, backup);
            if (outcome.TarError is IOException) return null;
            if (outcome.AgeExit != 0 || outcome.TarError != null || !pipe.Ended)
            {
                var where = pipe.CurrentPath != null ? $" inside /{pipe.CurrentPath}" : "";
                var why = outcome.AgeExit != 0 ? BackupStore.FirstLine(outcome.AgeError) : outcome.TarError?.Message ?? "the archive ends early";
                throw new BackupException("BackupCorrupted", DeevErrorKind.InvalidData,
                    $"Backup {backup.BackupName} is damaged{where}: {why}. Nothing was restored; run Test-DeevBackup and restore another backup.", backup.BackupName);
            }
            if (pipe.Manifest == null) throw new BackupException("BackupManifestInvalid", DeevErrorKind.InvalidData, $"Backup {backup.BackupName} has no MANIFEST; nothing was restored.", backup.BackupName);
            var manifest = BackupManifest.Parse(pipe.Manifest, backup.BackupName);
            var inArchive = ManifestCheck.Compare(manifest.Entries, pipe.Entries, extrasAreProblems: true);
            if (inArchive.Count > 0)
                throw new BackupException("BackupCorrupted", DeevErrorKind.InvalidData, $"Backup {backup.BackupName} does not match its own manifest: {inArchive[0]} ({inArchive.Count} problem(s)); nothing was restored.", inArchive[0].Path);
            return manifest;
        }

        /// <summary>Turns the host script's status lines into the error that says what happened, first cause first.</summary>
        private static void ThrowIfHostFailed(Service service, BackupInfo backup, string hostName, string root, IReadOnlyList<string> paths,
            string stderr, CommandResult? result, Exception? hostError, BackupException? streamError)
        {
            var refusedTarget = RestoreScript.TargetIndex(BackupScripts.Status(stderr, "target"));
            if (refusedTarget is int t && t >= 0 && t < paths.Count)
                throw new BackupException("RestoreTargetRefused", DeevErrorKind.SecurityError,
                    $"'{ManifestCheck.Display(root, paths[t])}' on {hostName} is a symlink; a restore never writes through one, so nothing was restored. Look at where it points and remove it if it is not meant to be there.", paths[t]);
            var before = BackupScripts.Status(stderr, "before");
            if (before != null && !BackupScripts.IsZero(before))
                throw new BackupException("RestoreFailed", DeevErrorKind.InvalidOperation,
                    $"The before command of '{service.Name}' on {hostName} failed (exit {before}), nothing was restored: {BackupScripts.Errors(stderr)}.", service.Name);
            if (hostError != null)
                throw new BackupException("RestoreFailed", (hostError as DeevException)?.Kind ?? DeevErrorKind.ConnectionError,
                    $"The restore of {backup.BackupName} on {hostName} was interrupted: {hostError.Message}. Nothing is moved into place unless the whole stream arrived; the host runs the after command on its own.", hostName, hostError);
            if (streamError != null) return;
            var extract = BackupScripts.Status(stderr, "extract");
            var commit = BackupScripts.Status(stderr, "commit");
            var move = BackupScripts.Status(stderr, "move");
            if (!BackupScripts.IsZero(extract) || !BackupScripts.IsZero(commit) || !BackupScripts.IsZero(move))
                throw new BackupException("RestoreFailed", DeevErrorKind.InvalidOperation,
                    $"Restoring {backup.BackupName} on {hostName} under {root} failed ({Step(extract, commit, move)}), nothing was moved into place: {BackupScripts.Errors(stderr)}", hostName);
            var check = BackupScripts.Status(stderr, "check");
            if (!BackupScripts.IsZero(check) || result == null)
                throw new BackupException("RestoreVerificationFailed", DeevErrorKind.InvalidData,
                    $"The files on {hostName} under {root} could not be read back (tar exit {check ?? "unknown"}): {BackupScripts.Errors(stderr)}", hostName);
        }

        private static string Step(string? extract, string? commit, string? move) =>
            !BackupScripts.IsZero(extract) ? $"extracting into the staging folder: tar exit {extract ?? "unknown"}"
            : !BackupScripts.IsZero(commit) ? "the stream did not arrive whole"
            : move == null ? "the script ended before moving into place" : $"moving path {move} into place; the previous files were put back";

        private static string? AfterFailure(Service service, string hostName, bool runCommands, string stderr, Exception? hostError)
        {
            if (!runCommands || service.Backup.After == null) return null;
            var after = BackupScripts.Status(stderr, "after");
            if (after == "none" || BackupScripts.IsZero(after)) return null;
            if (after == null) return hostError != null ? null : $"Whether the after command of '{service.Name}' on {hostName} ran is unknown: the script's status did not arrive.";
            return $"The after command of '{service.Name}' on {hostName} failed (exit {after}): {BackupScripts.Errors(stderr)}";
        }

        private static string RandomHex() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

        private static void Observe(Task task) => task.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);

        /// <summary>
        /// Whether a host holds what a backup would restore, without writing anything: decrypts the backup only to
        /// read its MANIFEST, reads the paths back from the host and compares them file by file (type, size,
        /// SHA-256, mode, owner, time, link target). Files the backup does not hold are <c>Extras</c>, not problems.
        /// A rebuild uses this to tell "already restored" from "restore needed".
        /// </summary>
        public async Task<RestoreResult> CompareAsync(Service service, BackupInfo backup, RestoreTarget target, CancellationToken cancellationToken, string? identityFile = null)
        {
            BackupCatalog.RequireAuthenticated(backup, AllowUnsigned);
            var key = BackupReader.RequireIdentity(Catalog, identityFile);
            var host = ResolveHost(service, target);
            var root = CheckRoot(target.Root);
            using var pipe = new TarPipe(null, captureManifest: true, holdEnd: false);
            var outcome = await BackupReader.ReadAsync(Catalog.Store, Catalog.StoreTransport, backup, key, pipe, null, StreamTimeout, cancellationToken).ConfigureAwait(false);
            BackupReader.ThrowIfKeyProblem(outcome, key, backup);
            if (outcome.AgeExit != 0 || outcome.StoreError != null || outcome.TarError != null || !pipe.Ended || pipe.Manifest == null)
                throw new BackupException("BackupCorrupted", DeevErrorKind.InvalidData,
                    $"The MANIFEST of {backup.BackupName} could not be read: {(outcome.AgeExit != 0 ? BackupStore.FirstLine(outcome.AgeError) : outcome.StoreError?.Message ?? outcome.TarError?.Message ?? "the archive ends early or has no MANIFEST")}. Run Test-DeevBackup.", backup.BackupName);
            BackupCatalog.RequireSealedBytes(backup, outcome.CipherSha256);
            var manifest = BackupManifest.Parse(pipe.Manifest, backup.BackupName);
            var transport = _transports(_tier.ViaOf(host));
            var (problems, extras) = await CheckHostAsync(service, manifest, transport, host.Name, root, cancellationToken).ConfigureAwait(false);
            return new RestoreResult(backup, host.Name, root, manifest.Entries.Count, problems, extras, null);
        }

        private async Task<(List<BackupProblem> Problems, List<string> Extras)> CheckHostAsync(Service service, BackupManifest manifest, IHostTransport transport, string hostName, string root, CancellationToken cancellationToken)
        {
            var paths = BackupScripts.RelativePaths(manifest.Paths, service.Name);
            using var check = new TarPipe(null, captureManifest: false, holdEnd: false);
            var reread = await transport.StreamAsync(BackupScripts.TarCreate(root, paths), check, cancellationToken, null, StreamTimeout).ConfigureAwait(false);
            if (!reread.Succeeded || !check.Ended)
                throw new BackupException("RestoreVerificationFailed", DeevErrorKind.InvalidData,
                    $"The files on {hostName} under {root} could not be read back (tar exit {reread.ExitStatus}): {BackupScripts.Errors(reread.StandardError)}", hostName);
            return (ManifestCheck.Compare(manifest.Entries, check.Entries, extrasAreProblems: false, root),
                    ManifestCheck.Extras(manifest.Entries, check.Entries, root).ToList());
        }

        private MgmtHost ResolveHost(Service service, RestoreTarget target)
        {
            var name = target.HostName ?? service.Host;
            return _tier.FindHost(name) ?? throw new BackupException("RestoreFailed", DeevErrorKind.ObjectNotFound, $"The host '{name}' is not in the tier.", name);
        }

        private static string CheckRoot(string root)
        {
            if (Tier.PathRules.WhyNotAnAbsolutePath(root) is { } why)
                throw new BackupException("RestoreFailed", DeevErrorKind.InvalidArgument, $"-Root: {Text.SafeText.Printable(why)}.", root);
            return root.Length > 1 ? root.TrimEnd('/') : root;
        }
    }
}
