using System;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Waits until each management host answers: its SSH endpoint (the tier's via for the host, else its address on
    /// port 22), or -Port on its address, accepts a TCP connection — the probe Test-DeevExtendedTier's tcp checks use.
    /// Shows progress while it waits. A host that does not answer within -TimeoutSec is a non-terminating
    /// <c>VmWaitTimeout</c> error, so the others are still waited for; with -ErrorAction Stop it ends the command.
    /// Nothing is sent to the host beyond the TCP handshake.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "DeevMgmtHost")]
    [OutputType(typeof(MgmtHostInfo))]
    public sealed class WaitDeevMgmtHostCommand : TierCmdlet
    {
        /// <summary>Tier host names; wildcards allowed. Binds Get-DeevMgmtHost and New-DeevMgmtVm output by property name.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateNotNullOrEmpty]
        [ValidateDeevName("host name", Wildcards = true)]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>The TCP port to wait for on the host's address. Default: the host's SSH endpoint (its via, else port 22).</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int? Port { get; set; }

        /// <summary>Seconds to wait for each host before giving up. Default: 600.</summary>
        [Parameter]
        [ValidateDeevTimeout]
        public int TimeoutSec { get; set; } = 600;

        /// <summary>Emit the host (as Get-DeevMgmtHost does) once it answers; by default nothing is emitted.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            var resolver = new IdentityResolver(tier);
            foreach (var host in SelectByName(tier.Hosts, h => h.Name, Name, "HostNotFound", "host", tier.SourcePath))
            {
                var via = tier.ViaOf(host);
                var address = Port != null || via.IsLocal ? host.IPAddress.ToString() : via.Host;
                var port = Port ?? (via.IsLocal ? 22 : via.Port);
                try
                {
                    RunAsync(token => VmReadiness.WaitForTcpAsync(host.Name, address, port, TimeSpan.FromSeconds(TimeoutSec), Progress, token));
                }
                catch (DeevException ex)
                {
                    WriteDeevError(ex);
                    continue;
                }
                WriteVerbose($"{host.Name} answers at {address}:{port}.");
                if (PassThru) WriteObject(new MgmtHostInfo(tier, host, resolver.Resolve(host)));
            }
        }
    }
}
