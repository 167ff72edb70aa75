using System;
using System.Management.Automation;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Removes the temporary first-boot keys the module recorded for a host in known_hosts (lines marked
    /// <c>deevnet-rebuild-first-boot</c>: a rebuilt VM's seeded key, or one accepted with -AcceptChangedHostKey), once
    /// the host offers its lasting key again. Lines the module did not mark are never touched (use
    /// <c>ssh-keygen -R</c> for those). The file is rewritten under a lock and renamed into place. The server is not
    /// contacted.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "DeevHostKey", DefaultParameterSetName = HostNameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(void))]
    public sealed class RemoveDeevHostKeyCommand : HostAccessCmdlet
    {
        /// <summary>Host name or address, or the name of a host in the tier (its via's address and port are used).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostNameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        public string[] HostName { get; set; } = Array.Empty<string>();

        /// <summary>SSH port. Default: 22 (or the port of the tier host's via).</summary>
        [Parameter(ParameterSetName = HostNameSet, ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 22;

        /// <summary>Remove the host's first-boot lines (required: first-boot lines are the only ones this cmdlet removes).</summary>
        [Parameter(Mandatory = true)]
        public SwitchParameter FirstBoot { get; set; }

        protected override void ProcessRecord()
        {
            ForEachKeyEndpoint(HostName, Port, (_, host, port, knownHostsPath) => Remove(host, port, knownHostsPath));
        }

        private void Remove(string host, int port, string knownHostsPath)
        {
            if (!ShouldProcess($"{KnownHostsFile.LookupName(host, port)} in {knownHostsPath}", "Remove the first-boot host keys")) return;
            var removed = KnownHostsFile.RemoveFirstBoot(knownHostsPath, host, port);
            WriteVerbose($"{host}:{port}: removed {removed} first-boot line(s) from {knownHostsPath}.");
        }
    }
}
