using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Loading;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Lists the rebuild playbooks and their steps without running anything. Playbooks are script, read by the script
    /// layer (module/Rebuild), which this cmdlet loads on first use.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "DeevPlaybook")]
    [OutputType("Deevnet.Extended.PlaybookStep")]
    public sealed class GetDeevPlaybookCommand : PSCmdlet
    {
        /// <summary>Only the playbooks of these classes. Default: all.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ServiceClassCompleter))]
        public string[]? Class { get; set; }

        /// <summary>Folders searched for &lt;Class&gt;.ps1 before the module's own playbooks.</summary>
        [Parameter]
        public string[]? PlaybookPath { get; set; }

        protected override void ProcessRecord() => ScriptLayer.Run(this, "Get-DeevPlaybook");
    }
}
