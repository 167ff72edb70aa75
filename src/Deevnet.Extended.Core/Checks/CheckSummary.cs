using System;
using System.Collections.Generic;
using System.Linq;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>Counts of a check run, for runbooks and dashboards (<c>Test-DeevExtendedTier -Summary</c>).</summary>
    public sealed class CheckSummary
    {
        public CheckSummary(string tierPath, int total, int passed, int failed, int warning, int skipped, TimeSpan duration, IReadOnlyList<CheckResult> failures)
        {
            TierPath = tierPath;
            Total = total;
            Passed = passed;
            Failed = failed;
            Warning = warning;
            Skipped = skipped;
            Duration = duration;
            Failures = failures;
        }

        public string TierPath { get; }
        public int Total { get; }
        public int Passed { get; }
        public int Failed { get; }
        public int Warning { get; }
        public int Skipped { get; }

        /// <summary>Wall-clock time of the whole run.</summary>
        public TimeSpan Duration { get; }

        /// <summary>True when nothing failed (warnings and skips do not fail a run).</summary>
        public bool Success => Failed == 0;

        /// <summary>The failed checks, so a summary alone says what to look at.</summary>
        public IReadOnlyList<CheckResult> Failures { get; }

        public static CheckSummary From(string tierPath, IReadOnlyCollection<CheckResult> results, TimeSpan duration) =>
            new CheckSummary(tierPath, results.Count,
                results.Count(r => r.Status == CheckStatus.Passed),
                results.Count(r => r.Status == CheckStatus.Failed),
                results.Count(r => r.Status == CheckStatus.Warning),
                results.Count(r => r.Status == CheckStatus.Skipped),
                duration,
                results.Where(r => r.Status == CheckStatus.Failed).ToList());
    }
}
