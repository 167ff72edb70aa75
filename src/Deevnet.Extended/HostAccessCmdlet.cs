using System;
using System.Management.Automation;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended
{
    /// <summary>
    /// Base of the cmdlets that reach a host themselves (Get-DeevHostKey, Invoke-DeevHostCommand): a host is named
    /// by its tier name (<c>-HostName</c>, <c>-TierPath</c>) or given directly as <c>-Via ssh://user@host[:port]</c>.
    /// </summary>
    public abstract class HostAccessCmdlet : DeevCmdlet
    {
        public const string HostNameSet = "HostName";
        public const string ViaSet = "Via";

        /// <summary>Where to connect: <c>ssh://user@host[:port]</c>.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ViaSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Via { get; set; } = string.Empty;

        /// <summary>The tier file that names the host. Default: <c>$env:DEEV_TIER</c>.</summary>
        [Parameter(ParameterSetName = HostNameSet, ValueFromPipelineByPropertyName = true)]
        [Alias("Tier")]
        [ValidateNotNullOrEmpty]
        public string? TierPath { get; set; }

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

        /// <summary>
        /// How a tier host is reached, or null when no tier is given.
        /// INTEGRATION SEAM: the tier loader (TierLoader.Load, SiteTier.FindHost/ViaOf/Access) lives on another branch.
        /// When it is on main, derive from TierCmdlet instead of declaring -TierPath here, and replace the throw below with:
        /// <code>
        /// var tier = LoadTier();
        /// var host = tier.FindHost(hostName);
        /// if (host == null) return null;                        // not a tier host: the caller decides
        /// return (tier.ViaOf(host), tier.Access);
        /// </code>
        /// </summary>
        protected (Via Via, AccessSettings Access)? ResolveTierHost(string hostName)
        {
            if (string.IsNullOrEmpty(TierPath)) return null;   // $env:DEEV_TIER is honoured once the loader is wired
            throw new DeevException("TierLookupUnavailable", DeevErrorKind.InvalidOperation,
                $"Looking up '{hostName}' in a tier file is not available in this build; use -Via ssh://user@host[:port].", hostName);
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
