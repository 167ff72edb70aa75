using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// What a backup holds, written as the last member (<c>MANIFEST</c>) of the encrypted archive. Text, one line each:
    /// <code>
    /// # deevnet-backup manifest 1
    /// # service: grafana
    /// # host: dv02obs001v01
    /// # time: 2025-05-01T02:00:00Z
    /// # path: /srv/grafana
    /// # tool: tar (GNU tar) 1.34
    /// &lt;sha256|-&gt; &lt;type&gt; &lt;mode&gt; &lt;uid&gt;:&lt;gid&gt; &lt;user&gt;:&lt;group&gt; &lt;mtime&gt; &lt;size&gt; &lt;path&gt;[TAB&lt;link target&gt;]
    /// </code>
    /// Paths are relative to <c>/</c> and escaped by <see cref="PathText"/>, so any file name fits on one line.
    /// </summary>
    public sealed class BackupManifest
    {
        public const string FirstLine = "# deevnet-backup manifest 1";

        public BackupManifest(string service, string host, DateTime timeUtc, IReadOnlyList<string> paths, IReadOnlyList<string> tools, IReadOnlyList<TarEntry> entries)
        {
            Service = service;
            Host = host;
            TimeUtc = timeUtc;
            Paths = paths;
            Tools = tools;
            Entries = entries;
        }

        public string Service { get; }
        public string Host { get; }
        public DateTime TimeUtc { get; }

        /// <summary>The service's backup paths, absolute, as the tier declared them.</summary>
        public IReadOnlyList<string> Paths { get; }

        /// <summary>Versions of the tools that wrote the backup (<c>tar (GNU tar) 1.34</c>, <c>age 1.1.1</c>, the module).</summary>
        public IReadOnlyList<string> Tools { get; }
        public IReadOnlyList<TarEntry> Entries { get; }

        public byte[] ToBytes()
        {
            var sb = new StringBuilder();
            sb.Append(FirstLine).Append('\n');
            sb.Append("# service: ").Append(Service).Append('\n');
            sb.Append("# host: ").Append(Host).Append('\n');
            sb.Append("# time: ").Append(TimeUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append('\n');
            foreach (var p in Paths) sb.Append("# path: ").Append(PathText.FromBytes(Encoding.UTF8.GetBytes(p))).Append('\n');
            foreach (var t in Tools) sb.Append("# tool: ").Append(PathText.FromBytes(Encoding.UTF8.GetBytes(t))).Append('\n');
            foreach (var e in Entries)
            {
                sb.Append(e.Sha256 ?? "-").Append(' ')
                  .Append((char)e.Type).Append(' ')
                  .Append(Convert.ToString(e.Mode, 8).PadLeft(4, '0')).Append(' ')
                  .Append(e.Uid.ToString(CultureInfo.InvariantCulture)).Append(':').Append(e.Gid.ToString(CultureInfo.InvariantCulture)).Append(' ')
                  .Append(Name(e.UserName)).Append(':').Append(Name(e.GroupName)).Append(' ')
                  .Append(e.ModifiedSeconds.ToString(CultureInfo.InvariantCulture)).Append(' ')
                  .Append(e.Size.ToString(CultureInfo.InvariantCulture)).Append(' ')
                  .Append(e.Path);
                if (e.LinkTarget != null) sb.Append('\t').Append(e.LinkTarget);
                sb.Append('\n');
            }
            return new UTF8Encoding(false).GetBytes(sb.ToString());
        }

        /// <summary>Reads a manifest; a malformed one fails with <c>BackupManifestInvalid</c> naming the line.</summary>
        public static BackupManifest Parse(byte[] bytes, string where)
        {
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Invalid(where, 0, "is not UTF-8 text");
            }
            var lines = text.Split('\n');
            if (lines.Length == 0 || lines[0] != FirstLine) throw Invalid(where, 1, $"does not start with '{FirstLine}'");
            string? service = null, host = null;
            DateTime? time = null;
            var paths = new List<string>();
            var tools = new List<string>();
            var entries = new List<TarEntry>();
            for (var i = 1; i < lines.Length; i++)
            {
                var line = lines[i];
                if (line.Length == 0)
                {
                    if (i != lines.Length - 1) throw Invalid(where, i + 1, "is empty");
                    continue;
                }
                if (line.StartsWith("# ", StringComparison.Ordinal))
                {
                    var colon = line.IndexOf(": ", 2, StringComparison.Ordinal);
                    if (colon < 0) throw Invalid(where, i + 1, "is a header line without 'key: value'");
                    var key = line.Substring(2, colon - 2);
                    var value = line.Substring(colon + 2);
                    switch (key)
                    {
                        case "service": service = value; break;
                        case "host": host = value; break;
                        case "time":
                            if (!DateTime.TryParseExact(value, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                                throw Invalid(where, i + 1, "has a bad time");
                            time = t;
                            break;
                        case "path": paths.Add(Unescape(value, where, i)); break;
                        case "tool": tools.Add(Unescape(value, where, i)); break;
                    }
                    continue;
                }
                entries.Add(ParseEntry(line, where, i + 1));
            }
            if (service == null || host == null || time == null) throw Invalid(where, 0, "lacks its service, host or time header");
            return new BackupManifest(service, host, time.Value, paths, tools, entries);
        }

        private static TarEntry ParseEntry(string line, string where, int number)
        {
            string? link = null;
            var tab = line.IndexOf('\t');
            if (tab >= 0)
            {
                link = line.Substring(tab + 1);
                line = line.Substring(0, tab);
            }
            var f = line.Split(new[] { ' ' }, 8);
            if (f.Length != 8) throw Invalid(where, number, "does not have 8 fields");
            var sha = f[0] == "-" ? null : f[0];
            if (sha != null && (sha.Length != 64 || !sha.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))) throw Invalid(where, number, "has a malformed SHA-256");
            if (f[1].Length != 1 || !Enum.IsDefined(typeof(TarEntryType), (int)f[1][0])) throw Invalid(where, number, "has an unknown type");
            var type = (TarEntryType)f[1][0];
            if ((type == TarEntryType.File) != (sha != null)) throw Invalid(where, number, "has a SHA-256 that does not fit its type");
            int mode;
            try
            {
                mode = Convert.ToInt32(f[2], 8);
            }
            catch (FormatException)
            {
                throw Invalid(where, number, "has a malformed mode");
            }
            var ids = f[3].Split(':');
            var names = f[4].Split(':');
            if (ids.Length != 2 || names.Length != 2 || !long.TryParse(ids[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ||
                !long.TryParse(ids[1], NumberStyles.None, CultureInfo.InvariantCulture, out var gid)) throw Invalid(where, number, "has a malformed owner");
            if (!long.TryParse(f[5], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var mtime)) throw Invalid(where, number, "has a malformed time");
            if (!long.TryParse(f[6], NumberStyles.None, CultureInfo.InvariantCulture, out var size)) throw Invalid(where, number, "has a malformed size");
            Unescape(f[7], where, number - 1);
            if (link != null) Unescape(link, where, number - 1);
            return new TarEntry(f[7], type, mode, uid, gid, UnName(names[0], where, number), UnName(names[1], where, number), mtime, size, sha, link);
        }

        private static string Name(string name) => PathText.FromBytes(Encoding.UTF8.GetBytes(name)).Replace(" ", "\\040").Replace(":", "\\072");

        private static string UnName(string text, string where, int number) => Encoding.UTF8.GetString(Bytes(text, where, number - 1));

        private static string Unescape(string text, string where, int index) => Encoding.UTF8.GetString(Bytes(text, where, index));

        private static byte[] Bytes(string text, string where, int index)
        {
            try
            {
                return PathText.ToBytes(text);
            }
            catch (FormatException)
            {
                throw Invalid(where, index + 1, "has a bad escape");
            }
        }

        private static BackupException Invalid(string where, int line, string what) =>
            new BackupException("BackupManifestInvalid", DeevErrorKind.InvalidData,
                $"The MANIFEST of {where} is corrupt: {(line > 0 ? $"line {line} " : "it ")}{what}.", TarPipe.ManifestName);
    }

    /// <summary>One file that does not match its manifest: the file (absolute, as on the host) and what is wrong.</summary>
    public sealed class BackupProblem
    {
        public BackupProblem(string path, string problem)
        {
            Path = path;
            Problem = problem;
        }

        public string Path { get; }
        public string Problem { get; }
        public override string ToString() => $"{Path}: {Problem}";
    }

    /// <summary>Compares what a manifest promises with what an archive or a restored tree holds.</summary>
    public static class ManifestCheck
    {
        /// <summary>
        /// Problems of <paramref name="actual"/> (an archive's members, or a restored tree re-read as a tar stream)
        /// against <paramref name="expected"/> (the manifest). <paramref name="extrasAreProblems"/> is false for a
        /// restore, where files already on the target that the backup did not hold are left alone; <paramref name="root"/>
        /// prefixes the displayed paths.
        /// </summary>
        public static List<BackupProblem> Compare(IEnumerable<TarEntry> expected, IEnumerable<TarEntry> actual, bool extrasAreProblems, string root = "/")
        {
            var problems = new List<BackupProblem>();
            var have = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
            foreach (var a in actual) have[a.Path] = a;
            var listed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in expected)
            {
                listed.Add(e.Path);
                var shown = Display(root, e.Path);
                if (!have.TryGetValue(e.Path, out var a))
                {
                    problems.Add(new BackupProblem(shown, "listed in the manifest but missing"));
                    continue;
                }
                if (a.Type != e.Type)
                {
                    problems.Add(new BackupProblem(shown, $"is a {Describe(a.Type)}, the manifest says {Describe(e.Type)}"));
                    continue;
                }
                if (e.Type == TarEntryType.File)
                {
                    if (a.Size != e.Size) problems.Add(new BackupProblem(shown, $"has {a.Size} bytes, the manifest says {e.Size}"));
                    else if (!string.Equals(a.Sha256, e.Sha256, StringComparison.Ordinal)) problems.Add(new BackupProblem(shown, $"content differs from the manifest (SHA-256 {a.Sha256}, expected {e.Sha256})"));
                }
                if (e.LinkTarget != null && a.LinkTarget != e.LinkTarget) problems.Add(new BackupProblem(shown, $"links to '{a.LinkTarget}', the manifest says '{e.LinkTarget}'"));
                // A symlink's own mode is always 0777 on Linux and not restorable; its owner and time are compared.
                if (e.Type != TarEntryType.Symlink && a.Mode != e.Mode) problems.Add(new BackupProblem(shown, $"has mode {Octal(a.Mode)}, the manifest says {Octal(e.Mode)}"));
                if (!SameOwner(a.UserName, a.Uid, e.UserName, e.Uid) || !SameOwner(a.GroupName, a.Gid, e.GroupName, e.Gid))
                    problems.Add(new BackupProblem(shown, $"is owned by {Owner(a)}, the manifest says {Owner(e)}"));
                if (e.Type != TarEntryType.HardLink && a.ModifiedSeconds != e.ModifiedSeconds)
                    problems.Add(new BackupProblem(shown, $"was modified at {a.ModifiedSeconds}, the manifest says {e.ModifiedSeconds} (Unix time)"));
            }
            if (extrasAreProblems)
            {
                foreach (var a in have.Values.Where(a => !listed.Contains(a.Path)))
                    problems.Add(new BackupProblem(Display(root, a.Path), "is in the archive but not in the manifest"));
            }
            return problems;
        }

        /// <summary>Files on a restore target that the backup did not hold.</summary>
        public static IEnumerable<string> Extras(IEnumerable<TarEntry> expected, IEnumerable<TarEntry> actual, string root)
        {
            var listed = new HashSet<string>(expected.Select(e => e.Path), StringComparer.Ordinal);
            return actual.Where(a => !listed.Contains(a.Path)).Select(a => Display(root, a.Path));
        }

        public static string Display(string root, string path) => root.EndsWith("/", StringComparison.Ordinal) ? root + path : root + "/" + path;

        private static bool SameOwner(string actualName, long actualId, string expectedName, long expectedId) =>
            actualName.Length > 0 && expectedName.Length > 0 ? actualName == expectedName : actualId == expectedId;

        private static string Owner(TarEntry e) => $"{(e.UserName.Length > 0 ? e.UserName : e.Uid.ToString(CultureInfo.InvariantCulture))}:{(e.GroupName.Length > 0 ? e.GroupName : e.Gid.ToString(CultureInfo.InvariantCulture))}";

        private static string Octal(int mode) => Convert.ToString(mode, 8).PadLeft(4, '0');

        private static string Describe(TarEntryType type) => type.ToString().ToLowerInvariant();
    }
}
