using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// Writes check results for schedulers, CI and monitoring: JUnit XML (one test suite per service or host, one test
    /// case per check; Failed = failure, Skipped = skipped, Warning = passed with the warning in system-out), JSON, or
    /// the Prometheus text exposition format for node_exporter's textfile collector (<see cref="PrometheusReport"/>).
    /// </summary>
    public static class CheckReport
    {
        /// <summary>The extensions <see cref="Write"/> knows, each naming its format.</summary>
        public static readonly IReadOnlyList<string> Extensions = new[] { ".xml", ".json", ".prom" };

        /// <summary>
        /// Writes <paramref name="path"/> as JUnit XML (<c>.xml</c>), JSON (<c>.json</c>) or Prometheus metrics
        /// (<c>.prom</c>; <paramref name="site"/> labels the series, <paramref name="finishedAt"/> is the run's time).
        /// </summary>
        public static void Write(string path, CheckSummary summary, IReadOnlyList<CheckResult> results, string site = "", DateTimeOffset? finishedAt = null)
        {
            var ext = Path.GetExtension(path).ToLowerInvariant();
            var text = ext == ".xml" ? ToJUnit(summary, results) : ext == ".json" ? ToJson(summary, results)
                : ext == ".prom" ? PrometheusReport.Render(summary, results, site, finishedAt ?? DateTimeOffset.UtcNow)
                : throw new ArgumentException($"'{path}': the report format follows the extension, .xml (JUnit), .json or .prom (Prometheus).", nameof(path));
            var full = Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            // Written whole under a unique hidden name in the same folder, then renamed over the old file in one step
            // (rename(2)), so a scheduler or node_exporter never reads half a report, two runs never share a temp file,
            // and the temp name never ends in .prom (the textfile collector would read it).
            var temp = Path.Combine(dir ?? ".", "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".partial");
            try
            {
                File.WriteAllText(temp, text, new UTF8Encoding(false));
                File.Move(temp, full, overwrite: true);
            }
            catch
            {
                try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                throw;
            }
        }

        public static string ToJUnit(CheckSummary summary, IReadOnlyList<CheckResult> results)
        {
            var sb = new StringBuilder();
            var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false };
            using (var w = XmlWriter.Create(new StringWriterUtf8(sb), settings))
            {
                w.WriteStartElement("testsuites");
                w.WriteAttributeString("name", Shown("Test-DeevExtendedTier " + summary.TierPath));
                Counts(w, results, summary.Duration);
                foreach (var group in results.GroupBy(r => r.Group))
                {
                    var list = group.ToList();
                    w.WriteStartElement("testsuite");
                    w.WriteAttributeString("name", Shown(group.Key));
                    Counts(w, list, TimeSpan.FromTicks(list.Sum(r => r.Duration.Ticks)));
                    foreach (var r in list)
                    {
                        w.WriteStartElement("testcase");
                        w.WriteAttributeString("classname", Shown(r.Service.Length > 0 ? $"{r.Service}.{r.Host}" : r.Host));
                        w.WriteAttributeString("name", Shown($"{r.Check} {r.Target}"));
                        w.WriteAttributeString("time", Seconds(r.Duration));
                        switch (r.Status)
                        {
                            case CheckStatus.Failed:
                                w.WriteStartElement("failure");
                                w.WriteAttributeString("message", Shown(r.Detail));
                                w.WriteAttributeString("type", Shown(r.Check));
                                w.WriteString(ShownLines(r.Detail));
                                w.WriteEndElement();
                                break;
                            case CheckStatus.Skipped:
                                w.WriteStartElement("skipped");
                                w.WriteAttributeString("message", Shown(r.Detail));
                                w.WriteEndElement();
                                break;
                            default:
                                w.WriteElementString("system-out", ShownLines((r.Status == CheckStatus.Warning ? "WARNING: " : "") + r.Detail));
                                break;
                        }
                        w.WriteEndElement();
                    }
                    w.WriteEndElement();
                }
                w.WriteEndElement();
            }
            return sb.ToString();
        }

        private static void Counts(XmlWriter w, IReadOnlyCollection<CheckResult> results, TimeSpan time)
        {
            w.WriteAttributeString("tests", results.Count.ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("failures", results.Count(r => r.Status == CheckStatus.Failed).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("errors", "0");
            w.WriteAttributeString("skipped", results.Count(r => r.Status == CheckStatus.Skipped).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("time", Seconds(time));
        }

        public static string ToJson(CheckSummary summary, IReadOnlyList<CheckResult> results)
        {
            var sb = new StringBuilder();
            sb.Append("{\n  \"tierPath\": ").Append(Json(summary.TierPath));
            sb.Append(",\n  \"summary\": { \"total\": ").Append(summary.Total)
              .Append(", \"passed\": ").Append(summary.Passed)
              .Append(", \"failed\": ").Append(summary.Failed)
              .Append(", \"warning\": ").Append(summary.Warning)
              .Append(", \"skipped\": ").Append(summary.Skipped)
              .Append(", \"success\": ").Append(summary.Success ? "true" : "false")
              .Append(", \"durationSeconds\": ").Append(Seconds(summary.Duration)).Append(" },\n  \"results\": [");
            for (var i = 0; i < results.Count; i++)
            {
                var r = results[i];
                sb.Append(i == 0 ? "\n    " : ",\n    ");
                sb.Append("{ \"service\": ").Append(Json(r.Service))
                  .Append(", \"host\": ").Append(Json(r.Host))
                  .Append(", \"class\": ").Append(Json(r.Class))
                  .Append(", \"check\": ").Append(Json(r.Check))
                  .Append(", \"target\": ").Append(Json(r.Target))
                  .Append(", \"status\": ").Append(Json(r.Status.ToString()))
                  .Append(", \"detail\": ").Append(Text.JsonText.Quote(ShownLines(r.Detail)))
                  .Append(", \"durationSeconds\": ").Append(Seconds(r.Duration)).Append(" }");
            }
            sb.Append(results.Count > 0 ? "\n  ]\n}\n" : "]\n}\n");
            return sb.ToString();
        }

        private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

        /// <summary>A JSON string literal.</summary>
        public static string Json(string value) => Text.JsonText.Quote(Shown(value));

        // Names and details come from the tier and from servers' answers: shown escaped, so a report can neither hold a
        // character XML forbids (XmlWriter would throw on ESC and the report would be lost) nor repaint a terminal.
        private static string Shown(string value) => Text.SafeText.Printable(value);

        private static string ShownLines(string value) => Text.SafeText.PrintableLines(value);

        /// <summary>A StringWriter that declares UTF-8, so the XML declaration says what the file is.</summary>
        private sealed class StringWriterUtf8 : StringWriter
        {
            public StringWriterUtf8(StringBuilder sb) : base(sb, CultureInfo.InvariantCulture) { }
            public override Encoding Encoding => new UTF8Encoding(false);
        }
    }
}
