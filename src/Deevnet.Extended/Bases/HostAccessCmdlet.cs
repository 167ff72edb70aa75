using System;
using System.Collections.Generic;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended
{
    /// <summary>
    /// Base of the cmdlets that reach a host themselves (Get-DeevHostKey, Invoke-DeevHostCommand): a host is named
    /// by its tier name (<c>-HostName</c>, <c>-TierPath</c>) or given directly as <c>-Via ssh://user@host[:port]</c>.
    /// </summary>
    public abstract class HostAccessCmdlet : TierCmdlet
    {
        public const string HostNameSet = "HostName";
        public const string ViaSet = "Via";

        /// <summary>Where to connect: <c>ssh://user@host[:port]</c>.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ViaSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ViaCompleter))]
        public string Via { get; set; } = string.Empty;

        /// <summary>known_hosts file. Default: the tier's <c>access.knownHosts</c>, else <c>~/.ssh/known_hosts</c>.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KnownHostsPath { get; set; }

        /// <summary>Parses <see cref="Via"/>; a bad value is a terminating <c>ViaInvalid</c>.</summary>
        protected Via ParseVia()
        {
            if (!Core.Transport.Via.TryParse(Via, out var via, out var error))
            {
                ThrowTerminatingError(NewError("ViaInvalid", ErrorCategory.InvalidArgument, $"-Via {error}.", Via));
            }
            return via!;
        }

        /// <summary>How a tier host is reached (its via and the tier's access settings), or null when no tier is
        /// given (-TierPath or $env:DEEV_TIER) or the tier has no such host: the caller decides what that means.</summary>
        protected (Via Via, AccessSettings Access)? ResolveTierHost(string hostName)
        {
            if (string.IsNullOrEmpty(TierPath) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TierEnvironmentVariable))) return null;
            var tier = LoadTier();
            var host = tier.FindHost(hostName);
            if (host == null) return null;
            return (tier.ViaOf(host), tier.Access);
        }

        /// <summary>
        /// Runs <paramref name="act"/> (label, host, port, known_hosts file) for the SSH endpoint of each host the command
        /// names: the <c>-Via</c> as given, or each of <paramref name="hostNames"/> (a tier host's via address and port,
        /// unless <c>-Port</c> was given; any other name as it is, on <paramref name="port"/>). A failure for one host is
        /// its own non-terminating error; a local via, which has no host key, stops the command.
        /// </summary>
        protected void ForEachKeyEndpoint(IEnumerable<string> hostNames, int port, Action<string, string, int, string> act)
        {
            if (ParameterSetName == ViaSet)
            {
                var via = ParseVia();
                if (via.IsLocal) ThrowTerminatingError(NewError("ViaInvalid", ErrorCategory.InvalidArgument, "-Via local has no host key; give an ssh:// via.", Via));
                act(via.Host, via.Host, via.Port, ResolveKnownHostsPath(null));
                return;
            }
            foreach (var name in hostNames)
            {
                try
                {
                    var tierHost = ResolveTierHost(name);
                    var remote = tierHost?.Via.IsLocal == false;
                    var host = remote ? tierHost!.Value.Via.Host : name;
                    var endpointPort = remote && !MyInvocation.BoundParameters.ContainsKey("Port") ? tierHost!.Value.Via.Port : port;
                    act(name, host, endpointPort, ResolveKnownHostsPath(tierHost?.Access));
                }
                catch (DeevException ex)
                {
                    WriteDeevError(ex);
                }
            }
        }

        /// <summary>The known_hosts file to check: -KnownHostsPath, the tier's, or ~/.ssh/known_hosts.</summary>
        protected string ResolveKnownHostsPath(AccessSettings? access) =>
            KnownHostsPath != null ? GetUnresolvedProviderPathFromPSPath(KnownHostsPath) : access?.KnownHostsFile ?? KnownHostsFile.DefaultPath;

        /// <summary>A Core failure for one item: written as a non-terminating error with its id.</summary>
        protected void WriteItemError(Exception exception, string target)
        {
            if (exception is DeevException deev) WriteDeevError(deev);
            else WriteError(new ErrorRecord(exception, "HostAccessFailed", ErrorCategory.NotSpecified, target));
        }
    }
}
