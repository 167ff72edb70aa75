using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests
{
    /// <summary>
    /// docs/errors.md lists every error id the module can raise. The source is read the way a reviewer would: an id is
    /// the first string of an exception or ErrorRecord, a constant of an <c>…Errors</c> class, or a string literal
    /// shaped like an id (<c>…NotFound</c>, <c>…Failed</c>, <c>…Invalid</c> …) passed along.
    /// </summary>
    public class ErrorCatalogTests
    {
        private const string Suffix = "(?:NotFound|Failed|Invalid|Missing|Conflict|Refused|Mismatch|Unknown|Timeout|Locked|Unreadable|" +
            "Exhausted|Stopped|Unavailable|Rejected|Insecure|Unauthenticated|TooLarge|InProgress|NotConfigured|Violation|Duplicate|" +
            "Interrupted|Corrupted|Mixed|NotServed|NotOwned|NotNeeded|NotInTier|NotConfirmed|Unreachable|ConcurrentChange)";

        private static readonly Regex[] IdPatterns =
        {
            new Regex(@"new \w*Exception\(\s*""([A-Z][A-Za-z]+)"""),
            new Regex(@"NewError\(\s*""([A-Z][A-Za-z]+)"""),
            new Regex(@"base\(\s*""([A-Z][A-Za-z]+)"""),
            new Regex(@"ErrorRecord\]::new\([^\n]*?,\s*'([A-Z][A-Za-z]+)'"),
            new Regex(@"new ErrorRecord\([^\n]*?,\s*""([A-Z][A-Za-z]+)"""),
            new Regex(@"[""']([A-Z][a-z]+[A-Za-z]*" + Suffix + @")[""']"),
        };

        private static readonly Regex ErrorsClass = new Regex(@"class \w+Errors\b.*?\n    \}", RegexOptions.Singleline);
        private static readonly Regex Constant = new Regex(@"const string \w+ = ""([A-Z][A-Za-z]+)""");

        [Fact]
        public void Every_error_id_the_source_raises_is_listed_in_docs_errors_md()
        {
            var documented = Documented();
            var missing = Raised().Where(r => !documented.Contains(r.Key)).Select(r => $"{r.Key} ({string.Join(", ", r.Value)})").ToList();
            Assert.True(missing.Count == 0, "Not in docs/errors.md: " + string.Join("; ", missing));
        }

        [Fact]
        public void Every_listed_id_is_still_raised()
        {
            var raised = Raised();
            var stale = Documented().Where(id => !raised.ContainsKey(id)).ToList();
            Assert.True(stale.Count == 0, "docs/errors.md lists ids nothing raises: " + string.Join(", ", stale));
        }

        private static HashSet<string> Documented() =>
            new HashSet<string>(Regex.Matches(File.ReadAllText(TierTestFiles.RepoFile("docs/errors.md")), @"^\| `([A-Za-z]+)` \|", RegexOptions.Multiline)
                .Select(m => m.Groups[1].Value), StringComparer.Ordinal);

        private static Dictionary<string, SortedSet<string>> Raised()
        {
            // ErrorCategory names (ObjectNotFound, InvalidArgument …) are categories, not ids.
            var categories = new HashSet<string>(Enum.GetNames(typeof(ErrorCategory)), StringComparer.Ordinal);
            var ids = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            var root = Path.GetDirectoryName(TierTestFiles.RepoFile("README.md"))!;
            foreach (var folder in new[] { "src", "module" })
            {
                foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
                {
                    if (!(file.EndsWith(".cs") || file.EndsWith(".ps1")) || file.Contains("/bin/") || file.Contains("/obj/")) continue;
                    var text = File.ReadAllText(file);
                    var found = IdPatterns.SelectMany(p => p.Matches(text).Select(m => m.Groups[1].Value))
                        .Concat(ErrorsClass.Matches(text).SelectMany(c => Constant.Matches(c.Value).Select(m => m.Groups[1].Value)));
                    foreach (var id in found.Where(i => !categories.Contains(i)))
                    {
                        if (!ids.TryGetValue(id, out var files)) ids[id] = files = new SortedSet<string>(StringComparer.Ordinal);
                        files.Add(Path.GetFileName(file));
                    }
                }
            }
            return ids;
        }
    }
}
