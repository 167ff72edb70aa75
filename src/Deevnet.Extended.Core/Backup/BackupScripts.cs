using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// The shell commands run on a service's host. Every value is quoted; the tier's <c>before</c>/<c>after</c>
    /// commands are passed whole to <c>sh -c</c> as one quoted argument, so they cannot break the script around them.
    /// </summary>
    internal static class BackupScripts
    {
        public const string Marker = "deev-backup:";

        /// <summary>Tier paths (absolute) as tar member paths relative to <c>/</c>: sorted, deduplicated, nested ones dropped.</summary>
        public static IReadOnlyList<string> RelativePaths(IEnumerable<string> paths, string service)
        {
            var list = new List<string>();
            foreach (var raw in paths)
            {
                if (Tier.PathRules.WhyNotAnAbsolutePath(raw) is { } why)
                    throw new BackupException("BackupNotConfigured", DeevErrorKind.InvalidData, $"The backup path of '{service}': {Text.SafeText.Printable(why)}.", service);
                var rel = raw.Trim('/');
                list.Add(rel.Length == 0 ? "." : rel);
            }
            list.Sort(StringComparer.Ordinal);
            var result = new List<string>();
            foreach (var p in list)
            {
                if (result.Any(r => r == "." || r == p || p.StartsWith(r + "/", StringComparison.Ordinal))) continue;
                result.Add(p);
            }
            return result;
        }

        /// <summary>Tar version and the total size of the paths (for progress), in one round trip.</summary>
        public static string Preflight(IEnumerable<string> relativePaths) =>
            "tar --version 2>/dev/null | head -n 1; printf '@du %s\\n' \"$(cd / && du -sbc -- " + Join(relativePaths) + " 2>/dev/null | tail -n 1 | cut -f1)\"";

        /// <summary>
        /// before → tar to stdout → after, on the host, in one guarded shell (<see cref="Guarded"/>): the host itself
        /// runs <c>after</c>, once, whatever happened to tar, on Ctrl-C, timeout or a dropped connection. A stopped
        /// command's tar is killed (<see cref="Stoppable"/>); a dropped one fails with EPIPE (SIGPIPE is ignored) and
        /// the guard then runs <c>after</c> from its EXIT trap. Each step's exit status
        /// goes to stderr as <c>deev-backup:&lt;step&gt;=&lt;status&gt;</c>; stdout carries only the archive.
        /// </summary>
        public static string Backup(string? before, string? after, IEnumerable<string> relativePaths)
        {
            var sb = new StringBuilder();
            sb.Append(GuardTraps).Append("deev_b=0; deev_a=none; ");
            sb.Append("deev_fin() { deev_s=$?; trap '' HUP INT TERM; ");
            if (after != null) sb.Append(Command(after)).Append("; deev_a=$?; ");
            sb.Append("printf '").Append(Marker).Append("after=%s\\n' \"$deev_a\" >&2; exit $deev_s; }; trap deev_fin EXIT; ");
            if (before != null) sb.Append(Command(before)).Append("; deev_b=$?; ");
            sb.Append("printf '").Append(Marker).Append("before=%s\\n' \"$deev_b\" >&2; ");
            sb.Append("if [ \"$deev_b\" -eq 0 ]; then ")
              .Append(Stoppable("{ " + TarCreate("/", relativePaths) + " </dev/null; printf '" + Marker + "tar=%s\\n' \"$?\" >&2; }"))
              .Append("else printf '").Append(Marker).Append("tar=skipped\\n' >&2; fi");
            return Guarded(sb.ToString());
        }

        /// <summary>
        /// The signal handling of a guard script: a broken channel is an error to see (EPIPE), not a death; TERM, HUP and
        /// INT sent to the guard itself end it through its EXIT trap (which runs <c>after</c> once, ignoring them).
        /// </summary>
        /// It also keeps the command's stdin as fd 5 for <see cref="Stoppable"/> and the PID of the command it belongs to.
        internal const string GuardTraps = "trap '' PIPE; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; deev_o=$PPID; exec 5<&0; " +
            "command -v setsid >/dev/null 2>&1 || setsid() { \"$@\"; }; ";

        /// <summary>
        /// The data pipeline of a guard: <paramref name="pipeline"/> (a script given <paramref name="args"/> as "$@") runs
        /// in a session of its own with the command's stdin, and is killed, its whole group, as soon as the command the
        /// guard belongs to is gone (stopped on Ctrl-C or timeout): a broken channel alone does not always end it, as a
        /// transport may leave its end of a pipe open. Its exit status is in <c>$deev_x</c>; the guard carries on.
        /// </summary>
        internal static string Stoppable(string pipeline, string args = "") =>
            "setsid /bin/sh -c " + ShellQuote.Quote(pipeline) + " sh " + args + " 0<&5 & deev_p=$!; " +
            "( while kill -0 \"$deev_o\" 2>/dev/null && kill -0 \"$deev_p\" 2>/dev/null; do sleep 1; done; kill -s KILL -- -\"$deev_p\" ) </dev/null >/dev/null 2>&1 & deev_w=$!; " +
            "wait \"$deev_p\"; deev_x=$?; kill \"$deev_w\" 2>/dev/null; ";

        /// <summary>
        /// Runs <paramref name="script"/> in a session of its own (<c>setsid</c>), with the command's stdin, stdout and
        /// stderr. Stopping a command (Ctrl-C, timeout) signals the command's process group, and a dropped connection
        /// closes its channel: neither reaches the guard, which sees only the end of its input and a broken output,
        /// so the data pipeline fails and the guard carries on to its end (cleanup, <c>after</c>). The guard is a child,
        /// never the command's own process (which a transport may stop by its PID). Without <c>setsid</c> on the host
        /// the script runs unguarded.
        /// </summary>
        internal static string Guarded(string script) =>
            "deev_g=" + ShellQuote.Quote(script) + "; if command -v setsid >/dev/null 2>&1; then setsid -w /bin/sh -c \"$deev_g\"; else /bin/sh -c \"$deev_g\"; fi";

        /// <summary>tar writing a POSIX (pax) archive of the paths under <paramref name="root"/> to stdout: owners, modes, times, links, any name, any size.</summary>
        public static string TarCreate(string root, IEnumerable<string> relativePaths) =>
            "tar --format=pax --create --file=- --directory=" + ShellQuote.Quote(root) + " -- " + Join(relativePaths);

        /// <summary>tar extracting stdin under <paramref name="root"/>, keeping modes and (as root) owners.</summary>
        public static string TarExtract(string root) =>
            "umask 022 && mkdir -p -- " + ShellQuote.Quote(root) + " && tar --extract --file=- --preserve-permissions --same-owner --directory=" + ShellQuote.Quote(root);

        /// <summary>Runs a tier command on the host with its output on stderr.</summary>
        public static string Command(string command) => "sh -c " + ShellQuote.Quote(command) + " </dev/null >&2";

        /// <summary>The exit status the script reported for one step (null when the line never came: the script died).</summary>
        public static string? Status(string stderr, string step)
        {
            var key = Marker + step + "=";
            string? value = null;
            foreach (var line in stderr.Split('\n'))
            {
                if (line.StartsWith(key, StringComparison.Ordinal)) value = line.Substring(key.Length).Trim();
            }
            return value;
        }

        /// <summary>The host's own error output without the markers, shortened for a message.</summary>
        public static string Errors(string stderr)
        {
            var lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0 && !l.StartsWith(Marker, StringComparison.Ordinal)).ToList();
            var text = string.Join(" | ", lines.Take(5));
            if (lines.Count > 5) text += $" | … ({lines.Count - 5} more lines)";
            return text.Length == 0 ? "no error output" : text;
        }

        public static bool IsZero(string? status) => status == "0";

        public static int? Code(string? status) => int.TryParse(status, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (int?)null;

        private static string Join(IEnumerable<string> values) => string.Join(" ", values.Select(ShellQuote.Quote));
    }
}
