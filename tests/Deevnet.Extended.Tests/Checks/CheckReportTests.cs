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
