using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Xml.Linq;
using Deevnet.Extended.Core.Checks;
using Xunit;

namespace Deevnet.Extended.Tests.Checks
{
    public class CheckReportTests
    {
        private static readonly CheckResult[] Results =
        {
            new CheckResult("grafana", "h1", "observability", "http", "http://g/", CheckStatus.Passed, "HTTP 200", TimeSpan.FromMilliseconds(12)),
            new CheckResult("grafana", "h1", "observability", "tcp", "h1:3000", CheckStatus.Failed, "connection refused \"quoted\" <x>", TimeSpan.FromMilliseconds(3)),
            new CheckResult("", "h1", "", "vm", "h1 on hv", CheckStatus.Skipped, "not available", TimeSpan.Zero),
            new CheckResult("", "h1", "", "https", "https://x/", CheckStatus.Warning, "expires soon", TimeSpan.Zero),
        };

        [Fact]
        public void JUnitHasOneSuitePerGroupAndFailuresAndSkipsMarked()
        {
            var summary = CheckSummary.From("/t.yaml", Results, TimeSpan.FromSeconds(1));
            var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("n") + ".xml");
            try
            {
                CheckReport.Write(path, summary, Results);
                var doc = XDocument.Load(path);
                Assert.Equal("4", doc.Root!.Attribute("tests")!.Value);
                Assert.Equal("1", doc.Root.Attribute("failures")!.Value);
                Assert.Equal("1", doc.Root.Attribute("skipped")!.Value);
                Assert.Equal(new[] { "service grafana", "host h1" }, doc.Root.Elements("testsuite").Select(s => s.Attribute("name")!.Value));
                var failure = doc.Descendants("failure").Single();
                Assert.Equal("connection refused \"quoted\" <x>", failure.Attribute("message")!.Value);
                Assert.Equal("tcp h1:3000", failure.Parent!.Attribute("name")!.Value);
                Assert.Contains("WARNING: expires soon", doc.Descendants("system-out").Select(e => e.Value));
                Assert.False(File.Exists(path + ".partial"));
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void A_hostile_server_answer_is_escaped_in_both_reports_and_the_xml_still_loads()
        {
            // ESC sequences, a lone surrogate, U+FFFF and a bidi override: XmlWriter refuses the first three outright.
            var hostile = new CheckResult("svc\u202e", "h1", "", "http", "http://g/", CheckStatus.Failed,
                "HTTP 500: \u001b[2J\u001b[31mpwned\ud800\uffff\nsecond line", TimeSpan.Zero);
            var summary = CheckSummary.From("/t.yaml", new[] { hostile }, TimeSpan.FromSeconds(1));
            var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("n") + ".xml");
            try
            {
                CheckReport.Write(path, summary, new[] { hostile });
                var failure = XDocument.Load(path).Descendants("failure").Single();
                Assert.Equal("HTTP 500: \\x1b[2J\\x1b[31mpwned\\ud800\\uffff\\nsecond line", failure.Attribute("message")!.Value);
                Assert.Equal("HTTP 500: \\x1b[2J\\x1b[31mpwned\\ud800\\uffff\nsecond line", failure.Value);
                Assert.Equal("service svc\\u202e", XDocument.Load(path).Descendants("testsuite").Single().Attribute("name")!.Value);
            }
            finally
            {
                File.Delete(path);
            }
            using var doc = JsonDocument.Parse(CheckReport.ToJson(summary, new[] { hostile }));
            var result = doc.RootElement.GetProperty("results")[0];
            Assert.DoesNotContain('\u001b', result.GetProperty("detail").GetString()!);
            Assert.Equal("svc\\u202e", result.GetProperty("service").GetString());
        }

        [Fact]
        public void Metrics_carry_each_services_backup_age_as_backup_fresh_measured_it()
        {
            var results = new[]
            {
                new CheckResult("metrics", "h1", "observability", "backup-fresh", "newest good backup < 36h", CheckStatus.Passed, "ok", TimeSpan.Zero, 3600),
                new CheckResult("jump", "h2", "access", "backup-fresh", "newest good backup < 36h", CheckStatus.Failed, "old", TimeSpan.Zero, 200000.5),
                new CheckResult("docs", "h3", "automation", "backup-fresh", "newest good backup < 36h", CheckStatus.Skipped, "no backup yet", TimeSpan.Zero),
            };
            var text = PrometheusReport.Render(CheckSummary.From("/t.yaml", results, TimeSpan.FromSeconds(1)), results, "lab", DateTimeOffset.UnixEpoch);
            Assert.Contains("# TYPE deevnet_backup_age_seconds gauge\n", text);
            Assert.Contains("deevnet_backup_age_seconds{site=\"lab\",service=\"metrics\",class=\"observability\"} 3600\n", text);
            Assert.Contains("deevnet_backup_age_seconds{site=\"lab\",service=\"jump\",class=\"access\"} 200000.5\n", text);
            Assert.DoesNotContain("service=\"docs\",class=\"automation\"} ", text.Split('\n').Where(l => l.StartsWith("deevnet_backup_age_seconds")).Aggregate("", (a, l) => a + l + "\n"));
        }

        [Fact]
        public void JsonRoundTripsEveryResultAndTheCounts()
        {
            var summary = CheckSummary.From("/t.yaml", Results, TimeSpan.FromSeconds(1));
            using var doc = JsonDocument.Parse(CheckReport.ToJson(summary, Results));
            var s = doc.RootElement.GetProperty("summary");
            Assert.Equal(4, s.GetProperty("total").GetInt32());
            Assert.Equal(1, s.GetProperty("failed").GetInt32());
            Assert.False(s.GetProperty("success").GetBoolean());
            var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(4, results.Count);
            Assert.Equal("connection refused \"quoted\" <x>", results[1].GetProperty("detail").GetString());
            Assert.Equal("Skipped", results[2].GetProperty("status").GetString());
        }

        [Fact]
        public void AnUnknownExtensionIsRefused()
        {
            var summary = CheckSummary.From("/t.yaml", Results, TimeSpan.Zero);
            Assert.Throws<ArgumentException>(() => CheckReport.Write("/tmp/report.txt", summary, Results));
        }
    }
}
