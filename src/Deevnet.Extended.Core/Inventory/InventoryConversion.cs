using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Inventory
{
    /// <summary>What <see cref="InventoryConverter"/> made of a site directory: the two files' text and what it could not map.</summary>
    public sealed class InventoryConversion
    {
        internal InventoryConversion(string siteDirectory, string tierPath, string identityPath, string site, string tierText, string identityText,
            IReadOnlyList<ConvertedHost> hosts, IReadOnlyList<string> services, IReadOnlyList<TierProblem> warnings,
            IReadOnlyList<TierProblem> notes, IReadOnlyList<TierProblem> tierProblems)
        {
            SiteDirectory = siteDirectory;
            TierPath = tierPath;
            IdentityPath = identityPath;
            Site = site;
            TierText = tierText;
            IdentityText = identityText;
            Hosts = hosts;
            Services = services;
            Warnings = warnings;
            Notes = notes;
            TierProblems = tierProblems;
        }

        public string SiteDirectory { get; }
        public string TierPath { get; }
        public string IdentityPath { get; }
        public string Site { get; }
        public string TierText { get; }
        public string IdentityText { get; }

        /// <summary>The management hosts written to the tier, with the identity each keeps.</summary>
        public IReadOnlyList<ConvertedHost> Hosts { get; }
        public IReadOnlyList<string> Services { get; }

        /// <summary>Entries of the inventory that were not mapped (or were mapped incompletely), with inventory file and line.</summary>
        public IReadOnlyList<TierProblem> Warnings { get; }

        /// <summary>Decisions worth knowing (an early name kept, an alias resolved, a placeholder written), with file and line.</summary>
        public IReadOnlyList<TierProblem> Notes { get; }

        /// <summary>Why the written tier would not load (empty when it passes Get-DeevTier), positions in the tier text.</summary>
        public IReadOnlyList<TierProblem> TierProblems { get; }

        public bool IsValid => TierProblems.Count == 0;

        /// <summary>
        /// Writes the companion, then the tier, each atomically (a unique temporary file beside it, then a rename), so a
        /// tier never appears without the identities it relies on.
        /// </summary>
        public void Write()
        {
            Directory.CreateDirectory(Path.GetDirectoryName(TierPath) ?? ".");
            IdentityFile.WriteAtomically(IdentityPath, IdentityText);
            var temp = Path.Combine(Path.GetDirectoryName(TierPath) ?? ".", "." + Path.GetFileName(TierPath) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".tmp");
            try
            {
                File.WriteAllText(temp, TierText, new UTF8Encoding(false));
                File.Move(temp, TierPath, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                throw new DeevException("TierFileWriteFailed", DeevErrorKind.WriteError, $"The tier file '{TierPath}' could not be written: {ex.Message}", TierPath, ex);
            }
        }
    }

    /// <summary>One management host of the converted tier and the identity it keeps from the inventory.</summary>
    public sealed class ConvertedHost
    {
        public ConvertedHost(string name, string segment, string ipAddress, int? vmId, string? macAddress, bool fixedVmId)
        {
            Name = name;
            Segment = segment;
            IPAddress = ipAddress;
            VmId = vmId;
            MacAddress = macAddress;
            FixedVmId = fixedVmId;
        }

        public string Name { get; }
        public string Segment { get; }
        public string IPAddress { get; }

        /// <summary>The VMID from the inventory; null when it allocated none yet (<c>0</c>).</summary>
        public int? VmId { get; }
        public string? MacAddress { get; }

        /// <summary>True when written as <c>vmid:</c> in the tier (a literal in the inventory); false when recorded in the identity companion.</summary>
        public bool FixedVmId { get; }
    }
}
