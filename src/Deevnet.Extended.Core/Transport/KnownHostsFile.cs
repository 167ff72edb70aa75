using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>What known_hosts says about a key a server offered.</summary>
    public enum HostKeyStatus
    {
        /// <summary>The offered key is recorded for this host.</summary>
        Known,

        /// <summary>Nothing is recorded for this host.</summary>
        Unknown,

        /// <summary>A different key is recorded for this host: the server changed its key, or someone is in the middle.</summary>
        Changed,

        /// <summary>The offered key is marked <c>@revoked</c>.</summary>
        Revoked,
    }

    /// <summary>One host key line of a known_hosts file.</summary>
    public sealed class KnownHostEntry
    {
        internal KnownHostEntry(int lineNumber, string hostField, HostKey key, bool isRevoked, string comment)
        {
            LineNumber = lineNumber;
            HostField = hostField;
            Key = key;
            IsRevoked = isRevoked;
            Comment = comment;
        }

        /// <summary>1-based line number in the file.</summary>
        public int LineNumber { get; }

        /// <summary>The host field as written: patterns, a comma list, or a hashed <c>|1|salt|hash</c>.</summary>
        public string HostField { get; }

        public HostKey Key { get; }

        public bool IsRevoked { get; }

        public bool IsHashed => HostField.StartsWith("|1|", StringComparison.Ordinal);

        /// <summary>What follows the key on the line (empty when nothing).</summary>
        public string Comment { get; }

        /// <summary>
        /// A line the module wrote for a rebuilt VM's first boot (<see cref="KnownHostsFile.FirstBootMarker"/>): trusted
        /// until the host offers its lasting key, then removed by <see cref="KnownHostsFile.RemoveFirstBoot"/>.
        /// </summary>
        public bool IsFirstBoot => Comment == KnownHostsFile.FirstBootMarker || Comment.StartsWith(KnownHostsFile.FirstBootMarker + " ", StringComparison.Ordinal);

        /// <summary>Whether this line applies to <paramref name="lookupName"/> (<c>host</c> or <c>[host]:port</c>).</summary>
        public bool Matches(string lookupName)
        {
            if (IsHashed) return HashedMatches(HostField, lookupName);
            var matched = false;
            foreach (var raw in HostField.Split(','))
            {
                var negated = raw.StartsWith("!", StringComparison.Ordinal);
                var pattern = negated ? raw.Substring(1) : raw;
                if (!GlobMatches(pattern, lookupName)) continue;
                if (negated) return false;  // OpenSSH: a matching negation vetoes the whole line
                matched = true;
            }
            return matched;
        }

        private static bool HashedMatches(string field, string lookupName)
        {
            var parts = field.Split('|');
            if (parts.Length != 4) return false;
            try
            {
                var salt = Convert.FromBase64String(parts[2]);
                var expected = Convert.FromBase64String(parts[3]);
                using var hmac = new HMACSHA1(salt);
                var actual = hmac.ComputeHash(Encoding.UTF8.GetBytes(lookupName));
                return actual.SequenceEqual(expected);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        private static bool GlobMatches(string pattern, string name)
        {
            if (pattern.IndexOf('*') < 0 && pattern.IndexOf('?') < 0) return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
            var regex = "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
            return Regex.IsMatch(name, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        }
    }

    /// <summary>The verdict on an offered host key, with what was recorded.</summary>
    public sealed class HostKeyCheck
    {
        internal HostKeyCheck(HostKeyStatus status, string host, int port, HostKey offered, KnownHostEntry? recorded, string knownHostsPath,
            IReadOnlyList<KnownHostEntry> forHost)
        {
            Status = status;
            Host = host;
            Port = port;
            Offered = offered;
            Recorded = recorded;
            KnownHostsPath = knownHostsPath;
            ForHost = forHost;
        }

        public HostKeyStatus Status { get; }
        public string Host { get; }
        public int Port { get; }
        public HostKey Offered { get; }

        /// <summary>The matching line (Known, Revoked) or the conflicting one (Changed); null when Unknown.</summary>
        public KnownHostEntry? Recorded { get; }
        public string KnownHostsPath { get; }

        /// <summary>Every host key line (not revocations) recorded for the host and port, first-boot lines included.</summary>
        public IReadOnlyList<KnownHostEntry> ForHost { get; }

        /// <summary>The exception for a key that must not be trusted; null when the key is known.</summary>
        public TransportException? ToException()
        {
            var endpoint = Port == 22 ? Host : $"{Host}:{Port}";
            var addCommand = $"Get-DeevHostKey -HostName {Host}{(Port == 22 ? "" : " -Port " + Port)} -KnownHostsPath '{KnownHostsPath}' -Add";
            switch (Status)
            {
                case HostKeyStatus.Known:
                    return null;
                case HostKeyStatus.Unknown:
                    return new TransportException("HostKeyUnknown", DeevErrorKind.SecurityError,
                        $"The host key of {endpoint} is not recorded in {KnownHostsPath}: the server offered {Offered.KeyType} {Offered.Fingerprint}. " +
                        "Nothing was sent to it. Compare the fingerprint with the server's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and record it with: " + addCommand,
                        endpoint)
                    { RecommendedAction = $"Verify {Offered.Fingerprint} on the server's console, then run: {addCommand}" };
                case HostKeyStatus.Revoked:
                    return new TransportException("HostKeyMismatch", DeevErrorKind.SecurityError,
                        $"The host key {Offered.KeyType} {Offered.Fingerprint} offered by {endpoint} is marked @revoked in {KnownHostsPath} line {Recorded!.LineNumber}. The connection was refused.",
                        endpoint)
                    { RecommendedAction = "Give the server a new host key and record that one; a revoked key is never accepted." };
                default:
                    var why = HostKey.Family(Recorded!.Key.KeyType) == HostKey.Family(Offered.KeyType)
                        ? "The server's host key has CHANGED"
                        : $"The server offered a {Offered.KeyType} key, but only a {Recorded.Key.KeyType} key is recorded";
                    return new TransportException("HostKeyMismatch", DeevErrorKind.SecurityError,
                        $"{why} for {endpoint}: recorded {Recorded.Key.KeyType} {Recorded.Key.Fingerprint} ({KnownHostsPath} line {Recorded.LineNumber}), " +
                        $"offered {Offered.KeyType} {Offered.Fingerprint}. Someone may be intercepting the connection; nothing was sent to the server.",
                        endpoint)
                    {
                        RecommendedAction = $"Check the key on the server's console. Only if the change is expected (server reinstalled), remove line {Recorded.LineNumber} " +
                            $"of {KnownHostsPath} (ssh-keygen -R '{KnownHostsFile.LookupName(Host, Port)}' -f '{KnownHostsPath}') or run: {addCommand} -Force",
                    };
            }
        }
    }

    /// <summary>
    /// An OpenSSH known_hosts file, read strictly: plain names, comma lists, wildcards and negations, hashed
    /// <c>|1|salt|hash</c> names, <c>[host]:port</c> for ports other than 22. <c>@cert-authority</c> lines are skipped
    /// (certificates are not supported); <c>@revoked</c> lines are kept only to refuse those keys.
    /// </summary>
    public sealed class KnownHostsFile
    {
        private KnownHostsFile(string path, IReadOnlyList<KnownHostEntry> entries)
        {
            Path = path;
            Entries = entries;
        }

        public string Path { get; }
        public IReadOnlyList<KnownHostEntry> Entries { get; }

        /// <summary><c>~/.ssh/known_hosts</c>.</summary>
        public static string DefaultPath => System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh", "known_hosts");

        /// <summary>The name OpenSSH looks up: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
        public static string LookupName(string host, int port) => port == 22 || port == 0 ? host.ToLowerInvariant() : $"[{host.ToLowerInvariant()}]:{port}";

        /// <summary>Reads a file; a missing file is an empty one (every host is unknown).</summary>
        public static KnownHostsFile Load(string path)
        {
            var full = System.IO.Path.GetFullPath(path);
            return File.Exists(full) ? Parse(full, File.ReadAllLines(full)) : new KnownHostsFile(full, Array.Empty<KnownHostEntry>());
        }

        public static KnownHostsFile Parse(string path, IEnumerable<string> lines)
        {
            var entries = new List<KnownHostEntry>();
            var number = 0;
            foreach (var raw in lines)
            {
                number++;
                var fields = raw.Trim().Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 0 || fields[0].StartsWith("#", StringComparison.Ordinal)) continue;
                var revoked = false;
                if (fields[0].StartsWith("@", StringComparison.Ordinal))
                {
                    if (fields[0] != "@revoked") continue;   // @cert-authority and unknown markers: not host keys
                    revoked = true;
                    fields = fields.Skip(1).ToArray();
                }
                if (fields.Length < 3) continue;
                byte[] blob;
                try
                {
                    blob = Convert.FromBase64String(fields[2]);
                }
                catch (FormatException)
                {
                    continue;   // OpenSSH also ignores lines it cannot decode
                }
                entries.Add(new KnownHostEntry(number, fields[0], new HostKey(fields[1], blob), revoked, string.Join(" ", fields.Skip(3))));
            }
            return new KnownHostsFile(path, entries);
        }

        /// <summary>Every host key line (not revocations) that applies to the host and port.</summary>
        public IReadOnlyList<KnownHostEntry> Find(string host, int port)
        {
            var name = LookupName(host, port);
            return Entries.Where(e => !e.IsRevoked && e.Matches(name)).ToList();
        }

        /// <summary>Checks an offered key the way <c>StrictHostKeyChecking yes</c> does.</summary>
        public HostKeyCheck Check(string host, int port, HostKey offered)
        {
            var name = LookupName(host, port);
            var recorded = Find(host, port);
            var revoked = Entries.FirstOrDefault(e => e.IsRevoked && e.Key.Equals(offered) && e.Matches(name));
            if (revoked != null) return new HostKeyCheck(HostKeyStatus.Revoked, host, port, offered, revoked, Path, recorded);
            // A lasting line wins over a first-boot line for the same key, so the report says which one trusts it.
            var same = recorded.Where(e => e.Key.Equals(offered)).OrderBy(e => e.IsFirstBoot).FirstOrDefault();
            if (same != null) return new HostKeyCheck(HostKeyStatus.Known, host, port, offered, same, Path, recorded);
            // A recorded key of the same type wins as "the" conflicting one; any other recorded key still means the
            // host is known and now shows a different key, which is never accepted silently.
            var conflict = recorded.FirstOrDefault(e => HostKey.Family(e.Key.KeyType) == HostKey.Family(offered.KeyType)) ?? recorded.FirstOrDefault();
            return new HostKeyCheck(conflict == null ? HostKeyStatus.Unknown : HostKeyStatus.Changed, host, port, offered, conflict, Path, recorded);
        }

        /// <summary>The comment that marks a first-boot line (see <see cref="KnownHostEntry.IsFirstBoot"/>).</summary>
        public const string FirstBootMarker = "deevnet-rebuild-first-boot";

        /// <summary>
        /// Appends <c>host keytype base64</c> (<c>[host]:port</c> when the port is not 22); with
        /// <paramref name="firstBoot"/> the line carries <see cref="FirstBootMarker"/>, so it can be removed once the
        /// host offers its lasting key. With <paramref name="retireConflicting"/>, lasting lines recording a different
        /// key for this host are commented out (<c>#deevnet-replaced …</c>) — only after the operator confirmed the
        /// changed key (or the key came over a trusted channel).
        /// </summary>
        public static void Add(string path, string host, int port, HostKey key, bool retireConflicting = false, bool firstBoot = false)
        {
            var line = $"{LookupName(host, port)} {HostKey.Family(key.KeyType)} {key.Base64}" + (firstBoot ? " " + FirstBootMarker : "");
            Rewrite(path, "add the host key to", (full, lines) =>
            {
                if (retireConflicting)
                {
                    var retire = new HashSet<int>(Parse(full, lines).Find(host, port).Where(e => !e.IsFirstBoot && !e.Key.Equals(key)).Select(e => e.LineNumber));
                    var stamp = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                    lines = lines.Select((l, i) => retire.Contains(i + 1) ? $"#deevnet-replaced {stamp} {l}" : l).ToList();
                }
                lines.Add(line);
                return lines;
            });
        }

        /// <summary>
        /// Removes the first-boot lines (<see cref="FirstBootMarker"/>) recorded for the host and port; every other line
        /// stays as it was. Returns how many were removed.
        /// </summary>
        public static int RemoveFirstBoot(string path, string host, int port)
        {
            var removed = 0;
            if (!File.Exists(System.IO.Path.GetFullPath(path))) return 0;
            Rewrite(path, "remove the first-boot key from", (full, lines) =>
            {
                var name = LookupName(host, port);
                var drop = new HashSet<int>(Parse(full, lines).Entries.Where(e => !e.IsRevoked && e.IsFirstBoot && e.Matches(name)).Select(e => e.LineNumber));
                removed = drop.Count;
                return lines.Where((_, i) => !drop.Contains(i + 1)).ToList();
            });
            return removed;
        }

        /// <summary>
        /// Read-modify-write under a lock (a sibling lock file, so two writers — two rebuilds, a rebuild and an -Add —
        /// never lose each other's line), written beside the file, flushed and renamed over it: a reader (ssh
        /// included) sees the old or the new file, never half a line.
        /// </summary>
        private static void Rewrite(string path, string what, Func<string, List<string>, List<string>> change)
        {
            var full = System.IO.Path.GetFullPath(path);
            var directory = System.IO.Path.GetDirectoryName(full)!;
            var temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(full)}.deevnet-tmp-{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(directory);
                using var gate = Lock(System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(full)}.deevnet-lock"));
                var lines = File.Exists(full) ? File.ReadAllLines(full).ToList() : new List<string>();
                var result = change(full, lines);
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                {
                    var bytes = new UTF8Encoding(false).GetBytes(result.Count == 0 ? "" : string.Join("\n", result) + "\n");
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(true);
                }
                if (File.Exists(full)) File.Replace(temp, full, null);
                else File.Move(temp, full);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new TransportException("KnownHostsWriteFailed", DeevErrorKind.WriteError, $"Could not {what} {full}: {ex.Message}", full, ex);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }

        /// <summary>An exclusive lock (.NET takes flock on Unix for FileShare.None), waited for up to 30 s.</summary>
        private static FileStream Lock(string lockPath)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    System.Threading.Thread.Sleep(50);
                }
            }
        }
    }
}
