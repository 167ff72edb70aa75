using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// What the module signs when it takes a backup: the backup's identity (name, service, host, time), the encrypted
    /// archive (size and SHA-256) and the MANIFEST inside it (SHA-256 of its exact bytes, and its header: the declared
    /// paths and tools). Stored beside the archive as <c>&lt;name&gt;.seal</c>: this text, then the OpenSSH signature
    /// (<c>ssh-keygen -Y sign -n deevnet-backup</c>) of exactly this text.
    /// <code>
    /// # deevnet-backup seal 1
    /// backup: grafana-dv02obs001v01-20250501T020000Z
    /// service: grafana
    /// host: dv02obs001v01
    /// time: 2025-05-01T02:00:00Z
    /// archive-size: 123456
    /// archive-sha256: &lt;64 hex&gt;
    /// manifest-sha256: &lt;64 hex&gt;
    /// plain-size: 245760
    /// entries: 12
    /// path: /srv/grafana
    /// tool: tar (GNU tar) 1.34
    /// </code>
    /// Binding the archive's hash means a genuine seal cannot vouch for another archive put under its name; binding
    /// the name and time means it cannot be copied beside another backup. File names inside the archive are not in
    /// the seal (it is not encrypted); the declared paths are in the tier already.
    /// </summary>
    public sealed class BackupSeal
    {
        public const string FirstLine = "# deevnet-backup seal 1";

        /// <summary>The OpenSSH signature namespace: a signature made for anything else (git, files) never verifies here.</summary>
        public const string Namespace = "deevnet-backup";

        /// <summary>Where the signature starts in a <c>.seal</c> file.</summary>
        public const string SignatureStart = "-----BEGIN SSH SIGNATURE-----";

        /// <summary>Largest .seal file read (a real one is well under 4 KiB).</summary>
        public const int MaxBytes = 64 * 1024;

        public BackupSeal(string backupName, string service, string host, DateTime timeUtc, long archiveSize, string archiveSha256, string manifestSha256,
            long plainSize, int entryCount, IReadOnlyList<string> paths, IReadOnlyList<string> tools)
        {
            BackupName = backupName;
            Service = service;
            Host = host;
            TimeUtc = timeUtc;
            ArchiveSize = archiveSize;
            ArchiveSha256 = archiveSha256;
            ManifestSha256 = manifestSha256;
            PlainSize = plainSize;
            EntryCount = entryCount;
            Paths = paths;
            Tools = tools;
        }

        public string BackupName { get; }
        public string Service { get; }
        public string Host { get; }
        public DateTime TimeUtc { get; }
        public long ArchiveSize { get; }
        public string ArchiveSha256 { get; }
        public string ManifestSha256 { get; }
        public long PlainSize { get; }
        public int EntryCount { get; }

        /// <summary>The service's declared paths when it was backed up (the MANIFEST's <c># path:</c> lines).</summary>
        public IReadOnlyList<string> Paths { get; }
        public IReadOnlyList<string> Tools { get; }

        /// <summary>The signed text, byte for byte.</summary>
        public byte[] ToMessage()
        {
            var sb = new StringBuilder();
            sb.Append(FirstLine).Append('\n');
            void Add(string key, string value) => sb.Append(key).Append(": ").Append(value).Append('\n');
            Add("backup", BackupName);
            Add("service", Service);
            Add("host", Host);
            Add("time", TimeUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            Add("archive-size", ArchiveSize.ToString(CultureInfo.InvariantCulture));
            Add("archive-sha256", ArchiveSha256);
            Add("manifest-sha256", ManifestSha256);
            Add("plain-size", PlainSize.ToString(CultureInfo.InvariantCulture));
            Add("entries", EntryCount.ToString(CultureInfo.InvariantCulture));
            foreach (var p in Paths) Add("path", PathText.FromBytes(Encoding.UTF8.GetBytes(p)));
            foreach (var t in Tools) Add("tool", PathText.FromBytes(Encoding.UTF8.GetBytes(t)));
            return new UTF8Encoding(false).GetBytes(sb.ToString());
        }

        /// <summary>The <c>.seal</c> file: the message, then the armored signature.</summary>
        public static byte[] Combine(byte[] message, string signature) =>
            message.Concat(Encoding.ASCII.GetBytes(signature.TrimEnd('\n') + "\n")).ToArray();

        /// <summary>Splits a <c>.seal</c> file into message and signature; false when it is not one.</summary>
        public static bool TrySplit(byte[] file, out byte[] message, out string signature)
        {
            message = Array.Empty<byte>();
            signature = "";
            var marker = Encoding.ASCII.GetBytes("\n" + SignatureStart);
            var at = IndexOf(file, marker);
            if (at < 0) return false;
            message = file.Take(at + 1).ToArray();
            signature = Encoding.ASCII.GetString(file, at + 1, file.Length - at - 1);
            return true;
        }

        /// <summary>Reads a seal's message; null (with why) when it is not one this version wrote.</summary>
        public static BackupSeal? TryParse(byte[] message, out string problem)
        {
            problem = "";
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(message);
            }
            catch (DecoderFallbackException)
            {
                problem = "the seal is not UTF-8 text";
                return null;
            }
            var lines = text.Split('\n');
            if (lines[0] != FirstLine || lines[^1].Length != 0)
            {
                problem = $"the seal does not start with '{FirstLine}'";
                return null;
            }
            var one = new Dictionary<string, string>(StringComparer.Ordinal);
            var paths = new List<string>();
            var tools = new List<string>();
            for (var i = 1; i < lines.Length - 1; i++)
            {
                var colon = lines[i].IndexOf(": ", StringComparison.Ordinal);
                if (colon <= 0)
                {
                    problem = $"line {i + 1} of the seal is not 'key: value'";
                    return null;
                }
                var key = lines[i].Substring(0, colon);
                var value = lines[i].Substring(colon + 2);
                try
                {
                    if (key == "path") paths.Add(Encoding.UTF8.GetString(PathText.ToBytes(value)));
                    else if (key == "tool") tools.Add(Encoding.UTF8.GetString(PathText.ToBytes(value)));
                    else if (!one.TryAdd(key, value))
                    {
                        problem = $"the seal has '{key}' twice";
                        return null;
                    }
                }
                catch (FormatException)
                {
                    problem = $"line {i + 1} of the seal has a bad escape";
                    return null;
                }
            }
            string Get(string key) => one.TryGetValue(key, out var v) ? v : "";
            if (!DateTime.TryParseExact(Get("time"), "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time) ||
                !long.TryParse(Get("archive-size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ||
                !long.TryParse(Get("plain-size"), NumberStyles.None, CultureInfo.InvariantCulture, out var plain) ||
                !int.TryParse(Get("entries"), NumberStyles.None, CultureInfo.InvariantCulture, out var entries) ||
                !IsSha256(Get("archive-sha256")) || !IsSha256(Get("manifest-sha256")) ||
                Get("backup").Length == 0 || Get("service").Length == 0 || Get("host").Length == 0)
            {
                problem = "the seal lacks a field or has a malformed one";
                return null;
            }
            return new BackupSeal(Get("backup"), Get("service"), Get("host"), time, size, Get("archive-sha256"), Get("manifest-sha256"), plain, entries, paths, tools);
        }

        public static string Sha256Hex(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

        private static bool IsSha256(string s) => s.Length == 64 && s.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (var i = 0; i + needle.Length <= haystack.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }
    }
}
