using System;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended
{
    /// <summary>
    /// Base of the DNS record cmdlets: <c>-TimeoutSec</c>, one back end per batch over the invocation's connections, and the one
    /// plan → ShouldProcess → apply sequence that every writing DNS cmdlet shares, so -WhatIf prints the real plan.
    /// </summary>
    public abstract class DnsCmdlet : TierCmdlet
    {
        /// <summary>Limit of one server operation, in seconds (default 10).</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 10;

        /// <summary>Runs <paramref name="work"/> against the tier's DNS back end (on the pipeline thread, so it may call
        /// ShouldProcess between Core steps); Core errors become non-terminating ErrorRecords with their ids.</summary>
        protected T? WithBackend<T>(SiteTier tier, Func<IDnsBackend, T?> work) where T : class
        {
            try
            {
                using var backend = DnsBackendFactory.Create(tier, Pool, Log, TimeSpan.FromSeconds(TimeoutSec));
                return work(backend);
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return null;
            }
        }

        /// <summary>Plans <paramref name="batch"/>, asks ShouldProcess once for the server with the whole plan, applies it (or, with <c>-PlanPath</c>, saves it).</summary>
        protected DnsSyncResult? PlanAndApply(SiteTier tier, DnsBatch batch, string verb) =>
            WithBackend(tier, backend => PlanAndApply(tier, backend, batch, verb));

        protected DnsSyncResult? PlanAndApply(SiteTier tier, IDnsBackend backend, DnsBatch batch, string verb)
        {
            var watch = Stopwatch.StartNew();
            var plan = RunAsync(token => backend.PlanAsync(batch, token));
            if (SavingPlan)
            {
                // -PlanPath: the plan -WhatIf would show, written for Invoke-DeevPlan instead of applied.
                PlanLine(Describe(backend.Server, plan.Changes), show: true);
                SavePlanStep(tier, PlanSteps.FromDns(plan));
                return null;
            }
            var applied = false;
            var restarted = false;
            if (plan.HasChanges)
            {
                // Declined (or -WhatIf, which has printed the plan): nothing was done, so nothing is reported.
                if (!ShouldProcess(Describe(backend.Server, plan.Changes), Describe(backend.Server, plan.Changes), $"{verb} DNS records on {backend.Server}"))
                    return null;
                var journal = OpenJournal(tier);
                try
                {
                    restarted = RunAsync(token => backend.ApplyAsync(plan, token)).Restarted;
                }
                catch (DeevException ex)
                {
                    Record(journal, tier, plan.Changes, backend.Server, "failed: " + ex.ErrorId);
                    throw;
                }
                Record(journal, tier, plan.Changes, backend.Server, "applied");
                applied = true;
            }
            return new DnsSyncResult(backend.Server, plan.Changes, applied, restarted, watch.Elapsed, plan.Skipped.Count);
        }
    }
}
