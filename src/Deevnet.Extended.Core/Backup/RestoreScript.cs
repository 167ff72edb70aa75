using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// The one host-side script of a restore, run guarded (<see cref="BackupScripts.Guarded"/>):
    /// refuse a declared path that is a symlink on the host → <c>before</c> → extract stdin into staging → if the
    /// module's commit member arrived (it sends it only once the whole stream passed its checks) move the staging
    /// into place → read the restored paths back to stdout (the module compares them with the manifest) → cleanup and
    /// <c>after</c> from the EXIT trap, once, however the script ends.
    /// <para>
    /// Staging, per declared path F (same file system as F, names unique to this restore): when F is a real folder,
    /// inside it (<c>F/.deev-restore-&lt;id&gt;</c>, so a mount point works); otherwise beside it
    /// (<c>dirname(F)/.deev-restore-&lt;id&gt;.&lt;n&gt;</c>). tar writes there through <c>--transform</c>, never through
    /// anything that was on the host. Moving into place replaces F whole: F's entries go aside, the staged ones are
    /// renamed in, the old ones are removed; a failed rename puts everything back. Renames never follow symlinks.
    /// </para>
    /// Status lines on stderr: <c>deev-backup:&lt;step&gt;=&lt;status&gt;</c> for target (index of a symlinked path),
    /// before, extract, commit, move, check, after.
    /// </summary>
    internal sealed class RestoreScript
    {
        private readonly string _root;
        private readonly IReadOnlyList<string> _paths;
        private readonly string _id;
        private readonly StringBuilder _sb = new StringBuilder();

        private RestoreScript(string root, IReadOnlyList<string> relativePaths, string id)
        {
            _root = root;
            _paths = relativePaths;
            _id = id;
        }

        /// <summary>The tar member the module appends when the stream is whole and checked.</summary>
        public static string CommitMember(string id) => "deev-commit-" + id;

        public static string Build(string root, IReadOnlyList<string> relativePaths, string id, string commitToken, string? before, string? after)
        {
            foreach (var p in relativePaths)
            {
                if (p == "." || p.Any(c => c < 0x20 || c == 0x7f))
                    throw new BackupException("RestoreFailed", DeevErrorKind.InvalidData, $"The backup path '/{RestoreConfinement.Safe(PathText.FromBytes(Encoding.UTF8.GetBytes(p)))}' cannot be restored confined: declare the folders under / instead of / itself, without control characters.", p);
            }
            return new RestoreScript(root, relativePaths, id).Write(commitToken, before, after);
        }

        private string Write(string token, string? before, string? after)
        {
            var m = BackupScripts.Marker;
            var n = _paths.Count;
            _sb.Append("umask 022; ").Append(BackupScripts.GuardTraps).Append("deev_r=0; deev_k=0; deev_a=none; deev_h=; r=").Append(Q(_root)).Append("; ");
            for (var i = 0; i < n; i++)
                _sb.Append($"f{i}={Q(Final(i))}; si{i}={Q(Final(i) + "/.deev-restore-" + _id)}; oi{i}={Q(Final(i) + "/.deev-restore-" + _id + ".old")}; ")
                   .Append($"sb{i}={Q(Beside(i))}; ob{i}={Q(Beside(i) + ".old")}; a{i}=0; b{i}=0; ");
            _sb.Append("c=").Append(Q(Under(Folder(0)) + "/.deev-restore-" + _id + ".commit")).Append("; ");

            // Moves every entry of $1 but this restore's own into the folder $2 (names of any bytes, hidden ones too).
            _sb.Append("deev_mvall() { for e in \"$1\"/* \"$1\"/.[!.]* \"$1\"/..?*; do { [ -e \"$e\" ] || [ -L \"$e\" ]; } || continue; ")
               .Append("case ${e##*/} in .deev-restore-").Append(_id).Append("*) continue;; esac; mv -f -T -- \"$e\" \"$2/${e##*/}\" || return 1; done; }; ");
            _sb.Append("deev_undo() { ");
            for (var i = n - 1; i >= 0; i--)
            {
                _sb.Append($"if [ $m{i} = in ]; then if [ $a{i} = 1 ]; then mkdir -p -- \"$si{i}\"; deev_mvall \"$f{i}\" \"$si{i}\"; fi; if [ -d \"$oi{i}\" ]; then deev_mvall \"$oi{i}\" \"$f{i}\"; rmdir -- \"$oi{i}\"; fi; ")
                   .Append($"else if [ $b{i} = 1 ]; then mv -T -- \"$f{i}\" \"$sb{i}\"; fi; if [ -e \"$ob{i}\" ] || [ -L \"$ob{i}\" ]; then mv -T -- \"$ob{i}\" \"$f{i}\"; fi; fi; ");
            }
            _sb.Append(": ; }; ");
            _sb.Append("deev_fail() { printf '").Append(m).Append("move=%s\\n' \"$1\" >&2; deev_undo; deev_k=0; exit 6; }; ");
            _sb.Append("deev_fin() { deev_s=$?; trap '' HUP INT TERM; if [ $deev_k = 1 ]; then deev_undo; fi; rm -rf -- \"$c\"");
            for (var i = 0; i < n; i++) _sb.Append($" \"$si{i}\" \"$sb{i}\"");
            _sb.Append(" 2>/dev/null; ");
            // Not moved into place: the folders that held the staging get their times back, so the host is as it was.
            _sb.Append("if [ $deev_k != 2 ]; then for h in $deev_h; do eval \"touch -d @\\$${h}t -- \\\"\\$${h}p\\\"\" 2>/dev/null; done; fi; ");
            if (after != null) _sb.Append("if [ $deev_r = 1 ]; then ").Append(BackupScripts.Command(after)).Append("; deev_a=$?; fi; ");
            _sb.Append("printf '").Append(m).Append("after=%s\\n' \"$deev_a\" >&2; exit $deev_s; }; trap deev_fin EXIT; ");

            // Nothing is touched while a declared path is a symlink on the host: the restore would be redirected.
            Refuse("target");
            for (var i = 0; i < n; i++)
                _sb.Append($"mkdir -p -- {Q(Under(Folder(i)))} || exit 3; if [ -d \"$f{i}\" ]; then m{i}=in; h{i}p=\"$f{i}\"; else m{i}=by; h{i}p={Q(Under(Folder(i)))}; fi; ")
                   .Append($"h{i}t=$(stat -c %.9Y -- \"$h{i}p\" 2>/dev/null || stat -c %Y -- \"$h{i}p\") && deev_h=\"$deev_h h{i}\"; ");
            _sb.Append("hcp=").Append(Q(Under(Folder(0)))).Append("; hct=$(stat -c %.9Y -- \"$hcp\" 2>/dev/null || stat -c %Y -- \"$hcp\") && deev_h=\"$deev_h hc\"; ");
            _sb.Append("set -- --transform=").Append(Q(Transform(CommitMember(_id), Rel(Folder(0), ".deev-restore-" + _id + ".commit"), exact: true))).Append("; ");
            for (var i = 0; i < n; i++)
            {
                var inside = _paths[i] + "/.deev-restore-" + _id;
                var beside = Rel(Folder(i), ".deev-restore-" + _id + "." + i);
                _sb.Append($"if [ $m{i} = in ]; then set -- \"$@\" --transform={Q(Transform(_paths[i], inside, exact: false))} --transform={Q(Transform(_paths[i], inside, exact: true))}; ")
                   .Append($"else set -- \"$@\" --transform={Q(Transform(_paths[i], beside, exact: false))} --transform={Q(Transform(_paths[i], beside, exact: true))}; fi; ");
            }

            _sb.Append("deev_r=1; deev_b=0; ");
            if (before != null) _sb.Append(BackupScripts.Command(before)).Append("; deev_b=$?; ");
            _sb.Append("printf '").Append(m).Append("before=%s\\n' \"$deev_b\" >&2; [ \"$deev_b\" -eq 0 ] || exit 2; ");

            _sb.Append(BackupScripts.Stoppable("d=$1; shift; LC_ALL=C exec tar --extract --file=- --preserve-permissions --same-owner --directory=\"$d\" \"$@\"", "\"$r\" \"$@\""))
               .Append("printf '").Append(m).Append("extract=%s\\n' \"$deev_x\" >&2; ");
            _sb.Append("if [ \"$deev_x\" -ne 0 ] || [ -L \"$c\" ] || [ ! -f \"$c\" ] || [ \"$(cat -- \"$c\")\" != ").Append(token)
               .Append(" ]; then printf '").Append(m).Append("commit=missing\\n' >&2; exit 4; fi; ");
            // Stopped (Ctrl-C, timeout) after the whole stream was sent: the operator asked for nothing to change.
            _sb.Append("kill -0 \"$deev_o\" 2>/dev/null || { printf '").Append(m).Append("commit=stopped\\n' >&2; exit 4; }; rm -f -- \"$c\"; printf '").Append(m).Append("commit=0\\n' >&2; ");

            // Committed: the move is short and is finished (or undone), not interrupted half-way.
            _sb.Append("trap '' HUP INT TERM; ");
            Refuse("target");
            for (var i = 0; i < n; i++)
            {
                _sb.Append($"if [ $m{i} = in ]; then {{ [ -d \"$f{i}\" ] && {{ [ ! -e \"$si{i}\" ] || {{ [ -d \"$si{i}\" ] && [ ! -L \"$si{i}\" ]; }}; }}; }} || deev_fail {i}; ")
                   .Append($"elif [ -d \"$f{i}\" ]; then deev_fail {i}; fi; ");
            }
            _sb.Append("deev_k=1; ");
            for (var i = 0; i < n; i++)
            {
                _sb.Append($"if [ $m{i} = in ]; then if [ -d \"$si{i}\" ]; then mkdir -m 700 -- \"$oi{i}\" && a{i}=1 && deev_mvall \"$f{i}\" \"$oi{i}\" || deev_fail {i}; fi; ")
                   .Append($"elif [ -e \"$sb{i}\" ] || [ -L \"$sb{i}\" ]; then if [ -e \"$f{i}\" ] || [ -L \"$f{i}\" ]; then mv -T -- \"$f{i}\" \"$ob{i}\" || deev_fail {i}; fi; fi; ");
            }
            for (var i = 0; i < n; i++)
            {
                _sb.Append($"if [ $m{i} = in ]; then if [ -d \"$si{i}\" ]; then u{i}=$(stat -c %u:%g -- \"$si{i}\") && p{i}=$(stat -c %a -- \"$si{i}\") && ")
                   .Append($"t{i}=$(stat -c %.9Y -- \"$si{i}\" 2>/dev/null || stat -c %Y -- \"$si{i}\") && b{i}=1 && deev_mvall \"$si{i}\" \"$f{i}\" || deev_fail {i}; fi; ")
                   .Append($"elif [ -e \"$sb{i}\" ] || [ -L \"$sb{i}\" ]; then b{i}=1; mv -T -- \"$sb{i}\" \"$f{i}\" || deev_fail {i}; fi; ");
            }
            _sb.Append("deev_k=2; ");
            for (var i = 0; i < n; i++)
            {
                _sb.Append($"rm -rf -- \"$ob{i}\" \"$oi{i}\"; if [ $b{i} = 1 ] && [ $m{i} = in ]; then rmdir -- \"$si{i}\"; chown -- \"$u{i}\" \"$f{i}\" 2>/dev/null; chmod -- \"$p{i}\" \"$f{i}\"; touch -d \"@$t{i}\" -- \"$f{i}\"; fi; ");
            }
            _sb.Append("printf '").Append(m).Append("move=0\\n' >&2; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; ");

            // Read back what is now in place, for the module to check against the manifest (before `after` runs).
            _sb.Append("set --; ");
            for (var i = 0; i < n; i++) _sb.Append($"if [ -e \"$f{i}\" ] || [ -L \"$f{i}\" ]; then set -- \"$@\" {Q(_paths[i])}; fi; ");
            _sb.Append("if [ $# -gt 0 ]; then ").Append(BackupScripts.Stoppable("d=$1; shift; exec tar --format=pax --create --file=- --directory=\"$d\" -- \"$@\" </dev/null", "\"$r\" \"$@\""))
               .Append("deev_c=$deev_x; else deev_c=0; fi; printf '")
               .Append(m).Append("check=%s\\n' \"$deev_c\" >&2");
            return BackupScripts.Guarded(_sb.ToString());
        }

        private void Refuse(string step)
        {
            for (var i = 0; i < _paths.Count; i++)
                _sb.Append($"if [ -L \"$f{i}\" ]; then printf '{BackupScripts.Marker}{step}=%s\\n' {i} >&2; exit 3; fi; ");
        }

        /// <summary>The index of the declared path a <c>target=</c> status line names.</summary>
        public static int? TargetIndex(string? status) => BackupScripts.Code(status);

        private string Final(int i) => Under(_paths[i]);

        private string Beside(int i) => Under(Rel(Folder(i), ".deev-restore-" + _id + "." + i));

        private string Folder(int i)
        {
            var slash = _paths[i].LastIndexOf('/');
            return slash < 0 ? "" : _paths[i].Substring(0, slash);
        }

        private static string Rel(string folder, string name) => folder.Length == 0 ? name : folder + "/" + name;

        private string Under(string rel) => rel.Length == 0 ? _root : _root == "/" ? "/" + rel : _root + "/" + rel;

        /// <summary>
        /// A GNU tar <c>--transform</c> that renames the member <paramref name="from"/> (exact) or what lies under it to
        /// <paramref name="to"/>: member names and hard link targets, never symlink targets (flag S), which keep
        /// pointing where they pointed in place. The folder staged inside F is matched first by "F/", then F itself.
        /// </summary>
        internal static string Transform(string from, string to, bool exact)
        {
            const string delimiters = "|#%@,:;!~=";
            var delimiter = delimiters.FirstOrDefault(d => from.IndexOf(d) < 0 && to.IndexOf(d) < 0);
            if (delimiter == default(char)) throw new BackupException("RestoreFailed", DeevErrorKind.InvalidData, $"The backup path '{from}' holds every character a tar transform could be delimited by.", from);
            var regex = new StringBuilder("^");
            foreach (var ch in from)
            {
                if ("\\.[]*^$".IndexOf(ch) >= 0) regex.Append('\\');
                regex.Append(ch);
            }
            var replacement = new StringBuilder();
            foreach (var ch in to)
            {
                if (ch == '\\' || ch == '&') replacement.Append('\\');
                replacement.Append(ch);
            }
            if (exact) regex.Append('$');
            else
            {
                regex.Append('/');
                replacement.Append('/');
            }
            return $"s{delimiter}{regex}{delimiter}{replacement}{delimiter}rhS";
        }

        private static string Q(string value) => ShellQuote.Quote(value);
    }
}
