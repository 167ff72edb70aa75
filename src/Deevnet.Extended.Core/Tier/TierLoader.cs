using System;
using System.Collections.Concurrent;
using System.IO;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// Loads and validates a tier file (docs/tier-file.md). Everything is checked before anything is returned, and
    /// every problem is reported at once, with file, line and column, in a <see cref="TierFileInvalidException"/>.
    /// </summary>
    public static class TierLoader
    {
        private sealed class CacheEntry
        {
            public CacheEntry(DateTime lastWriteUtc, long length, SiteTier tier)
            {
                LastWriteUtc = lastWriteUtc;
                Length = length;
                Tier = tier;
            }

            public DateTime LastWriteUtc { get; }
            public long Length { get; }
            public SiteTier Tier { get; }
        }

        // A pipeline of cmdlets loads the same file many times; a changed file (time or size) is read again.
        private static readonly ConcurrentDictionary<string, CacheEntry> Cache = new ConcurrentDictionary<string, CacheEntry>(StringComparer.Ordinal);

        /// <summary>
        /// Loads the tier file at <paramref name="path"/>, from the cache when the file has not changed.
        /// Throws <see cref="TierFileInvalidException"/> (<c>TierFileInvalid</c>) or a <see cref="DeevException"/>
        /// <c>TierFileNotFound</c> / <c>TierFileUnreadable</c>.
        /// </summary>
        public static SiteTier Load(string path)
        {
            var fullPath = Path.GetFullPath(path);
            var info = new FileInfo(fullPath);
            if (!info.Exists)
                throw new DeevException("TierFileNotFound", DeevErrorKind.ObjectNotFound,
                    Directory.Exists(fullPath) ? $"The tier file '{fullPath}' is a folder, not a file." : $"The tier file '{fullPath}' does not exist.", fullPath)
                {
                    RecommendedAction = "Pass the path of a tier file with -TierPath, or set $env:DEEV_TIER.",
                };
            if (Cache.TryGetValue(fullPath, out var cached) && cached.LastWriteUtc == info.LastWriteTimeUtc && cached.Length == info.Length)
                return cached.Tier;

            if (info.Length > YamlFileReader.MaxBytes)
                throw Invalid(fullPath, 1, 1, $"the file is {info.Length} bytes; a tier file is at most {YamlFileReader.MaxBytes >> 20} MiB");
            string text;
            try
            {
                text = File.ReadAllText(fullPath);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new DeevException("TierFileUnreadable", DeevErrorKind.PermissionDenied, $"The tier file '{fullPath}' cannot be read: {ex.Message}", fullPath, ex);
            }
            var tier = Parse(fullPath, text);
            Cache[fullPath] = new CacheEntry(info.LastWriteTimeUtc, info.Length, tier);
            return tier;
        }

        /// <summary>Validates tier text as if it were the file <paramref name="path"/> (relative paths resolve beside it). Never cached.</summary>
        public static SiteTier Parse(string path, string text)
        {
            var fullPath = Path.GetFullPath(path);
            var read = YamlFileReader.Read(fullPath, text);
            if (read.Problem != null) throw new TierFileInvalidException(fullPath, new[] { read.Problem });
            var root = read.Root;
            if (root == null || TierReader.IsNull(root))
                throw Invalid(fullPath, 1, 1, "the file is empty; a tier file needs at least the site, segments, hosts and services sections");

            var reader = new TierReader(fullPath);
            var tier = reader.Read(root);
            if (tier == null || reader.ProblemCount > 0) throw new TierFileInvalidException(fullPath, reader.Problems, reader.ProblemCount);
            return tier;
        }

        /// <summary>Forgets every cached tier (tests; a cmdlet never needs this because changed files are re-read).</summary>
        public static void ClearCache() => Cache.Clear();

        private static TierFileInvalidException Invalid(string path, int line, int column, string message) =>
            new TierFileInvalidException(path, new[] { new TierProblem(path, line, column, message) });
    }
}
