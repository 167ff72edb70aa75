using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.OPNsense;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dhcp.OPNsense
{
    /// <summary>
    /// OPNsense's Kea DHCPv4 through its REST API (production Deevnet), spoken by <see cref="OpnsenseClient"/>:
    /// <c>kea/dhcpv4/search_subnet</c>, <c>search_reservation</c>, <c>add_reservation</c>, <c>set_reservation/&lt;uuid&gt;</c>,
    /// <c>del_reservation/&lt;uuid&gt;</c>, then one <c>kea/service/reconfigure</c>. Rows whose description starts with
    /// <see cref="OpnsenseClient.OwnerPrefix"/> are the module's; the Ansible roles' and the Deevnet API's rows are listed and
    /// left alone. MACs go UPPERCASE on the wire. The API has no transaction: when a call fails mid-batch, the calls already
    /// made are undone before the error.
    /// </summary>
    public sealed class OpnsenseDhcpBackend : IDhcpBackend, IDisposable
    {
        private const string OwnerPrefix = OpnsenseClient.OwnerPrefix;
        private static readonly OpnsenseItem Reservation = OpnsenseItem.Snake("kea/dhcpv4", "reservation");
        private readonly OpnsenseClient _api;
        private readonly IOperationLog _log;

        /// <summary>The back end over <paramref name="api"/>, which it owns (and disposes).</summary>
        public OpnsenseDhcpBackend(OpnsenseClient api, IOperationLog? log = null)
        {
            _api = api;
            _log = log ?? NullOperationLog.Instance;
        }

        public string Server => _api.Server;

        public void Dispose() => _api.Dispose();

        private sealed record Row(string Uuid, DhcpReservation Reservation, string SubnetUuid);

        private sealed record State(Dictionary<string, Ipv4Network> Subnets, List<Row> Rows);

        public async Task<IReadOnlyList<DhcpReservation>> ReadAsync(CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return state.Rows.Select(r => r.Reservation).OrderBy(r => r.ClientId, StringComparer.Ordinal).ThenBy(r => r.IsOwned ? 0 : 1).ToList();
        }

        public async Task<DhcpPlan> PlanAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return RefuseUnsendable(DhcpPlanner.Plan(state.Rows.Select(r => r.Reservation).ToList(), state.Subnets.Values.ToList(), batch, Server));
        }

        public async Task<DhcpPlan> ApplyAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            var plan = RefuseUnsendable(DhcpPlanner.Plan(state.Rows.Select(r => r.Reservation).ToList(), state.Subnets.Values.ToList(), batch, Server));
            if (!plan.Plan.HasChanges) return plan;

            var owned = state.Rows.Where(r => r.Reservation.IsOwned).GroupBy(r => r.Reservation.ClientId).ToDictionary(g => g.Key, g => g.First());
            var wanted = plan.Owned.ToDictionary(r => r.ClientId);
            var calls = new OpnsenseBatch(_api);
            try
            {
                foreach (var step in Order(plan.Plan.Changes, owned, wanted))
                {
                    if (step.Action == Plans.ChangeAction.Remove)
                        await calls.DeleteAsync(Reservation, owned[step.Key].Uuid, Body(owned[step.Key].Reservation, state), cancellationToken).ConfigureAwait(false);
                    else if (step.Action == Plans.ChangeAction.Change)
                        await calls.SetAsync(Reservation, owned[step.Key].Uuid, Body(wanted[step.Key], state), Body(owned[step.Key].Reservation, state), cancellationToken).ConfigureAwait(false);
                    else
                        await calls.AddAsync(Reservation, Body(wanted[step.Key], state), cancellationToken).ConfigureAwait(false);
                }
                await _api.ReconfigureAsync("kea", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DeevException || ex is OperationCanceledException)
            {
                var restored = await calls.UndoAsync(_log).ConfigureAwait(false);
                if (restored) _log.Verbose($"{Server}: every call of the failed batch was undone; Kea was not reconfigured.");
                if (ex is OperationCanceledException) throw;
                throw DhcpErrors.Reload(Server, ex.Message, restored);
            }
            _log.Verbose($"{Server}: {plan.Plan.Summary}; Kea reconfigured.");
            return plan;
        }

        private sealed record Step(Plans.ChangeAction Action, string Key);

        /// <summary>
        /// The calls of a plan in an order upstream accepts. Every single add/set is validated against the whole model
        /// (<c>ApiMutableModelControllerBase::addBase</c>/<c>setBase</c> → <c>validate</c>): <c>ip_address</c> unique across all
        /// reservations and <c>hw_address</c> unique per subnet, case-insensitive (<c>KeaDhcpv4.xml</c> UniqueConstraint),
        /// the address inside its subnet (<c>KeaDhcpv4::performValidation</c>). So removes run first and free their values;
        /// a change whose new address another owned row still holds (a swap, or a chain) cannot be set in place: it is
        /// deleted with the removes and added back with the adds. Then the other changes, then the adds.
        /// </summary>
        private static IEnumerable<Step> Order(IEnumerable<Plans.PlannedChange> changes, Dictionary<string, Row> owned, Dictionary<string, DhcpReservation> wanted)
        {
            var list = changes.Where(c => c.Action != Plans.ChangeAction.Unchanged).ToList();
            var removed = list.Where(c => c.Action == Plans.ChangeAction.Remove).Select(c => c.Key).ToList();
            var held = owned.Values.Where(r => !removed.Contains(r.Reservation.ClientId)).ToList();
            // Owned rows are keyed by MAC, so only the address can collide between two of them (a foreign row that
            // holds a wanted address or MAC is a conflict the planner already refused).
            bool Blocked(string key) => held.Any(r => r.Reservation.ClientId != key && r.Reservation.IPAddress.Equals(wanted[key].IPAddress));
            var moved = list.Where(c => c.Action == Plans.ChangeAction.Change && Blocked(c.Key)).Select(c => c.Key).ToList();
            return removed.Concat(moved).Select(k => new Step(Plans.ChangeAction.Remove, k))
                .Concat(list.Where(c => c.Action == Plans.ChangeAction.Change && !moved.Contains(c.Key)).Select(c => new Step(c.Action, c.Key)))
                .Concat(list.Where(c => c.Action == Plans.ChangeAction.Add).Select(c => c.Key).Concat(moved).Select(k => new Step(Plans.ChangeAction.Add, k)));
        }

        private async Task<State> ReadStateAsync(CancellationToken cancellationToken)
        {
            var state = new State(new Dictionary<string, Ipv4Network>(StringComparer.Ordinal), new List<Row>());
            foreach (var row in await _api.SearchAsync("kea/dhcpv4/search_subnet", cancellationToken).ConfigureAwait(false))
            {
                var uuid = Json.Str(row, "uuid");
                var cidr = Json.Str(row, "subnet");
                if (uuid == null || cidr == null || !Ipv4Network.TryParse(cidr.Trim(), out var net, out _))
                    throw DhcpErrors.Response(Server, $"search_subnet returned a row without a valid uuid/subnet: {row.ToJsonString(JsonText.Options)}");
                state.Subnets[uuid] = net;
            }
            foreach (var row in await _api.SearchAsync("kea/dhcpv4/search_reservation", cancellationToken).ConfigureAwait(false))
            {
                var uuid = Json.Str(row, "uuid");
                var hw = Json.Str(row, "hw_address");
                var ipText = Json.Str(row, "ip_address");
                if (uuid == null || hw == null || ipText == null || !Ipv4Network.TryParseAddress(ipText.Trim(), out var ip))
                {
                    _log.Verbose($"{Server}: skipping a reservation row without uuid, MAC or address: {row.ToJsonString(JsonText.Options)}");
                    continue;
                }
                // search rows show the subnet as its uuid or as its display value (the CIDR); accept both.
                var subnetField = Json.Str(row, "subnet") ?? "";
                var subnetUuid = state.Subnets.ContainsKey(subnetField) ? subnetField
                    : state.Subnets.FirstOrDefault(s => s.Value.ToString() == subnetField.Trim()).Key ?? "";
                var scope = subnetUuid.Length > 0 ? state.Subnets[subnetUuid].ToString() : null;
                var description = Json.Str(row, "description") ?? "";
                var owned = description.StartsWith(OwnerPrefix, StringComparison.Ordinal);
                var hostname = Json.Str(row, "hostname");
                string mac;
                try { mac = DhcpFields.NormalizeMac(hw); }
                catch (DeevException) { mac = "hw_address:" + hw; owned = false; }
                var own = owned ? description.Substring(OwnerPrefix.Length) : null;
                var reservation = DhcpFields.FromServer(new DhcpReservation(mac, ip!, string.IsNullOrEmpty(hostname) ? null : hostname,
                    owned ? (own == hostname || own == mac ? null : own) : description, scope, owned, Server,
                    owned ? null : $"OPNsense reservation {uuid}"));
                state.Rows.Add(new Row(uuid, reservation, subnetUuid));
            }
            return state;
        }

        /// <summary>
        /// Upstream's description is a DescriptionField (<c>DescriptionField::getValidators</c>: at most 255 bytes), so a
        /// long non-ASCII description with the owner prefix would be refused mid-batch; it is refused before any call.
        /// </summary>
        private static DhcpPlan RefuseUnsendable(DhcpPlan plan)
        {
            foreach (var r in plan.Owned)
            {
                var description = OwnedDescription(r);
                if (System.Text.Encoding.UTF8.GetByteCount(description) > 255)
                    throw DhcpErrors.Invalid($"{r.ClientId}: OPNsense keeps at most 255 bytes of description, and '{description}' is longer.", r.Description);
            }
            return plan;
        }

        private static string OwnedDescription(DhcpReservation r) => OwnerPrefix + (r.Description ?? r.Name ?? r.ClientId);

        private object Body(DhcpReservation r, State state)
        {
            var subnet = state.Subnets.FirstOrDefault(s => s.Value.ToString() == r.ScopeId).Key
                         ?? throw DhcpErrors.Response(Server, $"no subnet {r.ScopeId} on the router for {r.ClientId}.");
            var reservation = new
            {
                subnet,
                ip_address = r.IPAddress.ToString(),
                hw_address = r.ClientId.ToUpperInvariant(),
                hostname = r.Name ?? "",
                description = OwnedDescription(r),
            };
            return new { reservation };
        }
    }
}
