using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended
{
    /// <summary>
    /// Base of every cmdlet that reads a tier file. Owns <c>-TierPath</c> (alias <c>Tier</c>, bound by property name so
    /// objects from one tier cmdlet carry their tier into the next, default <c>$env:DEEV_TIER</c>) and loads the tier
    /// through the loader's cache. An invalid tier stops the cmdlet: nothing may be touched on a bad tier.
    /// </summary>
    public abstract class TierCmdlet : DeevCmdlet
    {
        public const string TierEnvironmentVariable = "DEEV_TIER";

        /// <summary>The tier file. Default: <c>$env:DEEV_TIER</c>.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("Tier")]
        [ValidateNotNullOrEmpty]
        public virtual string? TierPath { get; set; }

        /// <summary>The full path of the tier file this record works on; terminating <c>TierPathMissing</c> when none is given.</summary>
        protected string ResolveTierPath()
        {
            var given = !string.IsNullOrEmpty(TierPath) ? TierPath : Environment.GetEnvironmentVariable(TierEnvironmentVariable);
            if (string.IsNullOrEmpty(given))
                ThrowTerminatingError(NewError("TierPathMissing", ErrorCategory.InvalidArgument,
                    "No tier file given: pass -TierPath <file> or set $env:DEEV_TIER.", null,
                    "Run the command with -TierPath ./site.tier.yaml, or set $env:DEEV_TIER once per session."));
            return GetUnresolvedProviderPathFromPSPath(given);
        }

        /// <summary>Loads (or takes from the cache) the tier; any load failure is terminating, with its stable id.</summary>
        protected SiteTier LoadTier()
        {
            var path = ResolveTierPath();
            try
            {
                return TierLoader.Load(path);
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
                throw; // not reached: ThrowTerminatingError always throws
            }
        }

        /// <summary>
        /// Selects items by name patterns (wildcards allowed); writes <paramref name="notFoundId"/> for each pattern
        /// without wildcards that matched nothing. A null or empty pattern list selects everything.
        /// </summary>
        protected IEnumerable<T> SelectByName<T>(IEnumerable<T> items, Func<T, string> name, string[]? patterns, string notFoundId, string what, string tierPath)
        {
            if (patterns == null || patterns.Length == 0) return items;
            var matchers = patterns.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
            var list = items.ToList();
            foreach (var p in patterns)
                if (!WildcardPattern.ContainsWildcardCharacters(p) && !list.Any(i => string.Equals(name(i), p, StringComparison.OrdinalIgnoreCase)))
                    WriteError(NewError(notFoundId, ErrorCategory.ObjectNotFound, $"The tier '{tierPath}' has no {what} '{p}'.", p));
            return list.Where(i => matchers.Any(m => m.IsMatch(name(i))));
        }

        /// <summary>The writing cmdlets' <c>-SkipJournal</c>: each declares the parameter and returns it here.</summary>
        protected virtual bool JournalSkipped => false;

        /// <summary>
        /// The tier's change journal, proven writable, before a change is made: a journal that cannot be written stops
        /// the change (terminating <c>JournalUnwritable</c>) unless <c>-SkipJournal</c> was given, which is said as a
        /// warning. Null when the tier keeps no journal or it is skipped.
        /// </summary>
        protected ChangeJournal? OpenJournal(SiteTier tier)
        {
            if (tier.Journal == null) return null;
            if (JournalSkipped)
            {
                WriteWarning($"-SkipJournal: this change is not recorded in the change journal {tier.Journal}.");
                return null;
            }
            var journal = new ChangeJournal(tier.Journal, via => Pool.Get(via, tier.Access));
            try
            {
                RunAsync(token => journal.EnsureWritableAsync(token));
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
            }
            return journal;
        }

        /// <summary>Appends what was done (or tried) to the journal; a record that cannot be written is an error that says the change itself stands.</summary>
        protected void Record(ChangeJournal? journal, SiteTier tier, ChangePlan plan, string server, string result, string? planSha256 = null)
        {
            if (journal == null || !plan.HasChanges) return;
            var record = ChangeJournal.RecordOf(plan, server, MyInvocation.Line, tier.SourcePath, result);
            record.PlanSha256 = planSha256;
            try
            {
                RunAsync(token => journal.AppendAsync(record, token));
            }
            catch (DeevException ex)
            {
                WriteError(NewError(ex.ErrorId, ErrorCategory.WriteError,
                    $"The change on {server} was {result}, but recording it failed: {ex.Message}", journal.Location.ToString()));
            }
        }

        /// <summary>The writing cmdlets' <c>-PlanPath</c>: each declares the parameter and returns it here.</summary>
        protected virtual string? PlanPathGiven => null;

        /// <summary>True when the plan is to be saved (<c>-PlanPath</c>) instead of applied.</summary>
        protected bool SavingPlan => !string.IsNullOrEmpty(PlanPathGiven);

        private SavedPlan? _savedPlan;
        private bool _planWhatIfSaid;

        /// <summary>-WhatIf given, or $WhatIfPreference set and not overridden by -WhatIf:$false.</summary>
        private bool WhatIfInEffect => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var given)
            ? ((SwitchParameter)given).IsPresent
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

        /// <summary>
        /// Adds one server's plan to the invocation's saved plan and (re)writes the file, atomically. One plan is
        /// computed from one tier file: a second tier in the same invocation is <c>PlanInvalid</c>.
        /// </summary>
        protected void SavePlanStep(SiteTier tier, PlanStep step)
        {
            var path = GetUnresolvedProviderPathFromPSPath(PlanPathGiven!);
            if (WhatIfInEffect)
            {
                // -WhatIf with -PlanPath: say where the plan would go, write nothing. Asked only then: saving changes no
                // server, so it never prompts, whatever the cmdlet's ConfirmImpact.
                if (!_planWhatIfSaid) ShouldProcess($"Writing plan to {path}", $"Write the plan to {path}?", "Save plan");
                _planWhatIfSaid = true;
                return;
            }
            if (_savedPlan == null)
            {
                var identity = IdentityFile.PathFor(tier.SourcePath);
                _savedPlan = new SavedPlan
                {
                    Command = MyInvocation.MyCommand.Name,
                    Tier = new PlanSource { Path = tier.SourcePath, Sha256 = ChangeJournal.HashOf(tier.SourcePath) },
                    Identity = new PlanSource { Path = identity, Sha256 = ChangeJournal.HashOf(identity) },
                };
            }
            else if (_savedPlan.Tier.Path != tier.SourcePath)
            {
                ThrowDeevError(SavedPlan.Invalid(path, $"one plan is computed from one tier file, but this invocation also reads '{tier.SourcePath}'"));
            }
            _savedPlan.Add(step);
            try
            {
                PlanFile.Write(path, _savedPlan.ToJson());
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
            }
            WriteVerbose($"{step.Server}: {step.Changes.Count} change(s) saved to the plan {path}; apply them with Invoke-DeevPlan -Path {path}.");
        }

        /// <summary>A server's plan in a few lines: the summary, then each line that changes something.</summary>
        protected static string Describe(string server, ChangePlan plan) =>
            $"{server}: {plan.Summary}" + string.Concat(plan.Changes.Where(c => c.Action != ChangeAction.Unchanged).Select(c => Environment.NewLine + "  " + c));

        /// <summary>A plan line: on the information stream (tag DeevPlan) and as verbose; shown on the host under -WhatIf.</summary>
        protected void PlanLine(string text, bool show)
        {
            WriteVerbose(text);
            var message = new HostInformationMessage { Message = text, NoNewLine = false };
            WriteInformation(new InformationRecord(show ? (object)message : text, MyInvocation.MyCommand.Name), show);
        }

        private void WriteInformation(InformationRecord record, bool toHost)
        {
            if (toHost) record.Tags.Add("PSHOST");
            record.Tags.Add("DeevPlan");
            WriteInformation(record);
        }

        /// <summary>True when <paramref name="value"/> matches one of the patterns (or there are none).</summary>
        protected static bool Matches(string? value, string[]? patterns) =>
            patterns == null || patterns.Length == 0 ||
            (value != null && patterns.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(value)));
    }
}
