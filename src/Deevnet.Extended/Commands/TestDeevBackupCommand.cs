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
    [Cmdlet(VerbsDiagnostic.Test, "DeevBackup")]
    [OutputType(typeof(BackupTestResult))]
    public sealed class TestDeevBackupCommand : BackupCmdlet
    {
        /// <summary>The service whose backup is tested.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        public string Service { get; set; } = "";

        /// <summary>The backup (base name as Get-DeevBackup shows it). Default: the newest whole backup.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        public string? BackupName { get; set; }

        /// <summary>The age private key file. Default: the tier's backup.identityFile.</summary>
        [Parameter]
        public string? IdentityFile { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var verifier = new BackupVerifier(tier, Transports(tier), Progress);
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
    }
}
