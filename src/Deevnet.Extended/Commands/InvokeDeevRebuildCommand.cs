using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using Deevnet.Extended.Completers;
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
    /// failed) is one record in the tier's change journal.
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

        private SiteTier? _tier;
        private ChangeJournal? _journal;
        private RebuildTally? _current;

        protected override void ProcessRecord()
        {
            var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
            _tier = whatIf ? null : TryLoadTier();
            // Proven writable before the first step changes anything (JournalUnwritable stops the rebuild).
            if (_tier != null) _journal = OpenJournal(_tier);
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
            if (done == null || _tier == null || (done.Ran.Count == 0 && done.FailedStep == null)) return;
            var after = done.FailedStep == null
                ? $"rebuilt: {string.Join(", ", done.Ran)} done, {done.Skipped} already done"
                : $"stopped at {done.FailedStep}" + (done.Ran.Count > 0 ? $" after {string.Join(", ", done.Ran)}" : "");
            var plan = new ChangePlan(done.HostName, new List<PlannedChange> { new PlannedChange(ChangeAction.Change, "rebuild", done.Service, null, after, done.HostName) });
            Record(_journal, _tier, plan, done.HostName, done.FailedStep == null ? "applied" : $"failed at step {done.FailedStep}");
        }

        /// <summary>What one service's rebuild did so far.</summary>
        private sealed class RebuildTally
        {
            public RebuildTally(string service, string hostName) { Service = service; HostName = hostName; }
            public string Service { get; }
            public string HostName { get; }
            public List<string> Ran { get; } = new List<string>();
            public int Skipped { get; private set; }
            public string? FailedStep { get; private set; }

            public void Add(string? status, string? step)
            {
                if (status == "Done") Ran.Add(step ?? "?");
                else if (status == "Skipped") Skipped++;
                else if (status == "Failed") FailedStep = step;
            }
        }
    }
}
