using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// A check run in the Prometheus text exposition format (version 0.0.4), for node_exporter's textfile collector.
    /// Every series of one check carries the labels <c>site, service, class, host, kind, check, target</c>
    /// (<c>service</c> and <c>class</c> are empty for host checks; <c>kind</c> is <c>declared</c> or <c>derived</c>).
    /// Four statuses map onto gauges whose identity never changes with the outcome, so an alert's <c>for:</c> clock
    /// keeps running while a check flips between failed and skipped:
    /// <c>deevnet_check_ok</c> is 1 when the rule holds (passed, or passed with a warning) and 0 otherwise;
    /// <c>deevnet_check_skipped</c> is 1 when the check could not be judged (so an alert can tell "broken" from
    /// "unknown"); <c>deevnet_check_warning</c> is 1 for a pass that will not hold for long.
    /// </summary>
    public static class PrometheusReport
    {
        private static readonly string[] Statuses = { "passed", "failed", "warning", "skipped" };

        public static string Render(CheckSummary summary, IReadOnlyList<CheckResult> results, string site, DateTimeOffset finishedAt)
        {
            var series = LabelSets(results, site);
            var sb = new StringBuilder();
            Family(sb, "deevnet_check_ok", "1 when the check holds (passed, or passed with a warning); 0 when it failed or could not be judged.");
            for (var i = 0; i < results.Count; i++)
                Sample(sb, "deevnet_check_ok", series[i], results[i].Status == CheckStatus.Passed || results[i].Status == CheckStatus.Warning ? 1 : 0);
            Family(sb, "deevnet_check_skipped", "1 when the check could not be judged (its back end is not configured or not available).");
            for (var i = 0; i < results.Count; i++) Sample(sb, "deevnet_check_skipped", series[i], results[i].Status == CheckStatus.Skipped ? 1 : 0);
            Family(sb, "deevnet_check_warning", "1 when the check passed with a warning (e.g. a certificate close to expiry).");
            for (var i = 0; i < results.Count; i++) Sample(sb, "deevnet_check_warning", series[i], results[i].Status == CheckStatus.Warning ? 1 : 0);
            Family(sb, "deevnet_check_duration_seconds", "How long the check took.");
            for (var i = 0; i < results.Count; i++) Sample(sb, "deevnet_check_duration_seconds", series[i], results[i].Duration.TotalSeconds);

            // The age of each service's newest good backup, as the backup-fresh check measured it (none: no sample, so
            // an alert on a missing series can tell "never backed up" from "old").
            var ages = results.Where(r => r.Check == "backup-fresh" && r.Measured.HasValue).ToList();
            if (ages.Count > 0)
            {
                Family(sb, "deevnet_backup_age_seconds", "Age of the service's newest good (authenticated, verified) backup.");
                foreach (var r in ages) Sample(sb, "deevnet_backup_age_seconds", Labels(("site", site), ("service", r.Service), ("class", r.Class)), r.Measured!.Value);
            }

            var siteLabel = Labels(("site", site));
            Family(sb, "deevnet_tier_checks", "Checks of the last run by service class (empty class: host checks) and status.");
            var classes = results.Select(r => r.Class).Distinct(StringComparer.Ordinal).OrderBy(c => c, StringComparer.Ordinal);
            foreach (var @class in classes)
                foreach (var status in Statuses)
                    Sample(sb, "deevnet_tier_checks", Labels(("site", site), ("class", @class), ("status", status)),
                        results.Count(r => r.Class == @class && string.Equals(r.Status.ToString(), status, StringComparison.OrdinalIgnoreCase)));
            Family(sb, "deevnet_tier_success", "1 when no check of the last run failed.");
            Sample(sb, "deevnet_tier_success", siteLabel, summary.Success ? 1 : 0);
            Family(sb, "deevnet_tier_run_duration_seconds", "Wall-clock time of the last run.");
            Sample(sb, "deevnet_tier_run_duration_seconds", siteLabel, summary.Duration.TotalSeconds);
            Family(sb, "deevnet_tier_last_run_timestamp_seconds", "When the last run finished, in seconds since the Unix epoch.");
            Sample(sb, "deevnet_tier_last_run_timestamp_seconds", siteLabel, finishedAt.ToUnixTimeMilliseconds() / 1000.0);
            return sb.ToString();
        }

        /// <summary>
        /// One label set per result. Two declared checks may be identical (same kind and target on one service); a
        /// repeated label set would make node_exporter reject the whole file, so a repeat gets <c>#2</c>, <c>#3</c> … on its target.
        /// </summary>
        private static string[] LabelSets(IReadOnlyList<CheckResult> results, string site)
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            var sets = new string[results.Count];
            for (var i = 0; i < results.Count; i++)
            {
                var r = results[i];
                var target = r.Target;
                var key = string.Join("\u0000", r.Service, r.Host, r.Check, target);
                seen[key] = seen.TryGetValue(key, out var n) ? n + 1 : 1;
                if (seen[key] > 1) target += " #" + seen[key].ToString(CultureInfo.InvariantCulture);
                sets[i] = Labels(("site", site), ("service", r.Service), ("class", r.Class), ("host", r.Host),
                    ("kind", KindOf(r.Check)), ("check", r.Check), ("target", target));
            }
            return sets;
        }

        /// <summary><c>declared</c> for checks the tier lists, <c>derived</c> for those the module derives from it.</summary>
        public static string KindOf(string check) =>
            CheckNames.All.TryGetValue(check, out var about) && about.StartsWith("derived", StringComparison.Ordinal) ? "derived" : "declared";

        private static void Family(StringBuilder sb, string name, string help) =>
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" gauge\n");

        private static void Sample(StringBuilder sb, string name, string labels, double value) =>
            sb.Append(name).Append(labels).Append(' ').Append(Number(value)).Append('\n');

        private static string Number(double value) =>
            double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf"
            : value.ToString("0.######", CultureInfo.InvariantCulture);

        private static string Labels(params (string Name, string Value)[] labels) =>
            "{" + string.Join(",", labels.Select(l => l.Name + "=\"" + EscapeLabelValue(Text.SafeText.Printable(l.Value)) + "\"")) + "}";

        /// <summary>
        /// A label value as the exposition format wants it: backslash, double quote and line feed escaped. Values are
        /// first made printable (<see cref="Text.SafeText"/>), as in the other reports, so no control character reaches
        /// a dashboard; the escaping here is still complete on its own.
        /// </summary>
        public static string EscapeLabelValue(string value) =>
            value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
    }
}
