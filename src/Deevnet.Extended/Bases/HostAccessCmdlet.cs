using System;
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
