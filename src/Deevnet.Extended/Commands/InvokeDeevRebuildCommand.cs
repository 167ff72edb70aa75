using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Loading;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Rebuilds services from nothing by running their class's playbook, resuming where a previous run stopped. The
    /// rebuild itself is script (module/Rebuild, the playbooks): this cmdlet binds the parameters and hands them to it,
    /// so importing the module does not pay for loading the script layer. Each service whose rebuild ran a step (or
    /// failed) is one record in the tier's change journal. With <c>-PlanPath</c> it saves the rebuild as a plan for
    /// Invoke-DeevPlan instead of running it.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "DeevRebuild", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Service")]
    [OutputType("Deevnet.Extended.RebuildStepResult")]
    public sealed class InvokeDeevRebuildCommand : TierCmdlet
    {
        /// <summary>Services to rebuild; binds Service and Name by property name, so Get-DeevService output pipes in.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Service", ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        public string[] Service { get; set; } = Array.Empty<string>();

        /// <summary>Rebuild every service of these classes.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Class")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ServiceClassCompleter))]
        public string[] Class { get; set; } = Array.Empty<string>();

        /// <summary>Rebuild the whole tier in dependency order.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "All")]
        public SwitchParameter All { get; set; }

        /// <summary>Folders searched for &lt;Class&gt;.ps1 before the module's own playbooks.</summary>
        [Parameter]
        public string[]? PlaybookPath { get; set; }

        /// <summary>Trust a host key that is neither recorded nor handed in, for this rebuild, after checking it on the console.</summary>
        [Parameter]
        public SwitchParameter AcceptChangedHostKey { get; set; }

        /// <summary>Do not ask when the service's host also holds other services.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Rebuild without a record in the tier's change journal (said as a warning); without it, an unwritable journal stops the rebuild before any step.</summary>
        [Parameter]
        public SwitchParameter SkipJournal { get; set; }

        /// <summary>
        /// Write the rebuild to this file as a saved plan instead of running it: per service its playbook (file and
        /// SHA-256) and ordered steps, the backup the Restore step will use (pinned by name and digests) and the host's
        /// identity. Apply it later with Invoke-DeevPlan.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? PlanPath { get; set; }

        protected override bool JournalSkipped => SkipJournal.IsPresent;

        protected override string? PlanPathGiven => PlanPath;

        private SiteTier? _tier;
        private ChangeJournal? _journal;
        private RebuildTally? _current;

        protected override void ProcessRecord()
        {
            var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
            _tier = whatIf && !SavingPlan ? null : TryLoadTier();
            // Proven writable before the first step changes anything (JournalUnwritable stops the rebuild). Saving a
            // plan changes nothing, so it needs no journal.
            if (_tier != null && !SavingPlan) _journal = OpenJournal(_tier);
            try
            {
                // The piped object itself: a host piped in rebuilds that host's services (its Name names a host, not a service).
                ScriptLayer.Run(this, "Invoke-DeevRebuild", new Hashtable { ["PipelineObject"] = ScriptLayer.CurrentInput(this) }, Emit);
            }
            finally
            {
                if (!Stopping) RecordRebuild();
            }
        }

        /// <summary>The tier, or null when there is none to read: the script layer then reports RebuildTargetInvalid, as before.</summary>
        private SiteTier? TryLoadTier()
        {
            var given = !string.IsNullOrEmpty(TierPath) ? TierPath : Environment.GetEnvironmentVariable(TierEnvironmentVariable);
            if (string.IsNullOrEmpty(given)) return null;
            try { return TierLoader.Load(GetUnresolvedProviderPathFromPSPath(given)); }
            catch (DeevException) { return null; }
        }

        /// <summary>Passes a step result on, keeping count per service, so each rebuilt service becomes one journal record.</summary>
        private void Emit(object output)
        {
            var step = PSObject.AsPSObject(output);
            if (step.TypeNames.Contains(PlanEntryType))
            {
                SavePlan(step);
                return;
            }
            var service = step.Properties["Service"]?.Value as string;
            if (service != null && _current?.Service != service)
            {
                RecordRebuild();
                _current = new RebuildTally(service, step.Properties["HostName"]?.Value as string ?? service);
            }
            _current?.Add(step.Properties["Status"]?.Value as string, step.Properties["Step"]?.Value as string);
            WriteObject(output);
        }

        private void RecordRebuild()
        {
            var done = _current;
            _current = null;
            if (done == null || _tier == null || !done.IsChange) return;
            Record(_journal, _tier, done.ToChangePlan(), done.HostName, done.Result);
        }

        /// <summary>What the script layer emits per service under -PlanPath instead of running its steps.</summary>
        private const string PlanEntryType = "Deevnet.Extended.RebuildPlanEntry";

        /// <summary>
        /// One service's rebuild, saved: the script layer found its playbook and steps; the backup its Restore step would
        /// use (the newest good one, as the step picks it) is pinned here by name and by its seal's digests.
        /// </summary>
        private void SavePlan(PSObject entry)
        {
            var tier = _tier ?? LoadTier();
            string? Text(string name) => entry.Properties[name]?.Value?.ToString();
            var service = tier.Services.First(s => s.Name == Text("Service"));
            var playbook = Text("PlaybookFile") ?? "";
            var steps = ((IEnumerable)entry.Properties["Steps"].Value).Cast<object>().Select(PSObject.AsPSObject).ToList();
            SavedBackup? pinned = null;
            if (tier.Backup != null && !service.Backup.IsNone && service.Backup.Paths.Count > 0)
            {
                var newest = RunAsync(token => new BackupCatalog(tier, via => Pool.Get(via, tier.Access)).NewestGoodAsync(service.Name, token));
                if (newest != null) pinned = RestorePlanSteps.Pin(newest);
                else WriteWarning($"'{service.Name}' has no good backup: the plan's Restore step has nothing to restore and will fail.");
            }
            var vmId = entry.Properties["VmId"]?.Value;
            var rebuild = new SavedRebuild
            {
                Service = service.Name,
                Class = Text("Class") ?? "",
                Playbook = new PlanSource { Path = playbook, Sha256 = ChangeJournal.HashOf(playbook) },
                PlaybookPath = PlaybookPath?.Select(p => GetUnresolvedProviderPathFromPSPath(p)).ToList(),
                Steps = steps.Select(st => st.Properties["Name"].Value.ToString()!).ToList(),
                Backup = pinned,
                Host = new SavedHost { Name = Text("HostName") ?? "", VmId = vmId == null ? null : Convert.ToInt32(vmId, CultureInfo.InvariantCulture), MacAddress = Text("MacAddress"), IPAddress = Text("IPAddress") },
                Force = Force.IsPresent ? true : null,
            };
            var step = RestorePlanSteps.FromRebuild(rebuild, steps.Select(st => st.Properties["Description"]?.Value?.ToString() ?? "").ToList());
            foreach (var line in step.Changes) PlanLine(line.ToString(), show: true);
            SavePlanStep(tier, step);
        }
    }
}
