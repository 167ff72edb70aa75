using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>Limits and extras for <see cref="ManagedFile.UpdateAsync"/>.</summary>
    public sealed class ManagedFileOptions
    {
        /// <summary>How long to wait for another writer's lock before giving up with <c>ManagedFileLocked</c>.</summary>
        public TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Limit of the stage/check/swap/reload step (after the lock is held); null: 60 s.</summary>
        public TimeSpan? CommandTimeout { get; set; }

        /// <summary>Mode (octal, e.g. <c>644</c>) of a file that does not exist yet; an existing file keeps its own.</summary>
        public string NewFileMode { get; set; } = "644";

        /// <summary>
        /// More paths whose lock (<see cref="ManagedFile.LockPath"/>) the transaction takes besides its files' own, e.g. the
        /// pid file of the daemon it reloads: every writer that reloads that daemon (dnsmasq DHCP and DNS) then serialises.
        /// </summary>
        public IReadOnlyList<string> AlsoLock { get; set; } = Array.Empty<string>();

        /// <summary>Reload run after the previous files are put back; null: the reload command again.</summary>
        public string? RollbackReloadCommand { get; set; }

        /// <summary>Tests: use the mkdir lock (the fallback for servers without flock(1)) even where flock exists.</summary>
        internal bool ForceDirectoryLock { get; set; }
    }

    /// <summary>What <see cref="ManagedFile.UpdateAsync"/> did to one file.</summary>
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

        /// <summary>True: the new content is live (validated, in place, reloaded). False: nothing was written or reloaded.</summary>
        public bool Changed { get; }
        public bool Existed { get; }
        public string? PreviousContent { get; }
        public string Content { get; }

        /// <summary><c>&lt;file&gt;.deevnet-prev</c> when a previous version was kept, else null.</summary>
        public string? BackupPath { get; }
    }

    /// <summary>
    /// The one file transaction for files on servers (DESIGN.md, "Nothing lost"; every back end that writes a file uses it).
    /// <list type="number">
    /// <item>Read each file and its sha256 (no lock); the caller computes the new content from it.</item>
    /// <item>One remote script: take the lock of every file (<see cref="LockPath"/>: <c>.&lt;file&gt;.deevnet.lock</c>, plus
    /// <see cref="ManagedFileOptions.AlsoLock"/>, in path order) with flock(1) — the kernel drops it when its holder dies,
    /// so a stale lock is one whose owner is gone, never one that is old; without flock(1) a mkdir lock records
    /// <c>host pid</c> and is taken over once no recorded pid lives on that host. The holder is written into the lock.</item>
    /// <item>Inside the lock: remove temp files of writers that died, stage the new content under a unique dot-name beside the
    /// target (same directory: the rename is atomic), fsync it, give it the target's mode and owner, check the file is still
    /// what was read (else the caller recomputes from the new content), run the server's checker on the staged file.</item>
    /// <item>Then, in a detached session that ignores hang-ups and signals (so a Ctrl+C or a dropped connection cannot stop it
    /// half way), keep each previous file as <c>&lt;file&gt;.deevnet-prev</c>, rename the staged files into place, reload; a
    /// failed reload puts the previous files back and reloads again.</item>
    /// </list>
    /// Stopped before the swap, the old file stays; once the swap started it runs to its end: the server always has the old
    /// file or the new, validated one. A leftover staged file is harmless and removed by the next writer.
    /// </summary>
    public static class ManagedFile
    {
        private const int ExitCannotLock = 70;
        private const int ExitChangedSinceRead = 72;
        private const int ExitLocked = 75;
        private const int ExitWriteFailed = 90;
        private const int ExitValidationFailed = 91;
        private const int ExitReloadFailedRestored = 92;
        private const int ExitReloadFailedTwice = 93;
        private const int MaxLocks = 6;   // file descriptors 3..8

        /// <summary>
        /// Read → <paramref name="compute"/> → lock, stage, check, swap, reload (roll back on a failed reload) → unlock.
        /// </summary>
        /// <param name="transport">Where the file is.</param>
        /// <param name="path">Absolute path of the file.</param>
        /// <param name="compute">Gets the current content (null when the file does not exist) and returns the new content;
        /// returning the same content (or null) changes nothing. Called again with the newer content when another writer
        /// changed the file in between. It may throw to abort.</param>
        /// <param name="validateCommand">Gets the staged file's path, already shell-quoted, and returns the server's check
        /// command (e.g. <c>p =&gt; "dnsmasq --test --conf-file=" + p</c>); null for none. Build the rest with <see cref="ShellQuote"/>.</param>
        /// <param name="reloadCommand">Command that makes the server use the new file; null for none.</param>
        /// <param name="cancellationToken">Stops the update; before the swap the old file stays, after it the swap completes.</param>
        /// <param name="options">Lock wait, timeout, extra locks; defaults when null.</param>
        public static async Task<ManagedFileResult> UpdateAsync(IHostTransport transport, string path, Func<string?, string?> compute,
            Func<string, string>? validateCommand = null, string? reloadCommand = null, CancellationToken cancellationToken = default,
            ManagedFileOptions? options = null)
        {
            if (compute is null) throw new ArgumentNullException(nameof(compute));
            var results = await UpdateManyAsync(transport, new[] { path }, current => new[] { compute(current[0]) },
                validateCommand == null ? null : paths => validateCommand(paths[0]), () => reloadCommand, cancellationToken, options).ConfigureAwait(false);
            return results[0];
        }

        /// <summary>
        /// The same transaction over several files of one server, swapped together and reloaded once.
        /// <paramref name="compute"/> returns one entry per path (null or the same content: that file is unchanged), or null
        /// for no change at all; <paramref name="validateCommand"/> gets the staged path of every file (quoted), the unchanged
        /// ones being their live path; <paramref name="reloadCommand"/> is asked for the reload after <paramref name="compute"/> ran
        /// (so it can depend on what changes).
        /// </summary>
        public static async Task<IReadOnlyList<ManagedFileResult>> UpdateManyAsync(IHostTransport transport, IReadOnlyList<string> paths,
            Func<IReadOnlyList<string?>, IReadOnlyList<string?>?> compute, Func<IReadOnlyList<string>, string>? validateCommand = null,
            Func<string?>? reloadCommand = null, CancellationToken cancellationToken = default, ManagedFileOptions? options = null)
        {
            if (transport is null) throw new ArgumentNullException(nameof(transport));
            if (compute is null) throw new ArgumentNullException(nameof(compute));
            if (paths is null || paths.Count == 0) throw new ArgumentException("No file to update.", nameof(paths));
            foreach (var p in paths) ValidatePath(p);
            if (paths.Distinct(StringComparer.Ordinal).Count() != paths.Count) throw new ArgumentException("A file is named twice.", nameof(paths));
            options ??= new ManagedFileOptions();
            foreach (var p in options.AlsoLock) ValidatePath(p);
            var host = transport.Via.ToString();
            var deadline = DateTime.UtcNow + options.LockWait;

            while (true)
            {
                var current = new List<CurrentFile>();
                foreach (var p in paths) current.Add(await ReadCurrentAsync(transport, p, host, cancellationToken).ConfigureAwait(false));
                var next = compute(current.Select(c => c.Content).ToList());
                if (next != null && next.Count != paths.Count) throw new ArgumentException("compute must return one content per file.", nameof(compute));
                var targets = paths.Select((p, i) => new Target(p, current[i], next?[i])).ToList();
                if (!targets.Any(t => t.Changed))
                {
                    return targets.Select(t => new ManagedFileResult(t.Path, false, t.Current.Exists, t.Current.Content, t.Current.Content ?? string.Empty, null)).ToList();
                }

                var validate = validateCommand?.Invoke(targets.Select(t => ShellQuote.Quote(t.Changed ? t.Temp : t.Path)).ToList());
                var left = deadline - DateTime.UtcNow;
                if (left < TimeSpan.Zero) left = TimeSpan.Zero;
                var script = CommitScript(targets, LockPaths(paths, options), left, validate, reloadCommand?.Invoke(), options);
                var input = string.Concat(targets.Where(t => t.Changed).Select(t => t.Next));
                var limit = left + (options.CommandTimeout ?? TimeSpan.FromSeconds(60)) + TimeSpan.FromSeconds(5);
                var write = await transport.RunAsync(script, cancellationToken, input, limit).ConfigureAwait(false);
                if (write.ExitStatus == ExitChangedSinceRead && DateTime.UtcNow < deadline) continue;   // another writer was first: recompute
                CheckWrite(write, targets, host, options);
                return targets.Select(t => new ManagedFileResult(t.Path, t.Changed, t.Current.Exists, t.Current.Content,
                    t.Changed ? t.Next! : t.Current.Content ?? string.Empty, t.Changed && t.Current.Exists ? t.Previous : null)).ToList();
            }
        }

        /// <summary>A file's content, or null when it does not exist (no lock: for reading and planning).</summary>
        public static async Task<string?> ReadAsync(IHostTransport transport, string path, CancellationToken cancellationToken)
        {
            if (transport is null) throw new ArgumentNullException(nameof(transport));
            ValidatePath(path);
            return (await ReadCurrentAsync(transport, path, transport.Via.ToString(), cancellationToken).ConfigureAwait(false)).Content;
        }

        private static void ValidatePath(string path)
        {
            // A control character (a newline above all) would let one path read as two lines of the scripts below.
            if (string.IsNullOrEmpty(path) || path[0] != '/' || path.EndsWith("/", StringComparison.Ordinal) || path.Any(char.IsControl))
            {
                throw new ArgumentException($"'{Printable(path)}' is not an absolute file path without control characters.", nameof(path));
            }
        }

        private static string Printable(string? text) =>
            string.Concat((text ?? "").Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));

        private static List<string> LockPaths(IEnumerable<string> paths, ManagedFileOptions o)
        {
            var locks = paths.Concat(o.AlsoLock).Select(LockPath).Distinct(StringComparer.Ordinal).OrderBy(p => p, StringComparer.Ordinal).ToList();
            if (locks.Count > MaxLocks) throw new ArgumentException($"At most {MaxLocks} locks per transaction.");
            return locks;
        }

        /// <summary>
        /// <c>&lt;dir&gt;/.&lt;name&gt;.deevnet.lock</c>: beside the file (the same for every writer, however it reaches the server),
        /// a dot-name so a conf-dir (dnsmasq, unbound globs) never reads it as configuration. It stays, as flock lock files do.
        /// </summary>
        public static string LockPath(string path)
        {
            ValidatePath(path);
            var slash = path.LastIndexOf('/');
            return path.Substring(0, slash + 1) + "." + path.Substring(slash + 1) + ".deevnet.lock";
        }

        private sealed class CurrentFile
        {
            public bool Exists;
            public string? Content;
            public string Hash = "absent";
        }

        private sealed class Target
        {
            public Target(string path, CurrentFile current, string? next)
            {
                Path = path;
                Current = current;
                Next = next;
                Changed = next != null && next != current.Content;
                var slash = path.LastIndexOf('/');
                var directory = slash == 0 ? "" : path.Substring(0, slash);
                // A leading dot keeps the staged file out of conf-dir style includes (dnsmasq, unbound) while it is checked.
                TempPrefix = directory + "/." + path.Substring(slash + 1) + ".deevnet-tmp-";
                Temp = TempPrefix + Guid.NewGuid().ToString("N").Substring(0, 12);
                Directory = slash == 0 ? "/" : directory;
                Previous = path + ".deevnet-prev";
            }

            public string Path { get; }
            public CurrentFile Current { get; }
            public string? Next { get; }
            public bool Changed { get; }
            public string TempPrefix { get; }
            public string Temp { get; }
            public string Directory { get; }
            public string Previous { get; }
        }

        private static async Task<CurrentFile> ReadCurrentAsync(IHostTransport transport, string path, string host, CancellationToken cancellationToken)
        {
            // The hash is taken before the content: if the file changes in between, the commit sees a different hash and retries.
            var script = $"t={ShellQuote.Quote(path)}\n" +
                         "if [ -f \"$t\" ]; then printf 'EXISTS %s\\n' \"$(sha256sum < \"$t\" | cut -c1-64)\"; cat \"$t\"\n" +
                         "elif [ -e \"$t\" ]; then echo NOTAFILE; exit 1\nelse echo MISSING; fi\n";
            var read = await transport.RunAsync(script, cancellationToken).ConfigureAwait(false);
            var output = read.StandardOutput;
            var newline = output.IndexOf('\n');
            var header = newline < 0 ? output : output.Substring(0, newline);
            if (read.ExitStatus == 0 && header == "MISSING") return new CurrentFile();
            if (read.ExitStatus == 0 && header.StartsWith("EXISTS ", StringComparison.Ordinal) && IsHash(header.Substring(7)))
                return new CurrentFile { Exists = true, Content = output.Substring(newline + 1), Hash = header.Substring(7) };
            if (header == "NOTAFILE")
                throw new DeevException("RemoteCommandFailed", DeevErrorKind.InvalidOperation, $"{path} on {host} exists but is not a regular file.", path);
            throw new DeevException("RemoteCommandFailed", DeevErrorKind.InvalidOperation,
                $"Could not read {path} on {host} (exit status {read.ExitStatus}): {read.StandardError.Trim()}", path);
        }

        private static bool IsHash(string s) => s.Length == 64 && s.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));

        private static bool IsOctalMode(string mode) => mode.Length >= 3 && mode.Length <= 4 && mode.All(c => c >= '0' && c <= '7');

        /// <summary>Closes the lock descriptors for a command the script runs, so a checker or daemon never inherits the lock.</summary>
        private static string CloseLocks(int count) => string.Concat(Enumerable.Range(3, count).Select(fd => $" {fd}>&-"));

        private static string CommitScript(List<Target> targets, List<string> locks, TimeSpan lockWait, string? validate, string? reload, ManagedFileOptions o)
        {
            var changed = targets.Where(t => t.Changed).ToList();
            var newMode = IsOctalMode(o.NewFileMode) ? o.NewFileMode : "644";
            var close = CloseLocks(locks.Count);
            var sb = new StringBuilder();
            sb.Append("umask 022\nhost=$(uname -n); me=$$; hc=0; handed=0\n");
            sb.Append($"deadline=$(( $(date +%s) + {(int)Math.Ceiling(lockWait.TotalSeconds)} ))\n");
            sb.Append(o.ForceDirectoryLock ? "uf=0\n" : "if command -v flock >/dev/null 2>&1; then uf=1; else uf=0; fi\n");
            for (var i = 0; i < locks.Count; i++) sb.Append($"l{i}={ShellQuote.Quote(locks[i])}\n");
            for (var i = 0; i < changed.Count; i++)
            {
                var t = changed[i];
                sb.Append($"t{i}={ShellQuote.Quote(t.Path)}; s{i}={ShellQuote.Quote(t.Temp)}; d{i}={ShellQuote.Quote(t.Directory)}\n");
            }
            // Fallback lock: a directory whose owner file lists "host pid" lines; it is stale when it is from this host and none
            // of its pids lives. An owner on another host (or not yet written) counts as alive.
            sb.Append("alive() { [ -f \"$1\" ] || return 0; while read -r h p _; do [ \"$h\" = \"$host\" ] || return 0; ");
            sb.Append("case \"$p\" in ''|*[!0-9]*) continue;; esac; { kill -0 \"$p\" 2>/dev/null || [ -d \"/proc/$p\" ]; } && return 0; done < \"$1\"; return 1; }\n");
            sb.Append("release() { [ \"$uf\" = 1 ] && return 0;");
            for (var i = 0; i < locks.Count; i++) sb.Append($" [ $hc -ge {i + 1} ] && rm -rf \"$l{i}.d\";");
            sb.Append(" return 0; }\n");
            sb.Append("cleanup() { [ \"$handed\" = 1 ] && return 0; rm -f").Append(string.Concat(changed.Select((_, i) => $" \"$s{i}\""))).Append("; release; }\n");
            sb.Append("trap cleanup EXIT\ntrap 'exit 143' HUP INT TERM\n");
            for (var i = 0; i < locks.Count; i++)
            {
                var fd = 3 + i;
                sb.Append("if [ \"$uf\" = 1 ]; then\n");
                sb.Append($"  exec {fd}>>\"$l{i}\" || {{ echo \"cannot open the lock $l{i}\"; exit {ExitCannotLock}; }}\n");
                sb.Append("  left=$(( deadline - $(date +%s) )); [ $left -gt 0 ] || left=0\n");
                sb.Append($"  if ! flock -w \"$left\" {fd}; then echo LOCKED; cat \"$l{i}\" 2>/dev/null; exit {ExitLocked}; fi\n");
                sb.Append($"  printf '%s %s\\n' \"$host\" \"$me\" > \"$l{i}\"\n");
                sb.Append("else\n");
                sb.Append($"  until mkdir \"$l{i}.d\" 2>/dev/null; do\n");
                sb.Append($"    if ! alive \"$l{i}.d/owner\" && mv \"$l{i}.d\" \"$l{i}.d.stale.$$\" 2>/dev/null; then\n");
                sb.Append($"      echo \"took over a stale lock of $(cat \"$l{i}.d.stale.$$/owner\" 2>/dev/null)\" >&2; rm -rf \"$l{i}.d.stale.$$\"; continue; fi\n");
                sb.Append($"    if [ \"$(date +%s)\" -ge \"$deadline\" ]; then echo LOCKED; cat \"$l{i}.d/owner\" 2>/dev/null; exit {ExitLocked}; fi\n");
                sb.Append("    sleep 0.1\n  done\n");
                sb.Append($"  hc={i + 1}; printf '%s %s\\n' \"$host\" \"$me\" > \"$l{i}.d/owner\"\n");
                sb.Append("fi\n");
            }
            // Inside the lock. Staged files of writers that died: nobody else can be using them now.
            sb.Append("umask 077\n");
            foreach (var t in changed) sb.Append($"rm -f {ShellQuote.Quote(t.TempPrefix)}*\n");
            // Stage: stdin holds the new contents one after the other.
            if (changed.Count == 1)
            {
                sb.Append($"cat > \"$s0\" || {{ echo \"could not write $s0\"; exit {ExitWriteFailed}; }}\n");
            }
            else
            {
                sb.Append($"b=\"$s0.in\"; cat > \"$b\" || {{ rm -f \"$b\"; echo \"could not write $b\"; exit {ExitWriteFailed}; }}\n");
                long offset = 1;
                for (var i = 0; i < changed.Count; i++)
                {
                    var length = new UTF8Encoding(false).GetByteCount(changed[i].Next!);
                    sb.Append($"tail -c +{offset} \"$b\" | head -c {length} > \"$s{i}\" || {{ rm -f \"$b\"; echo \"could not write $s{i}\"; exit {ExitWriteFailed}; }}\n");
                    offset += length;
                }
                sb.Append("rm -f \"$b\"\n");
            }
            for (var i = 0; i < changed.Count; i++)
            {
                sb.Append($"if [ -e \"$t{i}\" ]; then m=$(stat -c %a \"$t{i}\") && chmod \"$m\" \"$s{i}\" && {{ chown \"$(stat -c %u:%g \"$t{i}\")\" \"$s{i}\" 2>/dev/null; :; }}; ");
                sb.Append($"else chmod {newMode} \"$s{i}\"; fi || {{ echo \"could not set the mode of $s{i}\"; exit {ExitWriteFailed}; }}\n");
                sb.Append($"sync \"$s{i}\" 2>/dev/null || sync\n");
            }
            // Still what the caller computed from?
            sb.Append("h() { if [ -f \"$1\" ]; then sha256sum < \"$1\" | cut -c1-64; else echo absent; fi; }\n");
            for (var i = 0; i < changed.Count; i++)
                sb.Append($"[ \"$(h \"$t{i}\")\" = {changed[i].Current.Hash} ] || {{ echo CHANGED; exit {ExitChangedSinceRead}; }}\n");
            foreach (var t in targets.Where(t => !t.Changed))
                sb.Append($"[ \"$(h {ShellQuote.Quote(t.Path)})\" = {t.Current.Hash} ] || {{ echo CHANGED; exit {ExitChangedSinceRead}; }}\n");
            if (!string.IsNullOrWhiteSpace(validate))
            {
                // The checker's own output is what the operator needs to see when it refuses the file.
                sb.Append($"if ! out=$(exec{close} 2>&1 </dev/null; {{\n").Append(validate).Append("\n}); then printf '%s' \"$out\"; exit ")
                  .Append(ExitValidationFailed).Append("; fi\n");
            }
            // The client still there? Writing to a dropped session's pipe kills this shell (SIGPIPE) before the swap.
            sb.Append("echo VALIDATED\n");
            sb.Append("res=\"$s0.res\"; handed=1\n");
            sb.Append("command -v setsid >/dev/null 2>&1 || setsid() { \"$@\"; }\n");
            sb.Append($"setsid sh -c {ShellQuote.Quote(SwapScript(changed, locks, reload, o.RollbackReloadCommand ?? reload))} sh \"$uf\" > \"$res\" 2>&1 < /dev/null &\n");
            sb.Append("cpid=$!\n");
            sb.Append("if [ \"$uf\" != 1 ]; then").Append(string.Concat(Enumerable.Range(0, locks.Count).Select(i => $" printf '%s %s\\n' \"$host\" \"$cpid\" >> \"$l{i}.d/owner\";"))).Append(" :; fi\n");
            sb.Append("wait \"$cpid\"; rc=$?; cat \"$res\"; rm -f \"$res\"; exit $rc\n");
            return sb.ToString();
        }

        /// <summary>Keep, swap, reload, roll back: runs in its own session with signals ignored, holding the inherited lock.</summary>
        private static string SwapScript(List<Target> changed, List<string> locks, string? reload, string? rollbackReload)
        {
            var close = CloseLocks(locks.Count);
            var sb = new StringBuilder();
            sb.Append("trap '' HUP INT TERM PIPE QUIT\numask 077\nuf=$1; host=$(uname -n)\n");
            for (var i = 0; i < locks.Count; i++) sb.Append($"l{i}={ShellQuote.Quote(locks[i])}\n");
            sb.Append("if [ \"$uf\" != 1 ]; then").Append(string.Concat(Enumerable.Range(0, locks.Count).Select(i => $" printf '%s %s\\n' \"$host\" $$ >> \"$l{i}.d/owner\";"))).Append(" :; fi\n");
            sb.Append("release() { [ \"$uf\" = 1 ] ||").Append(string.Concat(Enumerable.Range(0, locks.Count).Select(i => $" rm -rf \"$l{i}.d\";"))).Append(" :; }\n");
            sb.Append("trap release EXIT\n");
            for (var i = 0; i < changed.Count; i++)
            {
                var t = changed[i];
                sb.Append($"t{i}={ShellQuote.Quote(t.Path)}; s{i}={ShellQuote.Quote(t.Temp)}; p{i}={ShellQuote.Quote(t.Previous)}; d{i}={ShellQuote.Quote(t.Directory)}; e{i}=0; w{i}=0\n");
            }
            sb.Append("restore() {\n");
            for (var i = 0; i < changed.Count; i++)
            {
                sb.Append($"  if [ $w{i} = 1 ]; then if [ $e{i} = 1 ]; then cp -p \"$p{i}\" \"$s{i}\" && mv -f \"$s{i}\" \"$t{i}\"; else rm -f \"$t{i}\"; fi; sync \"$d{i}\" 2>/dev/null || sync; fi\n");
            }
            sb.Append("  :\n}\n");
            sb.Append("drop() { rm -f").Append(string.Concat(changed.Select((_, i) => $" \"$s{i}\""))).Append("; }\n");
            for (var i = 0; i < changed.Count; i++)
            {
                sb.Append($"if [ -e \"$t{i}\" ]; then e{i}=1; if ! cp -p \"$t{i}\" \"$p{i}\"; then echo \"could not keep $p{i}\"; drop; exit {ExitWriteFailed}; fi; sync \"$p{i}\" 2>/dev/null || sync; fi\n");
            }
            for (var i = 0; i < changed.Count; i++)
            {
                sb.Append($"if mv -f \"$s{i}\" \"$t{i}\"; then w{i}=1; else echo \"could not replace $t{i}\"; restore; drop; exit {ExitWriteFailed}; fi\n");
            }
            for (var i = 0; i < changed.Count; i++) sb.Append($"sync \"$d{i}\" 2>/dev/null || sync\n");
            if (!string.IsNullOrWhiteSpace(reload))
            {
                sb.Append($"if ! out=$(exec{close} 2>&1 </dev/null; {{\n").Append(reload).Append("\n}); then\n");
                sb.Append("  printf '%s' \"$out\"\n  restore\n");
                sb.Append($"  if out2=$(exec{close} 2>&1 </dev/null; {{\n").Append(string.IsNullOrWhiteSpace(rollbackReload) ? reload : rollbackReload)
                  .Append($"\n}}); then exit {ExitReloadFailedRestored}; fi\n");
                sb.Append($"  printf '\\n--- reload after restoring ---\\n%s' \"$out2\"; exit {ExitReloadFailedTwice}\n");
                sb.Append("fi\n");
            }
            sb.Append("exit 0\n");
            return sb.ToString();
        }

        private static void CheckWrite(CommandResult write, List<Target> targets, string host, ManagedFileOptions o)
        {
            var names = string.Join(", ", targets.Where(t => t.Changed).Select(t => t.Path));
            var first = targets.First(t => t.Changed).Path;
            var output = write.StandardOutput.Replace("VALIDATED\n", string.Empty);
            if (output.StartsWith("CHANGED", StringComparison.Ordinal) || output.StartsWith("LOCKED", StringComparison.Ordinal))
            {
                var nl = output.IndexOf('\n');
                output = nl < 0 ? string.Empty : output.Substring(nl + 1);
            }
            output = (output + write.StandardError).Trim();
            switch (write.ExitStatus)
            {
                case 0:
                    return;
                case ExitLocked:
                    throw new DeevException("ManagedFileLocked", DeevErrorKind.ResourceUnavailable,
                        $"{names} on {host} is locked by another writer ({output}); gave up waiting after {o.LockWait.TotalSeconds:0} s. Nothing was changed.", first)
                    { RecommendedAction = "Wait for the other run to finish. A lock whose holder died is released (flock) or taken over (its pid is gone) by the next writer." };
                case ExitChangedSinceRead:
                    throw new DeevException("ManagedFileLocked", DeevErrorKind.ResourceUnavailable,
                        $"{names} on {host} kept changing under other writers; gave up after {o.LockWait.TotalSeconds:0} s. Nothing was changed.", first);
                case ExitValidationFailed:
                    throw new DeevException("BackendValidationFailed", DeevErrorKind.InvalidData,
                        $"The server's checker rejected the new {names} on {host}; the file was not changed. Checker output: {output}", first);
                case ExitReloadFailedRestored:
                    throw new DeevException("BackendReloadFailed", DeevErrorKind.InvalidOperation,
                        $"The reload after writing {names} on {host} failed; the previous file was put back and reloaded, so the old configuration is in force. Reload output: {output}", first);
                case ExitReloadFailedTwice:
                    throw new DeevException("BackendReloadFailed", DeevErrorKind.InvalidOperation,
                        $"The reload after writing {names} on {host} failed, the previous file was put back, and reloading it failed too: the service may not be running. Output: {output}", first)
                    { RecommendedAction = "Check the service on the server now; the previous file is in place." };
                default:
                    throw new DeevException("RemoteCommandFailed", DeevErrorKind.WriteError,
                        $"Could not replace {names} on {host} (exit status {write.ExitStatus}); the old file is in place. {output}", first);
            }
        }
    }
}
