using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Lists whole backups in the store (newest first) with time, size, age and status; reads no private key. Each
    /// backup's seal is verified against the tier's allowed signers: one that does not verify is listed with status
    /// Unauthenticated (and a warning when its seal is forged or belongs to another archive) and is never "newest good".
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "DeevBackup")]
    [OutputType(typeof(BackupInfo))]
    public sealed class GetDeevBackupCommand : BackupCmdlet
    {
        /// <summary>Service names; wildcards allowed. Default: every service that declares paths.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateDeevName("service name", Wildcards = true)]
        public string[]? Service { get; set; }

        /// <summary>A management host from Get-DeevMgmtHost: its services are selected (the pipeline binds it here).</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>Only services of these classes.</summary>
        [Parameter]
        public ServiceClass[]? Class { get; set; }

        /// <summary>Only the newest good backup of each service (authenticated, not failed a test).</summary>
        [Parameter]
        public SwitchParameter Latest { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var catalog = Catalog(tier);
            var services = SelectServices(tier, Service, Class, InputObject).Where(BackupEngine.Needs).Select(s => s.Name).ToList();
            if (services.Count == 0) return;
            try
            {
                var backups = RunAsync(token => catalog.ListAsync(services, token));
                var shown = Latest ? backups.Where(b => b.IsGood).GroupBy(b => b.Service).Select(g => g.First()) : backups;
                foreach (var b in backups.Where(b => b.Signature == BackupSignature.Invalid))
                    WriteWarning($"Backup {b.BackupName} of {b.Service} is not authenticated: {b.SignatureProblem}. It is never used; find out who wrote it to the store.");
                foreach (var b in shown)
                {
                    b.TierPath = tier.SourcePath;
                    WriteObject(b);
                }
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
        }
    }
}
