using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>
    /// Hostile and broken files, as an operator's editor, a truncated copy or an attacker would produce them. Whatever
    /// the bytes, the loader returns a valid tier or <c>TierFileInvalid</c> with positions — never another exception,
    /// never a crash of the process (a stack overflow cannot be caught: it would end this test run), and within a
    /// time and memory bound.
    /// </summary>
    public class TierFuzzTests
    {
        private const int Seed = 20261201;
        private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(5);
        private const long AllocationLimit = 400L << 20;

        public static IEnumerable<object[]> Sources() => new[] { new object[] { "examples/lab.tier.yaml" }, new object[] { "examples/mobile.tier.yaml" } };

        [Theory]
        [MemberData(nameof(Sources))]
        public void MutatedTierFilesLoadOrFailWithPositions(string source)
        {
            var original = File.ReadAllText(TierTestFiles.RepoFile(source));
            var random = new Random(Seed);
            var folder = Path.GetDirectoryName(TierTestFiles.RepoFile(source))!;
            var outcomes = new Dictionary<string, int>();
            for (var i = 0; i < 1000; i++)
            {
                var (kind, text) = Mutate(original, random);
                var outcome = LoadOnce(Path.Combine(folder, $"fuzz-{i}.tier.yaml"), text, $"{source} case {i} ({kind})");
                outcomes[outcome] = outcomes.TryGetValue(outcome, out var n) ? n + 1 : 1;
            }
            // The mutations must really break files most of the time, or this test proves little.
            Assert.True(outcomes.GetValueOrDefault("invalid") > 700, string.Join(", ", outcomes.Select(o => $"{o.Key}={o.Value}")));
        }

        [Fact]
        public void MutatedIdentityFilesReadOrReportWithPositions()
        {
            using var files = new TierTestFiles();
            var original = IdentityFile.Render("t.tier.yaml", "02:de:20", Enumerable.Range(0, 40).Select(i => new KeyValuePair<string, int>($"h{i}", 200 + i)));
            var random = new Random(Seed);
            for (var i = 0; i < 1500; i++)
            {
                var (kind, text) = Mutate(original, random);
                var path = Path.Combine(files.Folder, "t.identity.yaml");
                File.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));   // lone surrogates become U+FFFD, as an editor would save them
                var watch = Stopwatch.StartNew();
                IdentityFile read;
                try
                {
                    read = IdentityFile.Read(path);
                }
                catch (Exception ex)
                {
                    throw new Xunit.Sdk.XunitException($"case {i} ({kind}) threw {ex.GetType().Name}: {ex.Message}");
                }
                Assert.True(watch.Elapsed < CaseLimit, $"case {i} ({kind}) took {watch.Elapsed}");
                Assert.All(read.Problems, p => Assert.True(p.Line >= 1 && p.Column >= 1 && !p.Message.Any(char.IsControl), $"case {i} ({kind}): {p}"));
            }
        }

        [Theory]
        [InlineData(100)]
        [InlineData(200_000)]
        public void DeepNestingIsAProblemNotACrash(int depth)
        {
            foreach (var text in new[]
            {
                "site: " + new string('[', depth) + new string(']', depth) + "\n",
                "site:\n" + string.Concat(Enumerable.Range(1, Math.Min(depth, 5000)).Select(d => new string(' ', d) + "- \n")),
                "site: " + string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth) + "\n",
            })
            {
                var problem = Assert.Single(Invalid(text).Problems);
                Assert.Contains($"nested deeper than {YamlFileReader.MaxDepth} levels", problem.Message);
                Assert.True(problem.Line >= 1 && problem.Column > 1);
            }
        }

        [Fact]
        public void AnAliasBombIsRefusedAtTheFirstAliasTooMany()
        {
            var text = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
            for (var i = 1; i < 200; i++) text.Append($"a{i}: &a{i} [").Append(string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))).Append("]\n");
            var problem = Assert.Single(Invalid(text.ToString()).Problems);
            Assert.Contains($"more than {YamlFileReader.MaxAliases} aliases", problem.Message);
            Assert.Equal(102, problem.Line);
        }

        [Fact]
        public void AThousandsOfProblemsReportIsBounded()
        {
            var text = new StringBuilder(TierTestFiles.Valid);
            text.Replace("hosts:\n", "hosts:\n" + string.Concat(Enumerable.Range(0, 100_000).Select(i => $"  bad{i}: {{ segment: nowhere, ip: 300.1.1.{i % 250} }}\n")));
            // Memory proportional to the file, not to the problems: compared with parsing the same text alone.
            var before = GC.GetAllocatedBytesForCurrentThread();
            new YamlDotNet.RepresentationModel.YamlStream().Load(new StringReader(text.ToString()));
            var parseAlone = GC.GetAllocatedBytesForCurrentThread() - before;
            before = GC.GetAllocatedBytesForCurrentThread();
            var ex = Invalid(text.ToString());
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(ex.Total >= 100_000, $"{ex.Total} problems counted");
            Assert.Equal(ProblemLog.MaxKept, ex.Problems.Count);
            Assert.Equal(TierFileInvalidException.MaxInMessage + 2, ex.Message.Split('\n').Length);
            Assert.Contains($"… and {ex.Total - TierFileInvalidException.MaxInMessage} more", ex.Message);
            Assert.True(ex.Message.Length < 64 * 1024, $"message of {ex.Message.Length} characters");
            Assert.True(allocated < 2 * parseAlone, $"{allocated >> 20} MiB allocated for a {text.Length >> 20} MiB file; the parse alone {parseAlone >> 20} MiB");
        }

        [Theory]
        [InlineData("\u001b[2J\u001b[31mevil", "\\x1b[2J\\x1b[31mevil")]
        [InlineData("two\nlines", "two\\nlines")]
        [InlineData("rtl\u202egnp.exe", "rtl\\u202egnp.exe")]
        public void NamesWithControlCharactersAreShownEscaped(string name, string shown)
        {
            var text = TierTestFiles.With("  h2: {", $"  \"{name.Replace("\n", "\\n").Replace("\u001b", "\\e")}\": {{ segment: mgmt, ip: 10.1.99.12 }}\n  h2: {{");
            var ex = Invalid(text);
            Assert.Contains(ex.Problems, p => p.Message.Contains(shown));
            Assert.DoesNotContain(ex.Message, c => c == '\u001b' || c == '\u202e');
            Assert.Equal(ex.Problems.Count + 1, ex.Message.Split('\n').Length);
        }

        [Fact]
        public void AFileOverTheSizeLimitIsNotRead()
        {
            using var files = new TierTestFiles();
            var path = files.Write("");
            using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(YamlFileReader.MaxBytes + 1);
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Load(path));
            Assert.Contains("at most 16 MiB", Assert.Single(ex.Problems).Message);
        }

        private static TierFileInvalidException Invalid(string text)
        {
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse("/tmp/fuzz.tier.yaml", text));
            Assert.All(ex.Problems, p => Assert.True(p.Line >= 1 && p.Column >= 1));
            return ex;
        }

        /// <summary>One load: "valid" or "invalid"; anything else fails the test with the case named.</summary>
        private static string LoadOnce(string path, string text, string name)
        {
            var watch = Stopwatch.StartNew();
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                TierLoader.Parse(path, text);
                return "valid";
            }
            catch (TierFileInvalidException ex)
            {
                Assert.NotEmpty(ex.Problems);
                foreach (var p in ex.Problems)
                {
                    Assert.True(p.Line >= 1 && p.Column >= 1, $"{name}: {p}");
                    Assert.False(p.Message.Any(char.IsControl), $"{name}: a control character in '{p.Message}'");
                }
                return "invalid";
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"{name} threw {ex.GetType().FullName}: {ex.Message}\n{ex.StackTrace}");
            }
            finally
            {
                Assert.True(watch.Elapsed < CaseLimit, $"{name} took {watch.Elapsed}");
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < AllocationLimit, $"{name} allocated {allocated >> 20} MiB");
            }
        }

        private static readonly string[] Mutations =
        {
            "truncate", "bytes", "deepen", "huge-scalar", "duplicate-line", "unicode-name", "swap-lines", "delete-line",
            "indent", "yaml-chars", "anchor", "tabs",
        };

        private static readonly string[] Unicode =
        {
            "\u0000", "\u0007", "\u001b[31m", "\u007f", "\u0085", "\u00a0", "\u200b", "\u202e", "\u2028", "\ufeff",
            "\ud800", "\udc00", "\U0001F600", "é", "Ω", "٣", "ﬁ", "Ａ", "\t", "\r",
        };

        private static (string Kind, string Text) Mutate(string text, Random random)
        {
            var kind = Mutations[random.Next(Mutations.Length)];
            var lines = text.Split('\n').ToList();
            int Line() => random.Next(lines.Count);
            switch (kind)
            {
                case "truncate":
                    return (kind, text.Substring(0, random.Next(text.Length)));
                case "bytes":
                    var chars = text.ToCharArray();
                    for (var n = random.Next(1, 8); n > 0; n--) chars[random.Next(chars.Length)] = (char)random.Next(0, 0x3000);
                    return (kind, new string(chars));
                case "deepen":
                    var depth = random.Next(10, 50_000);
                    lines.Insert(Line(), "x: " + new string('[', depth) + new string(']', random.Next(depth)));
                    break;
                case "huge-scalar":
                    var at = Line();
                    lines[at] = lines[at] + new string('a', random.Next(1, 300_000));
                    break;
                case "duplicate-line":
                    var copy = Line();
                    lines.Insert(copy, lines[copy]);
                    break;
                case "unicode-name":
                    var row = Line();
                    var colon = lines[row].IndexOf(':');
                    if (colon > 0) lines[row] = lines[row].Insert(random.Next(colon), Unicode[random.Next(Unicode.Length)]);
                    break;
                case "swap-lines":
                    var (a, b) = (Line(), Line());
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    break;
                case "delete-line":
                    lines.RemoveAt(Line());
                    break;
                case "indent":
                    var shifted = Line();
                    lines[shifted] = new string(' ', random.Next(1, 9)) + lines[shifted];
                    break;
                case "yaml-chars":
                    var target = Line();
                    var special = new[] { "&", "*", "!", "|", ">", "%", "@", "`", "{", "}", "[", "]", "? ", "- ", "---", "...", "<<: *x", "!!binary" };
                    lines[target] = lines[target].Insert(random.Next(lines[target].Length + 1), special[random.Next(special.Length)]);
                    break;
                case "anchor":
                    var anchored = Line();
                    lines[anchored] = lines[anchored].Replace(": ", ": &x ");
                    lines.Insert(Math.Min(anchored + 1 + random.Next(5), lines.Count), "y: *x");
                    break;
                case "tabs":
                    var tabbed = Line();
                    lines[tabbed] = lines[tabbed].Replace("  ", "\t");
                    break;
            }
            return (kind, string.Join("\n", lines));
        }
    }
}
