using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Applies a plan saved with <c>-PlanPath</c>, exactly as saved. First, for every step, it re-reads what the plan
    /// was computed from (the tier file, the identity file, each server's owned entries) and computes what the saved
    /// entries would change now; if anything moved, or the lines would differ, the whole plan is refused with
    /// <c>PlanStale</c> naming what moved, before any server is touched. Then each step is applied as one transaction
    /// and journalled with the plan's SHA-256.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "DeevPlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DhcpReservationChange), typeof(DnsSyncResult), typeof(HostIdentity))]
    public sealed class InvokeDeevPlanCommand : TierCmdlet
    {
        /// <summary>The plan file (from <c>-PlanPath</c>).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PlanPath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>Limit of one DNS server operation, in seconds (default 10).</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 10;

        /// <summary>Change without a record in the tier's change journal (said as a warning); without it, an unwritable journal stops the change.</summary>
        [Parameter]
        public SwitchParameter SkipJournal { get; set; }

        protected override bool JournalSkipped => SkipJournal.IsPresent;

        protected override void ProcessRecord()
        {
            var path = GetUnresolvedProviderPathFromPSPath(Path);
            var disposables = new List<IDisposable>();
            try
            {
                var (plan, sha256) = PlanFile.Read(path);
                if (MyInvocation.BoundParameters.ContainsKey(nameof(TierPath)) && ResolveTierPath() != plan.Tier.Path)
                    throw SavedPlan.Invalid(path, $"it was computed from the tier '{plan.Tier.Path}', not from -TierPath '{ResolveTierPath()}'");
                var moved = new List<string>();
                if (ChangeJournal.HashOf(plan.Tier.Path) != plan.Tier.Sha256) moved.Add($"the tier file {plan.Tier.Path} changed");
                if (ChangeJournal.HashOf(plan.Identity.Path) != plan.Identity.Sha256) moved.Add($"the identity file {plan.Identity.Path} changed");
                if (moved.Count > 0) throw Stale(path, moved);

                var tier = TierLoader.Load(plan.Tier.Path);
                var prepared = plan.Steps.Select(step => Prepare(tier, step, path, moved, disposables)).ToList();
                if (moved.Count > 0) throw Stale(path, moved);

                foreach (var step in prepared.Where(p => p.Changes.HasChanges))
                {
                    if (!ShouldProcess(Describe(step.Server, step.Changes), Describe(step.Server, step.Changes), $"Apply the plan {path} on {step.Server}"))
                        continue;
                    var journal = OpenJournal(tier);
                    object[] results;
                    try
                    {
                        results = step.Apply();
                    }
                    catch (DeevException ex)
                    {
                        Record(journal, tier, step.Changes, step.Server, "failed: " + ex.ErrorId, sha256);
                        WriteDeevError(ex);
                        continue;
                    }
                    Record(journal, tier, step.Changes, step.Server, "applied", sha256);
                    WriteObject(results, true);
                }
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
            finally
            {
                foreach (var d in disposables) d.Dispose();
                ClosePool();
            }
        }

        /// <summary>
        /// Reads the step's server, compares it with the plan, and computes the change the saved entries make now. What
        /// moved is added to <paramref name="moved"/>; the step is returned ready to apply either way.
        /// </summary>
        private PreparedStep Prepare(SiteTier tier, PlanStep step, string path, List<string> moved, List<IDisposable> disposables)
        {
            try
            {
                switch (step.Service)
                {
                    case PlanStep.Dhcp:
                    {
                        var backend = DhcpBackendFactory.Create(tier, Pool, Log);
                        var batch = PlanSteps.DhcpBatchOf(step);
                        var now = RunAsync(token => backend.PlanAsync(batch, token));
                        Compare(step, backend.Server, PlanSteps.DhcpFingerprint(now.Existing), now.Plan, moved);
                        var names = (step.SetReservations ?? new List<SavedReservation>()).ToDictionary(r => r.ClientId, r => r.Name);
                        return new PreparedStep(backend.Server, now.Plan, () =>
                        {
                            var applied = RunAsync(token => backend.ApplyAsync(batch, token));
                            return applied.Plan.Changes.Where(c => c.Action != ChangeAction.Unchanged)
                                .Select(c => (object)new DhcpReservationChange(c, true, names.TryGetValue(c.Key, out var n) ? n : null)).ToArray();
                        });
                    }
                    case PlanStep.Dns:
                    {
                        var backend = DnsBackendFactory.Create(tier, Pool, Log, TimeSpan.FromSeconds(TimeoutSec));
                        disposables.Add(backend);
                        var now = RunAsync(token => backend.PlanAsync(PlanSteps.DnsBatchOf(step), token));
                        Compare(step, backend.Server, PlanSteps.DnsFingerprint(now.Current.Owned), now.Changes, moved);
                        return new PreparedStep(backend.Server, now.Changes, () =>
                        {
                            var watch = Stopwatch.StartNew();
                            var applied = RunAsync(token => backend.ApplyAsync(now, token));
                            return new object[] { new DnsSyncResult(backend.Server, now.Changes, true, applied.Restarted, watch.Elapsed, now.Skipped.Count) };
                        });
                    }
                    case PlanStep.Identity:
                    {
                        var resolver = new IdentityResolver(tier);
                        var allocation = resolver.PlanAllocation(step.Allocate ?? new List<string>(), prune: step.Remove?.Count > 0);
                        var changes = PlanSteps.IdentityChanges(allocation);
                        Compare(step, allocation.CompanionPath, step.Read, changes, moved);
                        return new PreparedStep(allocation.CompanionPath, changes, () =>
                        {
                            IdentityResolver.Apply(allocation);
                            var after = new IdentityResolver(tier);
                            return allocation.Added.Select(a => (object)after.Resolve(tier.FindHost(a.HostName)!)).ToArray();
                        });
                    }
                    default:
                        throw SavedPlan.Invalid(path, $"it has a step for the unknown service '{step.Service}'");
                }
            }
            catch (DeevException ex) when (ex is ReservationConflictException || ex.ErrorId == DnsErrors.RecordConflict)
            {
                // An entry someone else made since the plan was saved now clashes with it: that is what moved.
                moved.Add($"{step.Server}: {ex.Message}");
                return new PreparedStep(step.Server, new ChangePlan(step.Server, Array.Empty<PlannedChange>()), Array.Empty<object>);
            }
            catch (Exception ex) when (ex is FormatException || ex is ArgumentException)
            {
                throw SavedPlan.Invalid(path, $"the {step.Service} step for {step.Server} holds an entry that cannot be read ({ex.Message})");
            }
        }

        private static void Compare(PlanStep step, string server, PlanFingerprint now, ChangePlan changes, List<string> moved)
        {
            if (server != step.Server)
            {
                moved.Add($"the tier's {step.Service} server is now {server}, not {step.Server}");
                return;
            }
            moved.AddRange(step.Read.Differences(now).Select(d => $"{server}: {d}"));
            moved.AddRange(PlanSteps.Differences(step.Changes, changes).Select(d => $"{server}: {d}"));
        }

        private static DeevException Stale(string path, IReadOnlyList<string> moved) =>
            new DeevException(PlanErrors.Stale, DeevErrorKind.InvalidOperation,
                $"The plan '{path}' is stale; nothing was changed. Since it was saved:{Environment.NewLine}  " +
                string.Join(Environment.NewLine + "  ", moved.Distinct()), path)
            {
                RecommendedAction = "Save the plan again with -PlanPath, review it, and apply the new one.",
            };

        /// <summary>One step checked and ready: the changes it makes now (equal to the saved ones) and how to make them.</summary>
        private sealed class PreparedStep
        {
            private readonly Func<object[]> _apply;

            public PreparedStep(string server, ChangePlan changes, Func<object[]> apply)
            {
                Server = server;
                Changes = changes;
                _apply = apply;
            }

            public string Server { get; }
            public ChangePlan Changes { get; }
            public object[] Apply() => _apply();
        }
    }
}
