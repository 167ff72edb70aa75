using System.IO;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Inventory;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Converts a site directory of Deevnet's Ansible inventory into a tier file and its identity companion, keeping
    /// every VMID and MAC. What cannot be mapped is a warning with the inventory file and line; the written tier is
    /// validated as Get-DeevTier would, and any problem left is reported.
    /// </summary>
    [Cmdlet(VerbsData.ConvertFrom, "DeevAnsibleInventory", SupportsShouldProcess = true)]
    [OutputType(typeof(InventoryConversion))]
    public sealed class ConvertFromDeevAnsibleInventoryCommand : DeevCmdlet
    {
        /// <summary>The inventory's site directory (hosts.yml, group_vars, host_vars).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>The tier file to write; its companion <c>&lt;name&gt;.identity.yaml</c> goes beside it.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [Alias("Tier")]
        [ValidateNotNullOrEmpty]
        public string TierPath { get; set; } = "";

        /// <summary>The Proxmox API token id (<c>user@realm!token</c>), which the inventory keeps in its vault.</summary>
        [Parameter]
        [ValidatePattern(@"^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+![A-Za-z0-9._-]+$")]
        public string? ProxmoxTokenId { get; set; }

        /// <summary>Replace an existing tier file and companion.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            var site = GetUnresolvedProviderPathFromPSPath(Path);
            var tier = GetUnresolvedProviderPathFromPSPath(TierPath);
            InventoryConversion conversion;
            try
            {
                conversion = InventoryConverter.Convert(site, tier, ProxmoxTokenId);
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return;
            }
            foreach (var note in conversion.Notes) WriteVerbose(note.ToString());
            foreach (var warning in conversion.Warnings) WriteWarning(warning.ToString());

            var existing = new[] { conversion.TierPath, conversion.IdentityPath }.Where(File.Exists).ToList();
            if (existing.Count > 0 && !Force)
            {
                WriteError(NewError("TierFileExists", ErrorCategory.ResourceExists,
                    $"'{string.Join("', '", existing)}' already exists; nothing was written. Use -Force to replace it.", existing[0],
                    "Convert to a new tier path, or add -Force to replace the files."));
                return;
            }
            var description = $"Write the tier file '{conversion.TierPath}' ({conversion.Hosts.Count} hosts, {conversion.Services.Count} services) " +
                $"and its identity companion '{conversion.IdentityPath}':\n{conversion.TierText}\n{conversion.IdentityText}";
            if (ShouldProcess(description, $"Write the tier file '{conversion.TierPath}' converted from '{conversion.SiteDirectory}'?", "ConvertFrom-DeevAnsibleInventory"))
            {
                try
                {
                    conversion.Write();
                }
                catch (DeevException ex)
                {
                    WriteDeevError(ex);
                    return;
                }
                WriteObject(conversion);
            }
            if (!conversion.IsValid)
            {
                WriteError(NewError("ConvertedTierInvalid", ErrorCategory.InvalidData,
                    $"The converted tier does not load yet ({conversion.TierProblems.Count} problem(s)); fix these lines:\n" +
                    string.Join("\n", conversion.TierProblems.Select(p => "  " + p)), conversion.TierPath,
                    "Fill in what the warnings name (e.g. -ProxmoxTokenId), or edit the listed lines of the tier file."));
            }
        }
    }
}
