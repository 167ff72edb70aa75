using System;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>Limits and identity for <see cref="ManagedFile.UpdateAsync"/>.</summary>
    public sealed class ManagedFileOptions
    {
        /// <summary>How long to wait for another writer's lock before giving up with <c>ManagedFileLocked</c>.</summary>
        public TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>A lock older than this is taken to belong to a writer that died, and is removed.</summary>
        public TimeSpan StaleLockAge { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>Limit of the write/validate/reload step; null uses the transport's command timeout.</summary>
        public TimeSpan? CommandTimeout { get; set; }

        /// <summary>Mode (octal, e.g. <c>644</c>) of a file that does not exist yet; an existing file keeps its own.</summary>
        public string NewFileMode { get; set; } = "644";
    }

    /// <summary>What <see cref="ManagedFile.UpdateAsync"/> did.</summary>
    public sealed class ManagedFileResult
    {
        internal ManagedFileResult(string path, bool changed, bool existed, string? previousContent, string content, string? backupPath)
        {
            Path = path;
            Changed = changed;
            Existed = existed;
            PreviousContent = previousContent;
            Content = content;
            BackupPath = backupPath;
        }

        public string Path { get; }

        /// <summary>False when the computed content equalled the current one: nothing was written or reloaded.</summary>
        public bool Changed { get; }
        public bool Existed { get; }
        public string? PreviousContent { get; }
        public string Content { get; }

        /// <summary><c>&lt;file&gt;.deevnet-prev</c> when a previous version was kept, else null.</summary>
        public string? BackupPath { get; }
    }

    /// <summary>
    /// Changes one file on a server so that nothing is lost (DESIGN.md, "Nothing lost"): under a lock directory
    /// (<c>&lt;file&gt;.deevnet.lock</c>, shared by every process and connection), read the file, let the caller compute
    /// the new content, write it to a temp file beside the target with the target's mode and owner, run the server's
    /// own checker on it, keep the old file as <c>&lt;file&gt;.deevnet-prev</c>, rename the temp file over the target and
    /// reload; a failed reload puts the old file back and reloads again. Two round trips per update, however big.
    /// </summary>
    public static class ManagedFile
    {
        private const int ExitLocked = 75;
        private const int ExitWriteFailed = 90;
        private const int ExitValidationFailed = 91;
        private const int ExitReloadFailedRestored = 92;
        private const int ExitReloadFailedTwice = 93;

        /// <summary>
        /// Lock → read → <paramref name="compute"/> → write + validate + replace + reload → unlock, in one call.
        /// </summary>
        /// <param name="transport">Where the file is.</param>
        /// <param name="path">Absolute path of the file.</param>
        /// <param name="compute">Gets the current content (null when the file does not exist) and returns the new content;
        /// returning the same content (or null) changes nothing. It may throw to abort; the lock is released.</param>
        /// <param name="validateCommand">Gets the temp file's path, already shell-quoted, and returns the server's check
        /// command (e.g. <c>p =&gt; "dnsmasq --test --conf-file=" + p</c>); null for none. Build the rest with <see cref="ShellQuote"/>.</param>
        /// <param name="reloadCommand">Command that makes the server use the new file; null for none.</param>
        /// <param name="cancellationToken">Stops the update; the lock is released even then.</param>
        /// <param name="options">Lock wait, stale-lock age, timeout; defaults when null.</param>
        public static async Task<ManagedFileResult> UpdateAsync(IHostTransport transport, string path, Func<string?, string?> compute,
            Func<string, string>? validateCommand = null, string? reloadCommand = null, CancellationToken cancellationToken = default,
            ManagedFileOptions? options = null)
        {
            if (transport is null) throw new ArgumentNullException(nameof(transport));
            if (compute is null) throw new ArgumentNullException(nameof(compute));
            ValidatePath(path);
            options ??= new ManagedFileOptions();
            var names = new Names(path);
            var host = transport.Via.ToString();
            var lockHeld = false;
            try
            {
                lockHeld = true;   // from here on the lock may exist on the server even if we never hear back
                var read = await transport.RunAsync(LockAndReadScript(names, options), cancellationToken,
                    timeout: options.LockWait + TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                var current = ParseRead(read, names, host);

                var next = compute(current.Content);
                if (next == null || next == current.Content)
                {
                    return new ManagedFileResult(path, false, current.Exists, current.Content, current.Content ?? string.Empty, null);
                }

                var validate = validateCommand?.Invoke(ShellQuote.Quote(names.Temp));
                var write = await transport.RunAsync(WriteScript(names, current, validate, reloadCommand, options), cancellationToken,
                    next, options.CommandTimeout).ConfigureAwait(false);
                lockHeld = false;   // the write script released it on exit
                CheckWrite(write, names, host);
                return new ManagedFileResult(path, true, current.Exists, current.Content, next, current.Exists ? names.Previous : null);
            }
            finally
            {
                if (lockHeld) await ReleaseQuietlyAsync(transport, names).ConfigureAwait(false);
            }
        }

        private static void ValidatePath(string path)
        {
            if (string.IsNullOrEmpty(path) || path[0] != '/' || path.EndsWith("/", StringComparison.Ordinal) || path.IndexOf('\0') >= 0 || path.IndexOf('\n') >= 0)
            {
                throw new ArgumentException($"'{path}' is not an absolute file path.", nameof(path));
            }
        }

        private sealed class Names
        {
            public Names(string path)
            {
                Target = path;
                var slash = path.LastIndexOf('/');
                var directory = slash == 0 ? "/" : path.Substring(0, slash);
                var name = path.Substring(slash + 1);
                // A leading dot keeps the temp file out of conf-dir style includes (dnsmasq, unbound) while it is checked.
                Temp = (directory == "/" ? "" : directory) + "/." + name + ".deevnet-tmp-" + Guid.NewGuid().ToString("N").Substring(0, 12);
                Previous = path + ".deevnet-prev";
                Lock = path + ".deevnet.lock";
                Token = Guid.NewGuid().ToString("N");
            }

            public string Target { get; }
            public string Temp { get; }
            public string Previous { get; }
            public string Lock { get; }
            public string Token { get; }
        }

        private sealed class CurrentFile
        {
            public bool Exists;
            public string? Content;
            public string Mode = "644";
            public string? Owner;
        }

        private static string Vars(Names n) =>
            $"target={ShellQuote.Quote(n.Target)}; lock={ShellQuote.Quote(n.Lock)}; token={n.Token}\n";

        private const string ReleaseFunction =
            "release() { [ \"$(cat \"$lock/token\" 2>/dev/null)\" = \"$token\" ] && rm -rf \"$lock\"; return 0; }\n";

        private static string LockAndReadScript(Names n, ManagedFileOptions o)
        {
            var owner = $"{Environment.MachineName} pid {Process.GetCurrentProcess().Id} user {Environment.UserName} since {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}";
            var sb = new StringBuilder(Vars(n));
            sb.Append($"wait_until=$(( $(date +%s) + {(int)Math.Ceiling(o.LockWait.TotalSeconds)} )); stale={(int)o.StaleLockAge.TotalSeconds}\n");
            // mkdir is atomic on every POSIX file system: whoever creates the directory holds the lock.
            sb.Append("while ! mkdir \"$lock\" 2>/dev/null; do\n");
            sb.Append("  now=$(date +%s); born=$(stat -c %Y \"$lock\" 2>/dev/null || echo \"$now\")\n");
            // A writer that died leaves its lock behind; move it aside first so only one waiter removes it.
            sb.Append("  if [ $((now - born)) -ge \"$stale\" ] && mv \"$lock\" \"$lock.stale.$$\" 2>/dev/null; then\n");
            sb.Append("    echo \"removed a stale lock: $(cat \"$lock.stale.$$/owner\" 2>/dev/null)\" >&2; rm -rf \"$lock.stale.$$\"; continue\n");
            sb.Append("  fi\n");
            sb.Append($"  if [ \"$now\" -ge \"$wait_until\" ]; then echo LOCKED; cat \"$lock/owner\" 2>/dev/null; exit {ExitLocked}; fi\n");
            sb.Append("  sleep 0.05\n");
            sb.Append("done\n");
            sb.Append($"printf '%s\\n' \"$token\" > \"$lock/token\"; printf '%s\\n' {ShellQuote.Quote(owner)} > \"$lock/owner\"\n");
            sb.Append("if [ -f \"$target\" ]; then printf 'EXISTS %s %s\\n' \"$(stat -c %a \"$target\")\" \"$(stat -c %u:%g \"$target\")\"; cat \"$target\"\n");
            sb.Append("elif [ -e \"$target\" ]; then echo NOTAFILE; " + ReleaseInline + " exit 1\n");
            sb.Append("else echo MISSING; fi\n");
            return sb.ToString();
        }

        private const string ReleaseInline = "[ \"$(cat \"$lock/token\" 2>/dev/null)\" = \"$token\" ] && rm -rf \"$lock\";";

        private static CurrentFile ParseRead(CommandResult read, Names n, string host)
        {
            var output = read.StandardOutput;
            var newline = output.IndexOf('\n');
            var header = newline < 0 ? output : output.Substring(0, newline);
            var rest = newline < 0 ? string.Empty : output.Substring(newline + 1);
            if (read.ExitStatus == ExitLocked)
            {
                throw new DeevException("ManagedFileLocked", DeevErrorKind.ResourceUnavailable,
                    $"{n.Target} on {host} is locked by another writer ({rest.Trim()}); gave up waiting.", n.Target)
                { RecommendedAction = $"Wait for the other run to finish. If it died, its lock ({n.Lock}) is removed automatically once stale." };
            }
            if (read.ExitStatus == 0 && header == "MISSING") return new CurrentFile { Exists = false };
            if (read.ExitStatus == 0 && header.StartsWith("EXISTS ", StringComparison.Ordinal))
            {
                var fields = header.Split(' ');
                return new CurrentFile { Exists = true, Content = rest, Mode = fields.Length > 1 ? fields[1] : "644", Owner = fields.Length > 2 ? fields[2] : null };
            }
            if (header == "NOTAFILE")
            {
                throw new DeevException("RemoteCommandFailed", DeevErrorKind.InvalidOperation, $"{n.Target} on {host} exists but is not a regular file.", n.Target);
            }
            throw new DeevException("RemoteCommandFailed", DeevErrorKind.InvalidOperation,
                $"Could not lock and read {n.Target} on {host} (exit status {read.ExitStatus}): {read.StandardError.Trim()}", n.Target);
        }

        private static string WriteScript(Names n, CurrentFile current, string? validate, string? reload, ManagedFileOptions o)
        {
            var mode = IsOctalMode(current.Mode) ? current.Mode : IsOctalMode(o.NewFileMode) ? o.NewFileMode : "644";
            var sb = new StringBuilder(Vars(n));
            sb.Append($"tmp={ShellQuote.Quote(n.Temp)}; prev={ShellQuote.Quote(n.Previous)}\n");
            sb.Append(ReleaseFunction);
            sb.Append("trap release EXIT\n");
            sb.Append("umask 077\n");
            sb.Append($"if ! cat > \"$tmp\" || ! chmod {mode} \"$tmp\"; then rm -f \"$tmp\"; echo \"could not write $tmp\"; exit {ExitWriteFailed}; fi\n");
            if (current.Owner != null && IsOwner(current.Owner)) sb.Append($"chown {current.Owner} \"$tmp\" 2>/dev/null\n");
            if (!string.IsNullOrWhiteSpace(validate))
            {
                // The checker's own output is what the operator needs to see when it refuses the file.
                sb.Append("if ! out=$( {\n").Append(validate).Append("\n} 2>&1 </dev/null ); then printf '%s' \"$out\"; rm -f \"$tmp\"; exit ")
                  .Append(ExitValidationFailed).Append("; fi\n");
            }
            if (current.Exists) sb.Append($"if ! cp -p \"$target\" \"$prev\"; then rm -f \"$tmp\"; echo \"could not keep $prev\"; exit {ExitWriteFailed}; fi\n");
            sb.Append($"if ! mv -f \"$tmp\" \"$target\"; then rm -f \"$tmp\"; echo \"could not replace $target\"; exit {ExitWriteFailed}; fi\n");
            if (!string.IsNullOrWhiteSpace(reload))
            {
                var restore = current.Exists ? "cp -p \"$prev\" \"$tmp\" && mv -f \"$tmp\" \"$target\"" : "rm -f \"$target\"";
                sb.Append("if ! out=$( {\n").Append(reload).Append("\n} 2>&1 </dev/null ); then\n");
                sb.Append("  printf '%s' \"$out\"\n");
                sb.Append("  ").Append(restore).Append("\n");
                sb.Append("  if out2=$( {\n").Append(reload).Append($"\n}} 2>&1 </dev/null ); then exit {ExitReloadFailedRestored}; fi\n");
                sb.Append($"  printf '\\n--- reload after restoring ---\\n%s' \"$out2\"; exit {ExitReloadFailedTwice}\n");
                sb.Append("fi\n");
            }
            sb.Append("exit 0\n");
            return sb.ToString();
        }

        private static bool IsOctalMode(string mode) => mode.Length >= 3 && mode.Length <= 4 && mode.TrimStart('0', '1', '2', '3', '4', '5', '6', '7').Length == 0;

        private static bool IsOwner(string owner)
        {
            var parts = owner.Split(':');
            return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _);
        }

        private static void CheckWrite(CommandResult write, Names n, string host)
        {
            var output = (write.StandardOutput + write.StandardError).Trim();
            switch (write.ExitStatus)
            {
                case 0:
                    return;
                case ExitValidationFailed:
                    throw new DeevException("BackendValidationFailed", DeevErrorKind.InvalidData,
                        $"The server's checker rejected the new {n.Target} on {host}; the file was not changed. Checker output: {output}", n.Target);
                case ExitReloadFailedRestored:
                    throw new DeevException("BackendReloadFailed", DeevErrorKind.InvalidOperation,
                        $"The reload after writing {n.Target} on {host} failed; the previous file was put back and reloaded, so the old configuration is in force. Reload output: {output}", n.Target);
                case ExitReloadFailedTwice:
                    throw new DeevException("BackendReloadFailed", DeevErrorKind.InvalidOperation,
                        $"The reload after writing {n.Target} on {host} failed, the previous file was put back, and reloading it failed too: the service may not be running. Output: {output}", n.Target)
                    { RecommendedAction = "Check the service on the server now; the previous file is in place." };
                default:
                    throw new DeevException("RemoteCommandFailed", DeevErrorKind.WriteError,
                        $"Could not replace {n.Target} on {host} (exit status {write.ExitStatus}); the old file is untouched. {output}", n.Target);
            }
        }

        private static async Task ReleaseQuietlyAsync(IHostTransport transport, Names n)
        {
            try
            {
                // Not cancellable on purpose: after Ctrl+C the lock must still go. Only our own token is removed.
                // A write step that was stopped half way may have left its temp file: it has a name only this run uses.
                await transport.RunAsync(Vars(n) + ReleaseFunction + $"rm -f {ShellQuote.Quote(n.Temp)}; release\n", CancellationToken.None,
                    timeout: TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            }
            catch (DeevException)
            {
                // The lock turns stale and is removed by the next writer; nothing better can be done here.
            }
        }
    }
}
