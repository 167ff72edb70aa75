using System;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Runs a command with /bin/sh on a host over SSH (strict host keys) and returns its exit status and output.
    /// Hosts in one pipeline share one connection each.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "DeevHostCommand", DefaultParameterSetName = HostNameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(HostCommandResult))]
    public sealed class InvokeDeevHostCommandCommand : HostAccessCmdlet
    {

        /// <summary>Name of the host in the tier.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostNameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        [ValidateDeevName("host name")]
        public string HostName { get; set; } = string.Empty;

        /// <summary>The command line, run with /bin/sh -c on the host.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Command { get; set; } = string.Empty;

        /// <summary>Arguments appended to the command, each quoted for the shell.</summary>
        [Parameter]
        [AllowEmptyString]
        public string[]? ArgumentList { get; set; }

        /// <summary>Private key file. Default: the tier's access.identityFile, else ~/.ssh/id_ed25519, id_ecdsa or id_rsa.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFile { get; set; }

        /// <summary>User name and password for password login.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Seconds the command may run. Default: the tier's access.commandTimeout, else 60.</summary>
        [Parameter]
        [ValidateDeevTimeout]
        public int TimeoutSec { get; set; }


        protected override void ProcessRecord()
        {
            var commandLine = ArgumentList == null || ArgumentList.Length == 0
                ? Command
                : Command + " " + string.Join(" ", ArgumentList.Select(ShellQuote.Quote));
            Via via;
            AccessSettings? access = null;
            string label;
            try
            {
                if (ParameterSetName == ViaSet)
                {
                    via = ParseVia();
                    label = via.Host;
                }
                else
                {
                    var tierHost = ResolveTierHost(HostName);
                    if (tierHost == null)
                    {
                        WriteError(NewError("HostNotFound", ErrorCategory.ObjectNotFound,
                            $"'{HostName}' is not a host of a tier: give -TierPath (or set $env:DEEV_TIER), or reach the machine with -Via ssh://user@{HostName}.", HostName));
                        return;
                    }
                    (via, access) = tierHost.Value;
                    label = HostName;
                }
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return;
            }

            if (!ShouldProcess($"{label} ({via})", $"Run '{commandLine}'")) return;
            try
            {
                var transport = via.IsLocal ? Pool.Get(via, new SshTransportOptions()) : Pool.Get(WithUser(via, access), Options(access));
                var timeout = TimeSpan.FromSeconds(TimeoutSec > 0 ? TimeoutSec : (access?.CommandTimeout ?? SshTransportOptions.DefaultCommandTimeout).TotalSeconds);
                var result = RunAsync(token => transport.RunAsync(commandLine, token, timeout: timeout));
                WriteObject(new HostCommandResult(label, via, result));
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
        }

        private Via WithUser(Via via, AccessSettings? access)
        {
            if (via.User != null) return via;
            var user = Credential?.GetNetworkCredential().UserName is { Length: > 0 } fromCredential ? fromCredential : access?.User ?? Environment.UserName;
            return via.WithDefaultUser(user);
        }

        private SshTransportOptions Options(AccessSettings? access)
        {
            var options = access != null ? SshTransportOptions.FromAccess(access) : new SshTransportOptions();
            options.KnownHostsPath = ResolveKnownHostsPath(access);
            if (KeyFile != null) options.KeyFile = GetUnresolvedProviderPathFromPSPath(KeyFile);
            if (Credential != null)
            {
                options.Password = Credential.GetNetworkCredential().Password;
                if (KeyFile == null) options.KeyFile = null;   // an explicit credential means: log in with it
            }
            else if (options.KeyFile == null)
            {
                options.KeyFile = DefaultKeyFile();
                if (options.KeyFile != null) WriteVerbose($"Using the key file {options.KeyFile}.");
            }
            return options;
        }

        /// <summary>The key ssh itself would try first, so -Via works like ssh on an operator's machine.</summary>
        private static string? DefaultKeyFile()
        {
            var ssh = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh");
            return new[] { "id_ed25519", "id_ecdsa", "id_rsa" }.Select(n => System.IO.Path.Combine(ssh, n)).FirstOrDefault(System.IO.File.Exists);
        }

        protected override void EndProcessing() => ClosePool();
    }
}
