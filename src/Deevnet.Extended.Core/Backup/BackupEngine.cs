using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// Takes one backup of one service:
    /// <c>host: before → tar → after</c> ⇒ <c>module: manifest + age -r</c> ⇒ <c>store: &lt;name&gt;.tar.age.partial</c> ⇒ rename ⇒ sidecar ⇒ retention.
    /// <para>
    /// Where the encryption happens, and why: in this process, by piping the tar stream through a local <c>age</c>.
    /// (1) The manifest must describe exactly the bytes that were archived; reading the stream as it passes gives
    /// every file's size and SHA-256 in the same single read tar does, with no second pass over the host's disk, no
    /// race with files changing between passes, and no manifest file written on the host. (2) Service hosts then
    /// need only <c>sh</c> and GNU tar; <c>age</c> is needed once, beside the module. (3) Nothing unencrypted touches a
    /// disk anywhere: the host writes the archive to its SSH channel (encrypted in transit), the module holds a few
    /// 64 KiB buffers of it in memory, and only age's output is ever written, to the store. The price is that
    /// plaintext crosses the SSH channel into this process; the private key is never involved (only the recipient).
    /// </para>
    /// Memory stays flat: every stage is a bounded pipe with back-pressure; only the manifest (one line per file)
    /// grows with the number of files, not with their bytes.
    /// </summary>
    public sealed class BackupEngine
    {
        private readonly SiteTier _tier;
        private readonly Func<Via, IHostTransport> _transports;
        private readonly IOperationLog _log;
        private readonly IProgress<OperationProgress>? _progress;
        private readonly Func<DateTime> _clock;

        public BackupEngine(SiteTier tier, Func<Via, IHostTransport> transports, IOperationLog? log = null, IProgress<OperationProgress>? progress = null, Func<DateTime>? clock = null)
        {
            _tier = tier;
            _transports = transports;
            _log = log ?? NullOperationLog.Instance;
            _progress = progress;
            _clock = clock ?? (() => DateTime.UtcNow);
            Catalog = new BackupCatalog(tier, transports, _clock);
        }

        public BackupCatalog Catalog { get; }

        /// <summary>Longest one streaming command may run (the transport's default command timeout is far too short for archives).</summary>
        public TimeSpan StreamTimeout { get; set; } = TimeSpan.FromHours(24);

        /// <summary>Whether a service has anything to back up (else its reason is in <see cref="ServiceBackup.NoneReason"/>).</summary>
        public static bool Needs(Service service) => !service.Backup.IsNone && service.Backup.Paths.Count > 0;

        /// <summary>Backs one service up. Throws <see cref="BackupException"/> on failure; a failed run leaves at most a <c>.partial</c> file.</summary>
        public async Task<BackupResult> BackupAsync(Service service, CancellationToken cancellationToken)
        {
            if (!Needs(service))
                throw new BackupException("BackupNotNeeded", DeevErrorKind.InvalidOperation, $"'{service.Name}' declares nothing to back up: {service.Backup.NoneReason ?? "no paths"}.", service.Name);
            var settings = Catalog.Settings;
            var store = Catalog.Store;
            var host = _tier.FindHost(service.Host) ?? throw new BackupException("BackupNotConfigured", DeevErrorKind.InvalidData, $"The host '{service.Host}' of '{service.Name}' is not in the tier.", service.Name);
            var paths = BackupScripts.RelativePaths(service.Backup.Paths, service.Name);
            // Signing must work before the host is touched: an unsigned backup would be refused when it is needed.
            await Catalog.Signer.PreflightAsync(cancellationToken).ConfigureAwait(false);
            var hostTransport = _transports(_tier.ViaOf(host));
            var storeTransport = Catalog.StoreTransport;
            var watch = Stopwatch.StartNew();
            var activity = $"Backing up {service.Name} on {host.Name}";

            var preflight = await hostTransport.RunAsync(BackupScripts.Preflight(paths), cancellationToken).ConfigureAwait(false);
            var tarVersion = preflight.StandardOutput.Split('\n').FirstOrDefault(l => l.Length > 0 && !l.StartsWith("@du", StringComparison.Ordinal))?.Trim();
            if (tarVersion == null || tarVersion.Length == 0)
                throw new BackupException("BackupToolMissing", DeevErrorKind.ResourceUnavailable, $"tar was not found on {host.Name}.", host.Name);
            var expected = ParseDu(preflight.StandardOutput);

            // One backup of a service at a time: under the store's lock every .partial of the service is a dead one's.
            var storeLock = await BackupStoreLock.AcquireAsync(store, storeTransport, service.Name, StreamTimeout, cancellationToken).ConfigureAwait(false);
            try
            {
                return await BackupLockedAsync(service, host, paths, hostTransport, storeTransport, tarVersion, expected, watch, activity, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await storeLock.ReleaseAsync().ConfigureAwait(false);
            }
        }

        private async Task<BackupResult> BackupLockedAsync(Service service, MgmtHost host, IReadOnlyList<string> paths, IHostTransport hostTransport, IHostTransport storeTransport,
            string tarVersion, long? expected, Stopwatch watch, string activity, CancellationToken cancellationToken)
        {
            var settings = Catalog.Settings;
            var store = Catalog.Store;
            var ageVersion = await AgeVersionAsync(cancellationToken).ConfigureAwait(false);
            await store.EnsureServiceDirAsync(storeTransport, service.Name, cancellationToken).ConfigureAwait(false);
            var leftovers = await Catalog.CleanPartialsAsync(service.Name, cancellationToken).ConfigureAwait(false);
            if (leftovers.Count > 0) _log.Verbose($"Removed {leftovers.Count} partial file(s) left by an interrupted backup of {service.Name}.");
            var time = await UniqueTimeAsync(service, host.Name, cancellationToken).ConfigureAwait(false);
            var baseName = BackupName.Of(service.Name, host.Name, time);
            var partial = baseName + BackupStore.ArchiveSuffix + BackupStore.PartialSuffix;
            _log.Verbose($"Backing up {string.Join(", ", service.Backup.Paths)} of {service.Name} from {host.Name} ({_tier.ViaOf(host)}) to {store.Location}/{service.Name}/{partial}, encrypted to {settings.Recipient}.");

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var age = AgeProcess.Encrypt(settings.Recipient);
            using var cipher = new HashingReadStream(age.Output);
            var storeTask = store.WriteAsync(storeTransport, service.Name, partial, cipher, StreamTimeout, linked.Token);
            // If the store stops reading, age blocks, and so would the host: stop everything at once instead.
            _ = storeTask.ContinueWith(_ => StopAll(linked, age), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

            using var pipe = new TarPipe(age.Input, captureManifest: false, holdEnd: true);
            using var meter = new MeterStream(pipe, bytes => Report(activity, bytes, expected), hash: false);
            CommandResult? hostResult = null;
            Exception? hostError = null;
            try
            {
                // Flow-controlled end to end: the host's tar waits whenever age or the store is slower.
                hostResult = await hostTransport.StreamAsync(BackupScripts.Backup(service.Backup.Before, service.Backup.After, paths),
                    meter, linked.Token, null, StreamTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                hostError = ex;
            }

            var stderr = hostResult?.StandardError ?? "";
            var beforeStatus = BackupScripts.Status(stderr, "before");
            var tarStatus = BackupScripts.Status(stderr, "tar");
            var afterStatus = BackupScripts.Status(stderr, "after");
            var whole = hostError == null && hostResult != null && (tarStatus == "0" || tarStatus == "1") && pipe.Ended;
            BackupManifest? manifest = null;
            byte[]? manifestBytes = null;
            if (whole)
            {
                if (pipe.Entries.Any(e => e.Path == TarPipe.ManifestName))
                    throw new BackupException("BackupNotConfigured", DeevErrorKind.InvalidData, $"A backup path of '{service.Name}' holds a file named /{TarPipe.ManifestName}, which the backup format reserves.", service.Name);
                manifest = new BackupManifest(service.Name, host.Name, time, service.Backup.Paths.ToList(),
                    new[] { tarVersion, "age " + ageVersion, "Deevnet.Extended " + ModuleVersion }, pipe.Entries.ToList());
                try
                {
                    manifestBytes = manifest.ToBytes();
                    pipe.Finish(manifestBytes, ToUnix(time));
                }
                catch (IOException ex)
                {
                    hostError = ex;
                    whole = false;
                }
            }
            age.CloseInput();
            Exception? storeError = null;
            try
            {
                await storeTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                storeError = ex;
            }
            cancellationToken.ThrowIfCancellationRequested();
            var (ageExit, ageError) = await age.WaitAsync(cancellationToken).ConfigureAwait(false);
            Report(activity, meter.Bytes, expected, completed: true);

            if (storeError != null)
                throw storeError as BackupException ?? new BackupException("BackupStoreFailed", DeevErrorKind.WriteError, $"Writing the backup of '{service.Name}' to {store.Location} failed: {storeError.Message}", store.Location, storeError);
            if (ageExit != 0) throw AgeFailed(ageExit, ageError, service.Name);
            if (!whole) throw HostFailed(service, host.Name, hostError, hostResult, beforeStatus, tarStatus, afterStatus, pipe);

            // Whole: sign its seal (the archive's bytes and its MANIFEST), store the seal, commit by renaming, then
            // describe it in the sidecar. An archive is never whole without its seal.
            var cipherSha256 = cipher.Sha256();
            var seal = new BackupSeal(baseName, service.Name, host.Name, time, cipher.Bytes, cipherSha256, BackupSeal.Sha256Hex(manifestBytes!),
                pipe.BytesRead, manifest!.Entries.Count, manifest.Paths, manifest.Tools);
            var message = seal.ToMessage();
            var signature = await Catalog.Signer.SignAsync(message, cancellationToken).ConfigureAwait(false);
            await store.WriteTextAsync(storeTransport, service.Name, baseName + BackupStore.SealSuffix, Encoding.UTF8.GetString(BackupSeal.Combine(message, signature)), cancellationToken).ConfigureAwait(false);
            await store.RenameAsync(storeTransport, service.Name, partial, baseName + BackupStore.ArchiveSuffix, cancellationToken).ConfigureAwait(false);
            var info = new BackupInfo(service.Name, host.Name, baseName, time, cipher.Bytes, BackupStatus.Unverified, store.Location)
            {
                PlainSize = pipe.BytesRead,
                EntryCount = manifest.Entries.Count,
                Sha256 = cipherSha256,
                Paths = manifest.Paths,
                Age = _clock() - time,
                Signature = BackupSignature.Valid,
                Seal = seal,
            };
            await store.WriteTextAsync(storeTransport, service.Name, baseName + BackupStore.MetaSuffix, Sidecar(info, settings.Recipient, manifest.Tools), cancellationToken).ConfigureAwait(false);

            var warnings = new List<string>();
            if (tarStatus == "1") warnings.Add($"tar on {host.Name} reported files that changed while they were read; the manifest describes what was archived. {BackupScripts.Errors(stderr)}");
            string? afterFailure = null;
            if (service.Backup.After != null && !BackupScripts.IsZero(afterStatus))
                afterFailure = $"The after command of '{service.Name}' on {host.Name} failed (exit {afterStatus ?? "unknown"}): {BackupScripts.Errors(stderr)}";

            var removed = await Catalog.ApplyRetentionAsync(service.Name, cancellationToken).ConfigureAwait(false);
            if (removed.Count > 0) _log.Verbose($"Retention (keep {settings.Keep}) removed {string.Join(", ", removed)}.");
            return new BackupResult(info, watch.Elapsed, removed, afterFailure, warnings);
        }

        private BackupException HostFailed(Service service, string host, Exception? hostError, CommandResult? result, string? before, string? tar, string? after, TarPipe pipe)
        {
            var stderr = result?.StandardError ?? "";
            var afterNote = service.Backup.After == null ? "" : BackupScripts.IsZero(after) ? " The after command ran." : after == null ? " Whether the after command ran is unknown." : $" The after command failed too (exit {after}).";
            var partialNote = " A .partial file may remain in the store; it is ignored and removed by the next backup.";
            if (before != null && !BackupScripts.IsZero(before))
                return new BackupException("BackupBeforeFailed", DeevErrorKind.InvalidOperation,
                    $"The before command of '{service.Name}' on {host} failed (exit {before}), so nothing was archived: {BackupScripts.Errors(stderr)}.{afterNote}", service.Name);
            if (hostError is DeevException deev && !(hostError is BackupException))
                return new BackupException("BackupInterrupted", deev.Kind, $"The backup of '{service.Name}' from {host} was interrupted{Inside(pipe)}: {deev.Message}.{afterNote}{partialNote}", service.Name, hostError);
            if (hostError != null)
                return new BackupException("BackupInterrupted", DeevErrorKind.ConnectionError, $"The backup of '{service.Name}' from {host} was interrupted{Inside(pipe)}: {hostError.Message}.{afterNote}{partialNote}", service.Name, hostError);
            if (tar == null)
                return new BackupException("BackupInterrupted", DeevErrorKind.ConnectionError, $"The backup script on {host} ended before it finished{Inside(pipe)} (exit {result?.ExitStatus}): {BackupScripts.Errors(stderr)}.{afterNote}{partialNote}", service.Name);
            if (tar != "0" && tar != "1")
                return new BackupException("BackupArchiveFailed", DeevErrorKind.InvalidOperation, $"tar on {host} failed for '{service.Name}' (exit {tar}){Inside(pipe)}: {BackupScripts.Errors(stderr)}.{afterNote}{partialNote}", service.Name);
            return new BackupException("BackupInterrupted", DeevErrorKind.InvalidData, $"The archive of '{service.Name}' from {host} ended early{Inside(pipe)}.{afterNote}{partialNote}", service.Name);
        }

        private static void StopAll(CancellationTokenSource linked, AgeProcess age)
        {
            try
            {
                linked.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
            age.Kill();
        }

        private static string Inside(TarPipe pipe) => pipe.CurrentPath != null ? $" while reading /{pipe.CurrentPath}" : "";

        internal static BackupException AgeFailed(int exit, string error, string target)
        {
            if (exit == 127) return new BackupException("BackupToolMissing", DeevErrorKind.ResourceUnavailable, $"age was not found on this machine ({AgeProcess.Executable}); install Debian's 'age' package.", "age");
            return new BackupException("BackupEncryptFailed", DeevErrorKind.InvalidOperation, $"age failed (exit {exit}): {BackupStore.FirstLine(error)}", target);
        }

        internal static async Task<string> AgeVersionAsync(CancellationToken cancellationToken)
        {
            var version = await AgeProcess.VersionAsync(cancellationToken).ConfigureAwait(false);
            if (version.Length == 0 || version.Contains("not found"))
                throw new BackupException("BackupToolMissing", DeevErrorKind.ResourceUnavailable, $"age was not found on this machine ({AgeProcess.Executable}); install Debian's 'age' package.", "age");
            return version;
        }

        private async Task<DateTime> UniqueTimeAsync(Service service, string host, CancellationToken cancellationToken)
        {
            // Names have whole seconds; a second backup within the same second waits for the next one rather than
            // inventing a time.
            for (var attempt = 0; ; attempt++)
            {
                var now = _clock();
                var time = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
                var files = await Catalog.Store.ListAsync(Catalog.StoreTransport, new[] { service.Name }, cancellationToken).ConfigureAwait(false);
                var baseName = BackupName.Of(service.Name, host, time);
                if (!files.Any(f => f.Name.StartsWith(baseName + ".", StringComparison.Ordinal)) || attempt >= 3) return time;
                await Task.Delay(TimeSpan.FromTicks(TimeSpan.TicksPerSecond - now.Ticks % TimeSpan.TicksPerSecond) + TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
            }
        }

        private void Report(string activity, long bytes, long? expected, bool completed = false)
        {
            if (_progress == null) return;
            var percent = expected is > 0 ? (int)Math.Min(99, bytes * 100 / expected.Value) : -1;
            var status = expected is > 0 ? $"{Size(bytes)} of about {Size(expected.Value)} archived" : $"{Size(bytes)} archived";
            _progress.Report(new OperationProgress(activity, status, completed ? 100 : percent, null, completed));
        }

        private static long? ParseDu(string output)
        {
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("@du ", StringComparison.Ordinal));
            return line != null && long.TryParse(line.Substring(4).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (long?)null;
        }

        private static string Sidecar(BackupInfo info, string recipient, IReadOnlyList<string> tools)
        {
            // Deliberately without file names: those can say more than an operator wants an unencrypted file to say.
            // The declared paths are in the tier file already.
            var sb = new StringBuilder();
            void Add(string key, object? value) => sb.Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture)?.Replace('\n', ' ')).Append('\n');
            Add("format", "deevnet-backup-1");
            Add("service", info.Service);
            Add("host", info.HostName);
            Add("time", info.Time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            Add("size", info.Size);
            Add("sha256", info.Sha256);
            Add("plainSize", info.PlainSize);
            Add("entries", info.EntryCount);
            foreach (var p in info.Paths) Add("path", p);
            Add("recipient", recipient);
            foreach (var t in tools) Add("tool", t);
            return sb.ToString();
        }

        internal static string ModuleVersion => typeof(BackupEngine).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

        internal static long ToUnix(DateTime utc) => (long)(utc - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;

        internal static string Size(long bytes) =>
            bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.0} GiB" : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.0} MiB" : bytes >= 1024 ? $"{bytes / 1024.0:0.0} KiB" : $"{bytes} B";
    }
}
