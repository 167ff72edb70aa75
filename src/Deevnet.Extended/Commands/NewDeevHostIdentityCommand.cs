using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Allocates VMIDs (and so MACs) for hosts without one and records them in the generated companion file
    /// <c>&lt;name&gt;.identity.yaml</c>. Existing allocations are kept; the tier file is never written.
    /// Names from the pipeline are collected and each tier's file is written once, at the end.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "DeevHostIdentity", SupportsShouldProcess = true)]
    [OutputType(typeof(HostIdentity))]
    public sealed class NewDeevHostIdentityCommand : TierCmdlet
    {
        private readonly Dictionary<string, List<string>?> _requests = new Dictionary<string, List<string>?>();

        /// <summary>Hosts to allocate for; wildcards allowed. Default: every host without a VMID.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name", Wildcards = true)]
        public string[]? Name { get; set; }

        /// <summary>Also drop entries for hosts that left the tier or now have a fixed VMID.</summary>
        [Parameter]
        public SwitchParameter Prune { get; set; }

        /// <summary>Change without a record in the tier's change journal (said as a warning); without it, an unwritable journal stops the change.</summary>
        [Parameter]
        public SwitchParameter SkipJournal { get; set; }

        protected override bool JournalSkipped => SkipJournal.IsPresent;

        /// <summary>Write the plan (what -WhatIf shows) to this file instead of applying it; <c>Invoke-DeevPlan</c> applies it later.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? PlanPath { get; set; }

        protected override string? PlanPathGiven => PlanPath;

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            if (!_requests.TryGetValue(tier.SourcePath, out var names))
                _requests[tier.SourcePath] = names = Name == null || Name.Length == 0 ? null : new List<string>();
            else if (names != null && (Name == null || Name.Length == 0))
                _requests[tier.SourcePath] = names = null; // one record asked for every host
            if (names != null)
                names.AddRange(SelectByName(tier.Hosts, h => h.Name, Name, "HostNotFound", "host", tier.SourcePath).Select(h => h.Name));
        }

        protected override void EndProcessing()
        {
            foreach (var request in _requests)
            {
                var tier = TierLoader.Load(request.Key);
                var resolver = new IdentityResolver(tier);
                AllocationPlan plan;
                try
                {
                    plan = resolver.PlanAllocation(request.Value, Prune);
                }
                catch (DeevException ex)
                {
                    WriteDeevError(ex);
                    continue;
                }
                foreach (var warning in plan.Warnings) WriteWarning(warning);
                if (SavingPlan)
                {
                    PlanLine(plan.HasChanges ? plan.Describe() : $"{plan.CompanionPath}: nothing to allocate.", show: true);
                    SavePlanStep(tier, PlanSteps.FromIdentity(plan));
                    continue;
                }
                if (plan.HasChanges)
                {
                    var description = $"Write the identity file '{plan.CompanionPath}':\n{plan.Describe()}\nNew content:\n{plan.Text}";
                    if (!ShouldProcess(description, $"Write the identity file '{plan.CompanionPath}' ({plan.Added.Count} new allocation(s))?", "New-DeevHostIdentity"))
                        continue;
                    var journal = OpenJournal(tier);
                    var changes = PlanSteps.IdentityChanges(plan);
                    try
                    {
                        IdentityResolver.Apply(plan);
                    }
                    catch (DeevException ex)
                    {
                        Record(journal, tier, changes, plan.CompanionPath, "failed: " + ex.ErrorId);
                        WriteDeevError(ex);
                        continue;
                    }
                    Record(journal, tier, changes, plan.CompanionPath, "applied");
                    WriteVerbose(plan.Describe());
                }
                else WriteVerbose($"Every requested host of '{tier.SourcePath}' already has a VMID; nothing to write.");

                var after = new IdentityResolver(tier);
                var wanted = request.Value == null ? null : new HashSet<string>(request.Value);
                foreach (var host in tier.Hosts.Where(h => wanted == null || wanted.Contains(h.Name)))
                    WriteObject(after.Resolve(host));
            }
        }
    }
}
