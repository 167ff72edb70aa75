using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
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
    /// <c>Restore-DeevService</c>: <c>before</c> → decrypt and extract (streamed, the MANIFEST member held back) →
    /// re-read the restored paths on the host and check them against the manifest → <c>after</c> (always, once
    /// <c>before</c> ran). The check runs before <c>after</c> so a service that rewrites its files on start does
    /// not spoil it. Restoring to another host or under another root is how a rebuild is rehearsed.
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
            foreach (var path in backup.Paths.Count > 0 ? backup.Paths : service.Backup.Paths)
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
            var transport = _transports(_tier.ViaOf(host));
            var runCommands = target.RunCommands;
            var activity = $"Restoring {backup.BackupName} to {host.Name}:{root}";

            if (runCommands && service.Backup.Before != null)
            {
                var before = await transport.RunAsync(BackupScripts.Command(service.Backup.Before), cancellationToken).ConfigureAwait(false);
                if (!before.Succeeded)
                {
                    var afterNote = await RunAfterAsync(service, host, transport, runCommands, cancellationToken).ConfigureAwait(false);
                    throw new BackupException("RestoreFailed", DeevErrorKind.InvalidOperation,
                        $"The before command of '{service.Name}' on {host.Name} failed (exit {before.ExitStatus}), nothing was restored: {BackupScripts.Errors(before.StandardError)}.{Note(afterNote)}", service.Name);
                }
            }

            string? afterFailure;
            BackupManifest manifest;
            List<BackupProblem> problems;
            List<string> extras;
            try
            {
                manifest = await ExtractAsync(backup, key, transport, host.Name, root, activity, cancellationToken).ConfigureAwait(false);
                (problems, extras) = await CheckHostAsync(service, manifest, transport, host.Name, root, cancellationToken).ConfigureAwait(false);
                if (extras.Count > 0) _log.Warning($"{extras.Count} file(s) under the restored paths on {host.Name} are not in the backup and were left in place, e.g. {extras[0]}.");
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                var afterNote = await RunAfterAsync(service, host, transport, runCommands, CancellationToken.None).ConfigureAwait(false);
                if (afterNote != null) _log.Warning(afterNote);
                throw;
            }
            afterFailure = await RunAfterAsync(service, host, transport, runCommands, cancellationToken).ConfigureAwait(false);
            return new RestoreResult(backup, host.Name, root, manifest.Entries.Count, problems, extras, afterFailure);
        }

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
            var reread = await transport.RunAsync(BackupScripts.TarCreate(root, paths), check, cancellationToken, null, StreamTimeout).ConfigureAwait(false);
            if (!reread.Succeeded || !check.Ended)
                throw new BackupException("RestoreVerificationFailed", DeevErrorKind.InvalidData,
                    $"The files on {hostName} under {root} could not be read back (tar exit {reread.ExitStatus}): {BackupScripts.Errors(reread.StandardError)}", hostName);
            return (ManifestCheck.Compare(manifest.Entries, check.Entries, extrasAreProblems: false, root),
                    ManifestCheck.Extras(manifest.Entries, check.Entries, root).ToList());
        }

        private async Task<BackupManifest> ExtractAsync(BackupInfo backup, string key, IHostTransport transport, string hostName, string root, string activity, CancellationToken cancellationToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var hostPipe = new BlockingPipe();
            using var pipe = new TarPipe(hostPipe.Writer, captureManifest: true, holdEnd: false);
            var hostTask = transport.RunAsync(BackupScripts.TarExtract(root), Stream.Null, linked.Token, hostPipe.Reader, StreamTimeout);
            // If the host stops reading (tar failed), unblock the decrypting side instead of waiting for ever.
            _ = hostTask.ContinueWith(_ => hostPipe.Abort(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            BackupReader.Outcome outcome;
            try
            {
                outcome = await BackupReader.ReadAsync(Catalog.Store, Catalog.StoreTransport, backup, key, pipe,
                    bytes => _progress?.Report(new OperationProgress(activity, $"{BackupEngine.Size(bytes)} restored", BackupVerifier.Percent(bytes, backup.PlainSize))),
                    StreamTimeout, linked.Token).ConfigureAwait(false);
            }
            finally
            {
                hostPipe.Complete();
            }
            CommandResult? extract = null;
            Exception? hostError = null;
            try
            {
                extract = await hostTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                hostError = ex;
            }
            _progress?.Report(new OperationProgress(activity, "done", 100, null, completed: true));
            BackupReader.ThrowIfKeyProblem(outcome, key, backup);
            if (outcome.AgeExit != 0 || outcome.TarError != null || !pipe.Ended)
            {
                var where = pipe.CurrentPath != null ? $" inside /{pipe.CurrentPath}" : "";
                var why = outcome.AgeExit != 0 ? BackupStore.FirstLine(outcome.AgeError) : outcome.TarError?.Message ?? "the archive ends early";
                throw new BackupException("BackupCorrupted", DeevErrorKind.InvalidData,
                    $"Backup {backup.BackupName} is damaged{where}: {why}. Files before that point were restored on {hostName}; run Test-DeevBackup and restore another backup.", backup.BackupName);
            }
            if (hostError != null || extract == null || !extract.Succeeded)
                throw new BackupException("RestoreFailed", DeevErrorKind.InvalidOperation,
                    $"Extracting {backup.BackupName} on {hostName} under {root} failed: {hostError?.Message ?? BackupScripts.Errors(extract!.StandardError)}", hostName, hostError);
            if (pipe.Manifest == null) throw new BackupException("BackupManifestInvalid", DeevErrorKind.InvalidData, $"Backup {backup.BackupName} has no MANIFEST; the restored files cannot be checked.", backup.BackupName);
            var manifest = BackupManifest.Parse(pipe.Manifest, backup.BackupName);
            var inArchive = ManifestCheck.Compare(manifest.Entries, pipe.Entries, extrasAreProblems: true);
            if (inArchive.Count > 0)
                throw new BackupException("BackupCorrupted", DeevErrorKind.InvalidData, $"Backup {backup.BackupName} does not match its own manifest: {inArchive[0]} ({inArchive.Count} problem(s)).", inArchive[0].Path);
            return manifest;
        }

        private static async Task<string?> RunAfterAsync(Service service, MgmtHost host, IHostTransport transport, bool runCommands, CancellationToken cancellationToken)
        {
            if (!runCommands || service.Backup.After == null) return null;
            try
            {
                var after = await transport.RunAsync(BackupScripts.Command(service.Backup.After), cancellationToken).ConfigureAwait(false);
                return after.Succeeded ? null : $"The after command of '{service.Name}' on {host.Name} failed (exit {after.ExitStatus}): {BackupScripts.Errors(after.StandardError)}";
            }
            catch (DeevException ex)
            {
                return $"The after command of '{service.Name}' on {host.Name} could not run: {ex.Message}";
            }
        }

        private static string Note(string? afterFailure) => afterFailure == null ? " The after command ran." : " " + afterFailure;

        private MgmtHost ResolveHost(Service service, RestoreTarget target)
        {
            var name = target.HostName ?? service.Host;
            return _tier.FindHost(name) ?? throw new BackupException("RestoreFailed", DeevErrorKind.ObjectNotFound, $"The host '{name}' is not in the tier.", name);
        }

        private static string CheckRoot(string root)
        {
            if (!root.StartsWith("/", StringComparison.Ordinal) || root.IndexOf('\0') >= 0 || root.Split('/').Any(p => p == ".."))
                throw new BackupException("RestoreFailed", DeevErrorKind.InvalidArgument, $"The restore root '{root}' is not a plain absolute path.", root);
            return root.Length > 1 ? root.TrimEnd('/') : root;
        }
    }
}
