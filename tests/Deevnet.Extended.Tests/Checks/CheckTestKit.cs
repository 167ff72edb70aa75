using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Checks
{
    internal static class CheckTestKit
    {
        /// <summary>Plans and runs every check of a tier; returns the results.</summary>
        public static IReadOnlyList<CheckResult> Run(SiteTier tier, CheckBackends? backends = null, CheckSelection? selection = null,
            TimeSpan? timeout = null, Func<DateTime>? utcNow = null)
        {
            var planner = new CheckPlanner(tier, backends ?? new CheckBackends(), CheckPlanner.ResolverFor(tier, TimeSpan.FromSeconds(2)), timeout ?? TimeSpan.FromSeconds(5), utcNow);
            var items = planner.Plan(selection ?? CheckSelection.All);
            return new CheckRunner().RunAsync(items, null, CancellationToken.None).GetAwaiter().GetResult();
        }

        /// <summary>The one result of a check kind (fails the test naming what there was otherwise).</summary>
        public static CheckResult One(this IReadOnlyList<CheckResult> results, string check, string? service = null)
        {
            var found = results.Where(r => r.Check == check && (service == null || r.Service == service)).ToList();
            Assert.True(found.Count == 1, $"expected one '{check}' result, got {found.Count}: {string.Join(" | ", results)}");
            return found[0];
        }

        public static void AssertStatus(CheckResult result, CheckStatus status, params string[] detailContains)
        {
            Assert.True(result.Status == status, $"expected {status}, got {result}");
            foreach (var text in detailContains) Assert.Contains(text, result.Detail);
        }
    }
}
