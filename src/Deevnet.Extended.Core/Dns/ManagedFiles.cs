using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>A module-owned file as read, and what it should become.</summary>
    internal sealed class FileUpdate
    {
        public FileUpdate(string path, string? readContent, string newContent)
        {
            Path = path;
            ReadHash = ManagedFiles.Hash(readContent);
            NewContent = newContent;
            Changed = readContent != newContent;
        }

        public string Path { get; }

        /// <summary>sha256 of the content the plan was made from, or <c>absent</c>.</summary>
        public string ReadHash { get; }
        public string NewContent { get; }
        public bool Changed { get; }
        public string StagedPath => Path + ".deevnet-new";
        public string PreviousPath => Path + ".previous";
    }

    /// <summary>
    /// Replaces a set of module-owned files on a server as one step, through the transport: stage every new file beside
    /// its target, then in one shell script under <c>flock</c>: check nobody changed the files since they were read,
    /// keep each previous file as <c>.previous</c>, rename the new ones into place, run the server's checker, reload,
    /// and put every previous file back (and reload again) when the check or the reload fails.
    /// SEAM: the transport branch's ManagedFile does the single-file version of this; once merged this can sit on it.
    /// </summary>
    internal static class ManagedFiles
    {
        public const int ExitLockBusy = 71;
        public const int ExitChangedSinceRead = 72;
        public const int ExitValidationFailed = 73;
        public const int ExitReloadFailed = 74;

        public static string Hash(string? content)
        {
            if (content == null) return "absent";
            using var sha = SHA256.Create();
            return string.Concat(sha.ComputeHash(new UTF8Encoding(false).GetBytes(content)).Select(b => b.ToString("x2")));
        }

        /// <summary>The file's content, or null when it does not exist.</summary>
        public static async Task<string?> ReadAsync(IHostTransport transport, string path, TimeSpan timeout, string server, CancellationToken ct)
        {
            var q = ShellQuote.Quote(path);
            var r = await transport.RunAsync($"if [ -e {q} ]; then cat -- {q}; else exit 3; fi", ct, null, timeout).ConfigureAwait(false);
            if (r.ExitStatus == 3) return null;
            if (!r.Succeeded)
                throw new DeevException(DnsErrors.ServerUnreachable, DeevErrorKind.ConnectionError, $"{server}: cannot read {path}: {r.StandardError.Trim()}", server);
            return r.StandardOutput;
        }

        /// <summary>
        /// Stages and commits <paramref name="files"/>. <paramref name="validate"/> runs after the files are in place
        /// (the checker reads the real paths); <paramref name="reload"/> makes the server take them;
        /// <paramref name="rollbackReload"/> runs after the previous files are back (default: <paramref name="reload"/>).
        /// </summary>
        public static async Task CommitAsync(IHostTransport transport, IReadOnlyList<FileUpdate> files, string? validate, string reload,
            string? rollbackReload, TimeSpan timeout, string server, CancellationToken ct)
        {
            foreach (var f in files.Where(f => f.Changed))
            {
                var staged = ShellQuote.Quote(f.StagedPath);
                var target = ShellQuote.Quote(f.Path);
                var r = await transport.RunAsync($"umask 022 && cat > {staged} && {{ chmod --reference={target} {staged} 2>/dev/null || true; }}",
                    ct, f.NewContent, timeout).ConfigureAwait(false);
                if (!r.Succeeded)
                    throw new DeevException(DnsErrors.ReloadFailed, DeevErrorKind.WriteError, $"{server}: cannot write {f.StagedPath}: {r.StandardError.Trim()}", server);
            }
            var script = BuildScript(files, validate, reload, rollbackReload ?? reload);
            var result = await transport.RunAsync(script, ct, null, timeout + timeout).ConfigureAwait(false);
            var detail = (result.StandardError + " " + result.StandardOutput).Trim();
            switch (result.ExitStatus)
            {
                case 0: return;
                case ExitLockBusy:
                    throw new DeevException(DnsErrors.ConcurrentChange, DeevErrorKind.ResourceUnavailable, $"{server}: another writer holds the lock on {files[0].Path}; nothing was changed.", server);
                case ExitChangedSinceRead:
                    throw new DeevException(DnsErrors.ConcurrentChange, DeevErrorKind.ResourceUnavailable, $"{server}: {detail}; nothing was changed. Run the command again.", server);
                case ExitValidationFailed:
                    throw new DeevException(DnsErrors.ValidationFailed, DeevErrorKind.InvalidData, $"{server}: the server's checker refused the new records, the previous files are back in place: {Short(detail)}", server);
                default:
                    throw new DeevException(DnsErrors.ReloadFailed, DeevErrorKind.WriteError, $"{server}: applying the records failed (exit {result.ExitStatus}); the previous files are back in place: {Short(detail)}", server);
            }
        }

        private static string BuildScript(IReadOnlyList<FileUpdate> files, string? validate, string reload, string rollbackReload)
        {
            var sb = new StringBuilder();
            var changed = files.Where(f => f.Changed).ToList();
            sb.Append("exec 9>>").Append(ShellQuote.Quote(files[0].Path + ".lock")).Append(" || exit 70\n");
            sb.Append("flock -w 30 9 || exit ").Append(ExitLockBusy).Append('\n');
            sb.Append("h() { if [ -e \"$1\" ]; then sha256sum < \"$1\" | cut -c1-64; else echo absent; fi; }\n");
            foreach (var f in files)
            {
                var p = ShellQuote.Quote(f.Path);
                sb.Append($"[ \"$(h {p})\" = {f.ReadHash} ] || {{ echo {ShellQuote.Quote(f.Path + " changed since it was read")} >&2; rm -f {ShellQuote.Quote(f.StagedPath)}; exit {ExitChangedSinceRead}; }}\n");
            }
            sb.Append("restore() {\n");
            foreach (var f in changed)
            {
                var p = ShellQuote.Quote(f.Path);
                sb.Append(f.ReadHash == "absent" ? $"  rm -f {p}\n" : $"  cp -p {ShellQuote.Quote(f.PreviousPath)} {p}\n");
            }
            sb.Append("  :\n}\n");
            foreach (var f in changed)
            {
                var p = ShellQuote.Quote(f.Path);
                if (f.ReadHash != "absent") sb.Append($"cp -p {p} {ShellQuote.Quote(f.PreviousPath)} || exit 70\n");
                sb.Append($"mv -f {ShellQuote.Quote(f.StagedPath)} {p} || {{ restore; exit 70; }}\n");
            }
            if (validate != null) sb.Append($"( {validate} ) >&2 || {{ restore; exit {ExitValidationFailed}; }}\n");
            sb.Append($"( {reload} ) >&2 || {{ rc=$?; restore; ( {rollbackReload} ) >&2; exit {ExitReloadFailed}; }}\n");
            sb.Append("exit 0\n");
            return sb.ToString();
        }

        private static string Short(string text) => text.Length > 800 ? text.Substring(0, 800) + "…" : text.Replace('\n', ' ');

    }
}
