using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Decrypts a backup in a stream (newest by default) and checks every file against its manifest; the result is
    /// recorded beside the backup so listing and freshness know a failed one.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "DeevBackup", DefaultParameterSetName = ArchiveSet)]
    [OutputType(typeof(BackupTestResult), ParameterSetName = new[] { ArchiveSet })]
    [OutputType(typeof(RestoreResult), ParameterSetName = new[] { HostSet })]
    public sealed class TestDeevBackupCommand : BackupCmdlet
    {
        private const string ArchiveSet = "Archive";
        private const string HostSet = "Host";

        /// <summary>The service whose backup is tested.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateDeevName("service name")]
        public string Service { get; set; } = "";

        /// <summary>The backup (base name as Get-DeevBackup shows it). Default: the newest authenticated whole backup.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        public string? BackupName { get; set; }

        /// <summary>The age private key file. Default: the tier's backup.identityFile.</summary>
        [Parameter]
        public string? IdentityFile { get; set; }

        /// <summary>
        /// Accept a backup that has no seal (taken before signing was turned on); name it with -BackupName. A backup
        /// whose seal does not verify or belongs to another archive is refused even so.
        /// </summary>
        [Parameter]
        public SwitchParameter AllowUnsigned { get; set; }

        /// <summary>Compare a host's files with the backup's manifest instead of testing the archive (read-only).</summary>
        [Parameter(Mandatory = true, ParameterSetName = HostSet)]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string TargetHost { get; set; } = "";

        /// <summary>The folder on the host the paths sit under (as Restore-DeevService -Root). Default: /.</summary>
        [Parameter(ParameterSetName = HostSet)]
        public string Root { get; set; } = "/";

        protected override void ProcessRecord()
        {
            if (ParameterSetName == HostSet)
            {
                CompareHost();
                return;
            }
            var tier = LoadTier();
            var verifier = new BackupVerifier(tier, Transports(tier), Progress) { AllowUnsigned = AllowUnsigned };
            var key = IdentityFile != null ? GetUnresolvedProviderPathFromPSPath(IdentityFile) : null;
            try
            {
                var result = RunAsync(async token =>
                {
                    var backup = await verifier.Catalog.FindAsync(Service, BackupName, token).ConfigureAwait(false);
                    return await verifier.TestAsync(backup, token, key).ConfigureAwait(false);
                });
                WriteObject(result);
                if (!result.Passed)
                    WriteError(NewError("BackupVerificationFailed", ErrorCategory.InvalidData,
                        $"Backup {result.BackupName} failed its test: {result.Message}", result.Problems[0].Path,
                        "Do not rely on this backup: take a new one with Backup-DeevService and test it."));
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
        }

        private void CompareHost()
        {
            var tier = LoadTier();
            var service = tier.Services.FirstOrDefault(s => s.Name == Service);
            if (service == null)
            {
                WriteError(NewError("ServiceNotFound", ErrorCategory.ObjectNotFound, $"The tier '{tier.SourcePath}' has no service '{Service}'.", Service));
                return;
            }
            var restorer = new BackupRestorer(tier, Transports(tier), Log, Progress) { AllowUnsigned = AllowUnsigned };
            var key = IdentityFile != null ? GetUnresolvedProviderPathFromPSPath(IdentityFile) : null;
            try
            {
                var result = RunAsync(async token =>
                {
                    var backup = BackupName != null
                        ? await restorer.Catalog.FindAsync(Service, BackupName, token).ConfigureAwait(false)
                        : await restorer.Catalog.NewestGoodAsync(Service, token).ConfigureAwait(false)
                          ?? await restorer.Catalog.FindAsync(Service, null, token).ConfigureAwait(false);
                    return await restorer.CompareAsync(service, backup, new RestoreTarget(TargetHost, Root, false), token, key).ConfigureAwait(false);
                });
                WriteObject(result);
                if (!result.Verified)
                    WriteError(NewError("BackupHostMismatch", ErrorCategory.InvalidResult,
                        $"{result.Problems.Count} file(s) on {result.HostName} do not match the manifest of {result.BackupName}, e.g. {result.Problems[0]}", result.Problems[0].Path,
                        "Restore-DeevService puts the backup back."));
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
        }
    }
}
