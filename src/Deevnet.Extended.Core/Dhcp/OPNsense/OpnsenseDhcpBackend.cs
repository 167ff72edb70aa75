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

        private sealed class Row
        {
            public Row(string uuid, DhcpReservation reservation, string subnetUuid)
            {
                Uuid = uuid;
                Reservation = reservation;
                SubnetUuid = subnetUuid;
            }

            public string Uuid { get; }
            public DhcpReservation Reservation { get; }
            public string SubnetUuid { get; }
        }

        private sealed class State
        {
            public Dictionary<string, Ipv4Network> Subnets { get; } = new Dictionary<string, Ipv4Network>(StringComparer.Ordinal);
            public List<Row> Rows { get; } = new List<Row>();
        }

        public async Task<IReadOnlyList<DhcpReservation>> ReadAsync(CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return state.Rows.Select(r => r.Reservation).OrderBy(r => r.ClientId, StringComparer.Ordinal).ThenBy(r => r.IsOwned ? 0 : 1).ToList();
        }

        public async Task<DhcpPlan> PlanAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return DhcpPlanner.Plan(state.Rows.Select(r => r.Reservation).ToList(), state.Subnets.Values.ToList(), batch, Server);
        }

        public async Task<DhcpPlan> ApplyAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            var plan = DhcpPlanner.Plan(state.Rows.Select(r => r.Reservation).ToList(), state.Subnets.Values.ToList(), batch, Server);
            if (!plan.Plan.HasChanges) return plan;

            var owned = state.Rows.Where(r => r.Reservation.IsOwned).GroupBy(r => r.Reservation.ClientId).ToDictionary(g => g.Key, g => g.First());
            var wanted = plan.Owned.ToDictionary(r => r.ClientId);
            var undo = new Stack<Func<Task>>();
            try
            {
                foreach (var change in plan.Plan.Changes)
                {
                    var mac = change.Key;
                    switch (change.Action)
                    {
                        case Plans.ChangeAction.Add:
                        {
                            var uuid = await AddAsync(wanted[mac], state, cancellationToken).ConfigureAwait(false);
                            undo.Push(() => DeleteAsync(uuid, CancellationToken.None));
                            break;
                        }
                        case Plans.ChangeAction.Change:
                        {
                            var row = owned[mac];
                            await SetAsync(row.Uuid, wanted[mac], state, cancellationToken).ConfigureAwait(false);
                            undo.Push(() => SetAsync(row.Uuid, row.Reservation, state, CancellationToken.None));
                            break;
                        }
                        case Plans.ChangeAction.Remove:
                        {
                            var row = owned[mac];
                            await DeleteAsync(row.Uuid, cancellationToken).ConfigureAwait(false);
                            undo.Push(async () => await AddAsync(row.Reservation, state, CancellationToken.None).ConfigureAwait(false));
                            break;
                        }
                    }
                }
                await _api.ReconfigureAsync("kea", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DeevException || ex is OperationCanceledException)
            {
                var restored = await UndoAsync(undo).ConfigureAwait(false);
                if (ex is OperationCanceledException) throw;
                throw DhcpErrors.Reload(Server, ex.Message, restored);
            }
            _log.Verbose($"{Server}: {plan.Plan.Summary}; Kea reconfigured.");
            return plan;
        }

        private async Task<bool> UndoAsync(Stack<Func<Task>> undo)
        {
            var ok = true;
            while (undo.Count > 0)
            {
                try { await undo.Pop()().ConfigureAwait(false); }
                catch (DeevException ex) { ok = false; _log.Warning($"{Server}: undoing a step failed: {ex.Message}"); }
            }
            if (ok) _log.Verbose($"{Server}: every call of the failed batch was undone; Kea was not reconfigured.");
            return ok;
        }

        private async Task<State> ReadStateAsync(CancellationToken cancellationToken)
        {
            var state = new State();
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
                var reservation = new DhcpReservation(mac, ip!, string.IsNullOrEmpty(hostname) ? null : hostname,
                    owned ? (own == hostname || own == mac ? null : own) : description, scope, owned, Server,
                    owned ? null : $"OPNsense reservation {uuid}");
                state.Rows.Add(new Row(uuid, reservation, subnetUuid));
            }
            return state;
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

        private Task<string> AddAsync(DhcpReservation r, State state, CancellationToken cancellationToken) =>
            _api.AddAsync("kea/dhcpv4/add_reservation", Body(r, state), cancellationToken);

        private Task SetAsync(string uuid, DhcpReservation r, State state, CancellationToken cancellationToken) =>
            _api.SetAsync("kea/dhcpv4/set_reservation", uuid, Body(r, state), cancellationToken);

        private Task DeleteAsync(string uuid, CancellationToken cancellationToken) =>
            _api.DeleteAsync("kea/dhcpv4/del_reservation", uuid, cancellationToken);
    }
}
