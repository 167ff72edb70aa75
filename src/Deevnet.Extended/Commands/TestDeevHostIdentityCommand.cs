using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Identity;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Audits the tier's identities: MAC = f(VMID), no duplicate VMIDs or MACs, VMIDs in range, no stale or unreadable
    /// companion entries, every host allocated. Emits one finding per problem, or with -Quiet one bool for all input.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "DeevHostIdentity")]
    [OutputType(typeof(IdentityFinding))]
    [OutputType(typeof(bool))]
    public sealed class TestDeevHostIdentityCommand : TierCmdlet
    {
        private readonly HashSet<string> _emitted = new HashSet<string>();
        private bool _anyFinding;

        /// <summary>Only findings about these hosts (file-wide findings are always kept); wildcards allowed.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name", Wildcards = true)]
        public string[]? Name { get; set; }

        /// <summary>Return only $true (no findings) or $false.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var findings = IdentityAudit.Run(tier).Where(f => f.HostName == null || Matches(f.HostName, Name));
            foreach (var finding in findings)
            {
                // Piped hosts each run the audit; a finding is reported once.
                if (!_emitted.Add($"{finding.TierPath}|{finding.Rule}|{finding.HostName}|{finding.File}|{finding.Line}|{finding.Message}")) continue;
                _anyFinding = true;
                if (!Quiet) WriteObject(finding);
            }
        }

        protected override void EndProcessing()
        {
            if (Quiet) WriteObject(!_anyFinding);
        }
    }
}
