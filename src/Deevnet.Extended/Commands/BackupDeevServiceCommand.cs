using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Backs services up: before → tar → after on the host, encrypted with age to the tier's recipient, written to the
    /// store as a partial file renamed when whole, then retention. Services that declare nothing to back up are skipped.
    /// </summary>
    [Cmdlet(VerbsData.Backup, "DeevService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(BackupResult))]
    public sealed class BackupDeevServiceCommand : BackupCmdlet
    {
        /// <summary>Service names; wildcards allowed. Default (with no -Class): every service of the tier.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Service")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateDeevName("service name", Wildcards = true)]
        public string[]? Name { get; set; }

        /// <summary>A management host from Get-DeevMgmtHost: its services are selected (the pipeline binds it here).</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>Only services of these classes.</summary>
        [Parameter]
        public ServiceClass[]? Class { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var catalog = Catalog(tier);
            var engine = new BackupEngine(tier, Transports(tier), Log, Progress);
            foreach (var service in SelectServices(tier, Name, Class, InputObject))
            {
                if (!BackupEngine.Needs(service))
                {
                    WriteVerbose($"{service.Name}: nothing to back up ({service.Backup.NoneReason ?? "no paths"}).");
                    continue;
                }
                var what = $"Back up {string.Join(", ", service.Backup.Paths)}" +
                           (service.Backup.Before != null ? $" (before: {service.Backup.Before})" : "") +
                           (service.Backup.After != null ? $" (after: {service.Backup.After})" : "") +
                           $" to {catalog.Store.Location}/{service.Name}, keeping {catalog.Settings.Keep}";
                if (!ShouldProcess($"{service.Name} on {service.Host}", what)) continue;
                try
                {
                    var result = RunAsync(token => engine.BackupAsync(service, token));
                    result.Backup.TierPath = tier.SourcePath;
                    foreach (var warning in result.Warnings) WriteWarning(warning);
                    WriteObject(result);
                    if (result.AfterFailure != null)
                        WriteError(NewError("BackupAfterFailed", ErrorCategory.InvalidResult, result.AfterFailure, service.Name,
                            "The backup is whole, but the service may be left stopped: check it on its host."));
                }
                catch (BackupException ex)
                {
                    WriteDeevError(ex);
                }
                catch (Core.Errors.DeevException ex)
                {
                    WriteDeevError(ex);
                }
            }
        }
    }
}
