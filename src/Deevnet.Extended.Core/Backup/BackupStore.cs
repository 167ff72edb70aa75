using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// Where backups live: a directory, on this machine (<c>/srv/deevnet-backups</c>) or on an SSH host
    /// (<c>ssh://user@host[:port]/path</c>). One folder per service, created 0700; each backup is
    /// <c>&lt;service&gt;-&lt;host&gt;-&lt;stamp&gt;.tar.age</c> plus its signed <c>.seal</c> (<see cref="BackupSeal"/>), a
    /// small unencrypted <c>.meta</c> sidecar (informational only: nothing trusts it) and, once tested, a <c>.verify</c>
    /// sidecar. Every operation is a quoted shell command through the store's transport,
    /// so a local store and an SSH store behave the same (and are tested the same).
    /// </summary>
    public sealed class BackupStore
    {
        public const string ArchiveSuffix = ".tar.age";
        public const string MetaSuffix = ".meta";
        public const string VerifySuffix = ".verify";
        public const string SealSuffix = ".seal";
        public const string PartialSuffix = ".partial";

        public BackupStore(Via via, string root)
        {
            Via = via;
            Root = root.Length > 1 ? root.TrimEnd('/') : root;
        }

        public Via Via { get; }

        /// <summary>Absolute directory on the store machine.</summary>
        public string Root { get; }

        /// <summary>Where the store is, as the tier wrote it.</summary>
        public string Location => Via.IsLocal ? Root : $"{Via}{Root}";

        /// <summary>Parses the tier's <c>backup.store</c>: an absolute path or <c>ssh://user@host[:port]/path</c>.</summary>
        public static BackupStore Parse(string store)
        {
            if (store.StartsWith("/", StringComparison.Ordinal)) return new BackupStore(Via.Local, store);
            if (store.StartsWith("ssh://", StringComparison.Ordinal))
            {
                var slash = store.IndexOf('/', "ssh://".Length);
                if (slash > 0 && slash < store.Length - 1)
                {
                    if (Via.TryParse(store.Substring(0, slash), out var via, out var error)) return new BackupStore(via!, store.Substring(slash));
                    throw Bad(store, error ?? "has a bad ssh:// part");
                }
            }
            throw Bad(store, "is not an absolute path or ssh://user@host[:port]/path");
        }

        public string ServiceDir(string service) => Root + "/" + service;

        public string PathOf(string service, string file) => ServiceDir(service) + "/" + file;

        /// <summary>Creates the service's folder, private to its owner.</summary>
        public Task EnsureServiceDirAsync(IHostTransport t, string service, CancellationToken ct) =>
            Check(t, $"umask 077 && mkdir -p -- {Q(ServiceDir(service))} && chmod 700 -- {Q(ServiceDir(service))}", ct, "create the folder of " + service);

        /// <summary>
        /// On a thread of its own, synchronously: each chunk is one read() of the source pipe and one write() of the
        /// file, with no thread-pool hand-over between them (asynchronous, those cost more CPU than the copy).
        /// 1 MiB per write, unbuffered: age's output pipe holds 1 MiB, and a FileStream buffer would only add a copy.
        /// </summary>
        private static void CopyToNewFile(Stream source, string path, CancellationToken ct)
        {
            using var target = new FileStream(path, PrivateNewFile());
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                int n;
                while ((n = source.Read(buffer, 0, buffer.Length)) > 0)
                {
                    ct.ThrowIfCancellationRequested();
                    target.Write(buffer, 0, n);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private static FileStreamOptions PrivateNewFile()
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            return options;
        }

        /// <summary>Streams <paramref name="source"/> into a new file (mode 0600), replacing nothing that is whole.</summary>
        public async Task WriteAsync(IHostTransport t, string service, string file, Stream source, TimeSpan timeout, CancellationToken ct)
        {
            if (Via.IsLocal)
            {
                // This machine: write the file directly rather than through a `cat` process (one copy and one
                // process less on the hot path), created 0600 as `umask 077` would.
                try
                {
                    var path = PathOf(service, file);
                    await Transport.OwnThread.Run(() => CopyToNewFile(source, path, ct)).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw new BackupException("BackupStoreFailed", DeevErrorKind.WriteError, $"The backup store {Location} could not write {file}: {ex.Message}", Location, ex);
                }
            }
            var result = await t.StreamAsync($"umask 077 && cat > {Q(PathOf(service, file))}", Stream.Null, ct, source, timeout).ConfigureAwait(false);
            if (!result.Succeeded) throw Failed($"write {file}", result);
        }

        /// <summary>Streams a stored file into <paramref name="destination"/>.</summary>
        public async Task ReadAsync(IHostTransport t, string service, string file, Stream destination, TimeSpan timeout, CancellationToken ct)
        {
            if (Via.IsLocal)
            {
                try
                {
                    using var source = new FileStream(PathOf(service, file), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                    await source.CopyToAsync(destination, 1 << 16, ct).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException || ex is UnauthorizedAccessException)
                {
                    throw new BackupException("BackupStoreFailed", DeevErrorKind.ResourceUnavailable, $"The backup store {Location} could not read {file}: {ex.Message}", Location, ex);
                }
            }
            var result = await t.StreamAsync($"cat -- {Q(PathOf(service, file))}", destination, ct, null, timeout).ConfigureAwait(false);
            if (!result.Succeeded) throw Failed($"read {file}", result);
        }

        /// <summary>Writes a small text file whole: to <c>.partial</c>, then renamed.</summary>
        public Task WriteTextAsync(IHostTransport t, string service, string file, string text, CancellationToken ct)
        {
            var path = PathOf(service, file);
            return Check(t, $"umask 077 && cat > {Q(path + PartialSuffix)} && mv -f -- {Q(path + PartialSuffix)} {Q(path)}", ct, "write " + file, text);
        }

        /// <summary>Renames within the service folder; the target must not exist (a whole backup is never replaced).</summary>
        public Task RenameAsync(IHostTransport t, string service, string from, string to, CancellationToken ct)
        {
            var target = Q(PathOf(service, to));
            return Check(t, $"if [ -e {target} ]; then echo 'already exists' >&2; exit 1; fi; mv -- {Q(PathOf(service, from))} {target}", ct, $"rename {from} to {to}");
        }

        public Task DeleteAsync(IHostTransport t, string service, IEnumerable<string> files, CancellationToken ct)
        {
            var sb = new StringBuilder("rm -f --");
            var any = false;
            foreach (var f in files)
            {
                sb.Append(' ').Append(Q(PathOf(service, f)));
                any = true;
            }
            return any ? Check(t, sb.ToString(), ct, "delete old backups of " + service) : Task.CompletedTask;
        }

        /// <summary>
        /// Everything in the given services' folders, in one command: each file with its size, and the text of the
        /// small sidecars. Files that are not the store's own (other names) are ignored.
        /// </summary>
        public async Task<List<StoredFile>> ListAsync(IHostTransport t, IEnumerable<string> services, CancellationToken ct)
        {
            var sb = new StringBuilder("for d in");
            foreach (var s in services) sb.Append(' ').Append(Q(s));
            sb.Append("; do [ -d ").Append(Q(Root)).Append("/\"$d\" ] || continue; for f in ").Append(Q(Root)).Append("/\"$d\"/*; do [ -f \"$f\" ] || continue; ")
              .Append("printf '@file %s %s %s\\n' \"$d\" \"$(stat -c %s -- \"$f\")\" \"${f##*/}\"; ")
              .Append("case $f in *").Append(MetaSuffix).Append("|*").Append(VerifySuffix).Append(") tr -d '\\r' < \"$f\" | sed 's/^/ /';; ")
              // A seal is read byte for byte (its signature covers exact bytes), as one base64 line, capped.
              .Append("*").Append(SealSuffix).Append(") printf ' @base64 '; head -c ").Append(BackupSeal.MaxBytes).Append(" -- \"$f\" | base64 -w0; echo;; esac; done; done");
            var result = await t.RunAsync(sb.ToString(), ct).ConfigureAwait(false);
            if (!result.Succeeded) throw Failed("list backups", result);
            var files = new List<StoredFile>();
            StoredFile? current = null;
            foreach (var line in result.StandardOutput.Split('\n'))
            {
                if (line.StartsWith("@file ", StringComparison.Ordinal))
                {
                    var parts = line.Split(new[] { ' ' }, 4);
                    if (parts.Length == 4 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                    {
                        current = new StoredFile(parts[1], parts[3], size);
                        files.Add(current);
                    }
                    else current = null;
                }
                else if (line.StartsWith(" @base64 ", StringComparison.Ordinal) && current != null)
                {
                    try
                    {
                        current.Content = Convert.FromBase64String(line.Substring(" @base64 ".Length).Trim());
                    }
                    catch (FormatException)
                    {
                        current.Content = Array.Empty<byte>();
                    }
                }
                else if (line.StartsWith(" ", StringComparison.Ordinal) && current != null)
                {
                    var eq = line.IndexOf('=');
                    if (eq > 1) current.Values.Add(new KeyValuePair<string, string>(line.Substring(1, eq - 1), line.Substring(eq + 1)));
                }
            }
            return files;
        }

        private async Task Check(IHostTransport t, string command, CancellationToken ct, string what, string? input = null)
        {
            var result = await t.RunAsync(command, ct, input).ConfigureAwait(false);
            if (!result.Succeeded) throw Failed(what, result);
        }

        private BackupException Failed(string what, CommandResult result) =>
            new BackupException("BackupStoreFailed", DeevErrorKind.WriteError,
                $"The backup store {Location} could not {what}: {FirstLine(result.StandardError)} (exit {result.ExitStatus}).", Location);

        internal static string FirstLine(string text)
        {
            var t = text.Trim();
            var nl = t.IndexOf('\n');
            return nl < 0 ? t : t.Substring(0, nl).Trim();
        }

        private static string Q(string value) => ShellQuote.Quote(value);

        private static BackupException Bad(string store, string why) =>
            new BackupException("BackupNotConfigured", DeevErrorKind.InvalidData, $"backup.store '{store}' {why}.", store);
    }

    /// <summary>One file in a service's store folder, with a sidecar's key=value lines when it is one.</summary>
    public sealed class StoredFile
    {
        public StoredFile(string service, string name, long size)
        {
            Service = service;
            Name = name;
            Size = size;
        }

        public string Service { get; }
        public string Name { get; }
        public long Size { get; }
        public List<KeyValuePair<string, string>> Values { get; } = new List<KeyValuePair<string, string>>();

        /// <summary>The exact bytes of a <c>.seal</c> file (null for other files).</summary>
        public byte[]? Content { get; set; }

        public string? Get(string key)
        {
            foreach (var kv in Values)
            {
                if (kv.Key == key) return kv.Value;
            }
            return null;
        }
    }
}
