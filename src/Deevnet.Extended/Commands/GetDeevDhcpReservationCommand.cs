using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Lists the reservations on the tier's DHCP server: the module's own and, marked <c>IsOwned = false</c>, those
    /// written by others. The server is read once per invocation, after all pipeline input is collected.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "DeevDhcpReservation")]
    [OutputType(typeof(DhcpReservation))]
    public sealed class GetDeevDhcpReservationCommand : DhcpCmdlet
    {
        private readonly Dictionary<string, (SiteTier Tier, List<Func<DhcpReservation, bool>> Filters)> _queries =
            new Dictionary<string, (SiteTier, List<Func<DhcpReservation, bool>>)>(StringComparer.Ordinal);

        /// <summary>Only these MACs (any notation).</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("MacAddress")]
        public string[]? ClientId { get; set; }

        /// <summary>Only these reserved addresses.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("ReservedIP")]
        public string[]? IPAddress { get; set; }

        /// <summary>Only these host names; wildcards allowed.</summary>
        [Parameter]
        [Alias("HostName")]
        [SupportsWildcards]
        public string[]? Name { get; set; }

        /// <summary>Only reservations the module owns.</summary>
        [Parameter]
        public SwitchParameter Owned { get; set; }

        protected override void ProcessRecord()
        {
            var tier = CurrentTier();
            if (!_queries.TryGetValue(tier.SourcePath, out var query)) _queries[tier.SourcePath] = query = (tier, new List<Func<DhcpReservation, bool>>());
            HashSet<string>? macs;
            try
            {
                macs = ClientId is { Length: > 0 } ? new HashSet<string>(ClientId.Where(c => !string.IsNullOrEmpty(c)).Select(DhcpFields.NormalizeMac)) : null;
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return;
            }
            var addresses = IPAddress is { Length: > 0 } ? new HashSet<string>(IPAddress.Select(a => a.Trim())) : null;
            var names = Name is { Length: > 0 } ? Name : null;
            var owned = Owned.IsPresent;
            query.Filters.Add(r => (macs == null || macs.Contains(r.ClientId)) && (addresses == null || addresses.Contains(r.IPAddress.ToString()))
                                   && Matches(r.Name, names) && (!owned || r.IsOwned));
        }

        protected override void EndProcessing()
        {
            try
            {
                foreach (var (tier, filters) in _queries.Values)
                {
                    var backend = BackendFor(tier);
                    IReadOnlyList<DhcpReservation> all;
                    try
                    {
                        all = RunAsync(token => backend.ReadAsync(token));
                    }
                    catch (DeevException ex)
                    {
                        WriteDeevError(ex);
                        continue;
                    }
                    WriteObject(all.Where(r => filters.Any(f => f(r))).Select(r => r.WithTierPath(tier.SourcePath)), true);
                }
            }
            finally
            {
                ClosePool();
            }
        }
    }
}
