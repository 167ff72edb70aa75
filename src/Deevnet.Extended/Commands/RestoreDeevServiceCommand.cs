using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Puts a backup back onto a host (the service's own, or -TargetHost; under / or -Root), between the service's
    /// before and after commands, and checks the restored files against the manifest. With <c>-PlanPath</c> it writes the
    /// restore as a saved plan instead (the backup pinned by name and by its seal's digests), for Invoke-DeevPlan.
    /// </summary>
    [Cmdlet(VerbsData.Restore, "DeevService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(RestoreResult))]
    public sealed class RestoreDeevServiceCommand : BackupCmdlet
    {
        /// <summary>The service to restore.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateDeevName("service name")]
        public string Service { get; set; } = "";

        /// <summary>The backup to restore. Default: the newest good one.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        public string? BackupName { get; set; }

        /// <summary>A host of the tier to restore onto. Default: the service's host.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name")]
        public string? TargetHost { get; set; }

        /// <summary>Folder on the target the paths are restored under. Default: / (back in place).</summary>
        [Parameter]
        [ValidateDeevPath]
        public string Root { get; set; } = "/";

        /// <summary>Do not run the service's before/after commands.</summary>
        [Parameter]
        public SwitchParameter SkipCommands { get; set; }

        /// <summary>The age private key file. Default: the tier's backup.identityFile.</summary>
        [Parameter]
        public string? IdentityFile { get; set; }

        /// <summary>
        /// Accept a backup that has no seal (taken before signing was turned on); name it with -BackupName. The plan
        /// then shows the tier's paths. A backup whose seal does not verify or belongs to another archive is refused even so.
        /// </summary>
        [Parameter]
        public SwitchParameter AllowUnsigned { get; set; }

        /// <summary>Restore without a record in the tier's change journal (said as a warning); without it, an unwritable journal stops the restore.</summary>
        [Parameter]
        public SwitchParameter SkipJournal { get; set; }

        protected override bool JournalSkipped => SkipJournal.IsPresent;

        /// <summary>
        /// Write the restore to this file as a saved plan instead of restoring: the service, target host, root, whether
        /// the commands run, the lines -WhatIf shows and the backup pinned by name and by its seal's digests (a signed
        /// backup only). Apply it later with Invoke-DeevPlan.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? PlanPath { get; set; }

        protected override string? PlanPathGiven => PlanPath;

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var service = tier.Services.FirstOrDefault(s => s.Name == Service);
            if (service == null)
            {
                WriteError(NewError("ServiceNotFound", ErrorCategory.ObjectNotFound, $"The tier '{tier.SourcePath}' has no service '{Service}'.", Service));
                return;
            }
            var restorer = new BackupRestorer(tier, Transports(tier), Log, Progress) { AllowUnsigned = AllowUnsigned };
            var target = new RestoreTarget(TargetHost, Root, !SkipCommands);
            var key = IdentityFile != null ? GetUnresolvedProviderPathFromPSPath(IdentityFile) : null;
            try
            {
                var backup = RunAsync(async token => BackupName != null
                    ? await restorer.Catalog.FindAsync(Service, BackupName, token).ConfigureAwait(false)
                    : await restorer.Catalog.NewestGoodAsync(Service, token).ConfigureAwait(false)
                      ?? await restorer.Catalog.FindAsync(Service, null, token).ConfigureAwait(false));
                // Refused before the plan is shown: what a confirmation says comes from the verified seal (or, for an
                // unsigned backup accepted with -AllowUnsigned, from the tier), never from the unauthenticated sidecar.
                BackupCatalog.RequireAuthenticated(backup, AllowUnsigned);
                var plan = restorer.Plan(service, backup, target);
                foreach (var change in plan.Changes) WriteVerbose($"Restore plan for {service.Name} on {plan.Target}: {change.Kind} {change.Key}: {change.After}");
                var origin = backup.Signature == BackupSignature.Valid ? $"signed by {backup.SignedBy}" : "UNSIGNED, paths as the tier declares them";
                WriteVerbose($"Restore plan for {service.Name}: {backup.BackupName} is {origin}.");
                if (SavingPlan)
                {
                    // -PlanPath: the plan -WhatIf would show, written for Invoke-DeevPlan instead of restored.
                    foreach (var change in plan.Changes) PlanLine(change.ToString(), show: true);
                    SavePlanStep(tier, RestorePlanSteps.FromRestore(plan, service.Name, RestorePlanSteps.Pin(backup), target.Root, target.RunCommands));
                    return;
                }
                var what = $"Restore {backup.BackupName} ({backup.Time:yyyy-MM-dd HH:mm:ss}Z, {origin}): " + string.Join("; ", plan.Changes.Select(c => $"{c.Kind} {c.Key}: {c.After}"));
                if (!ShouldProcess($"{service.Name} on {plan.Target}:{target.Root}", what)) return;
                var journal = OpenJournal(tier);
                RestoreResult result;
                try
                {
                    result = RunAsync(token => restorer.RestoreAsync(service, backup, target, token, key));
                }
                catch (DeevException ex)
                {
                    Record(journal, tier, plan, plan.Target, "failed: " + ex.ErrorId);
                    throw;
                }
                Record(journal, tier, plan, plan.Target, Outcome(result));
                WriteObject(result);
                foreach (var problem in Problems(result, service.Name)) WriteError(problem);
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
        }

        /// <summary>A finished restore as the journal records it (here and when Invoke-DeevPlan applies a restore step).</summary>
        internal static string Outcome(RestoreResult result) =>
            !result.Verified ? "failed: RestoreVerificationFailed" : result.AfterFailure != null ? "failed: BackupAfterFailed" : "applied";

        /// <summary>The errors a finished restore reports: files that do not match the manifest, an after command that failed.</summary>
        internal static IEnumerable<ErrorRecord> Problems(RestoreResult result, string service)
        {
            if (!result.Verified)
                yield return NewError("RestoreVerificationFailed", ErrorCategory.InvalidResult,
                    $"{result.Problems.Count} restored file(s) do not match the manifest of {result.BackupName}, e.g. {result.Problems[0]}", result.Problems[0].Path);
            if (result.AfterFailure != null)
                yield return NewError("BackupAfterFailed", ErrorCategory.InvalidResult, result.AfterFailure, service);
        }
    }
}
