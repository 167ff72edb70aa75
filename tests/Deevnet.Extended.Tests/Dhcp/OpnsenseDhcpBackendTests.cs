using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dhcp.OPNsense;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.OPNsense;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Tests.Http;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    public class OpnsenseDhcpBackendTests
    {
        private static readonly CancellationToken None = CancellationToken.None;

        private static OpnsenseDhcpBackend Backend(OpnsenseDouble api, string secret = OpnsenseDouble.Secret) =>
            new OpnsenseDhcpBackend(new OpnsenseClient(RestSpec.For(api.Endpoint.ToString()), OpnsenseDouble.Key, secret, NullOperationLog.Instance, TimeSpan.FromSeconds(10)));

        private static DhcpReservation Want(string mac, string ip, string name) => DhcpFields.Desired(mac, DhcpFields.ParseAddress(ip), name, null);

        [Fact]
        public async Task Reads_rows_and_tells_owned_from_foreign_by_description_prefix()
        {
            using var api = new OpnsenseDouble();
            api.Add("02:DE:20:00:00:CF", "10.20.99.40", "dv02nms001v01", "Deevnet.Extended - dv02nms001v01");
            var all = await Backend(api).ReadAsync(None);
            Assert.Equal(2, all.Count);
            var mine = Assert.Single(all, r => r.IsOwned);
            Assert.Equal("02:de:20:00:00:cf", mine.ClientId);
            Assert.Equal("10.20.99.0/24", mine.ScopeId);
            Assert.False(Assert.Single(all, r => !r.IsOwned).IsOwned);
        }

        [Fact]
        public async Task Batch_adds_changes_removes_with_uppercase_macs_and_one_reconfigure_and_a_second_run_changes_nothing()
        {
            using var api = new OpnsenseDouble();
            var stale = api.Add("02:DE:20:00:00:D0", "10.20.99.41", "old", "Deevnet.Extended - old");
            api.Add("02:DE:20:00:00:D1", "10.20.99.42", "moved", "Deevnet.Extended - moved");
            var backend = Backend(api);
            var batch = new DhcpBatch(new[] { Want("02:de:20:00:00:cf", "10.20.99.40", "new"), Want("02:de:20:00:00:d1", "10.20.99.43", "moved") }, prune: true);
            var plan = await backend.ApplyAsync(batch, None);
            Assert.Equal(1, plan.Plan.Count(ChangeAction.Add));
            Assert.Equal(1, plan.Plan.Count(ChangeAction.Change));
            Assert.Equal(1, plan.Plan.Count(ChangeAction.Remove));
            Assert.Equal(1, api.Reconfigures);
            Assert.False(api.Rows.ContainsKey(stale));
            Assert.Contains(api.Rows.Values, r => r["hw_address"] == "02:DE:20:00:00:CF" && r["description"] == "Deevnet.Extended - new");
            Assert.Contains(api.Rows.Values, r => r["hostname"] == "handmade");

            var again = await backend.ApplyAsync(batch, None);
            Assert.False(again.Plan.HasChanges);
            Assert.Equal(1, api.Reconfigures);
        }

        [Fact]
        public async Task Failure_mid_batch_undoes_the_calls_made_and_does_not_reconfigure()
        {
            using var api = new OpnsenseDouble();
            var before = api.Rows.ToDictionary(r => r.Key, r => string.Join("|", r.Value.OrderBy(kv => kv.Key)));
            api.FailWriteNumber = 2;
            var ex = await Assert.ThrowsAsync<DeevException>(() => Backend(api).ApplyAsync(
                new DhcpBatch(new[] { Want("02:de:20:00:00:cf", "10.20.99.40", "a"), Want("02:de:20:00:00:d0", "10.20.99.41", "b") }), None));
            Assert.Equal("BackendReloadFailed", ex.ErrorId);
            Assert.Contains("restored", ex.Message);
            Assert.Equal(0, api.Reconfigures);
            Assert.Equal(before.Keys.OrderBy(k => k), api.Rows.Keys.OrderBy(k => k));
        }

        [Fact]
        public async Task Conflict_with_the_foreign_row_applies_nothing()
        {
            using var api = new OpnsenseDouble();
            await Assert.ThrowsAsync<ReservationConflictException>(() => Backend(api).ApplyAsync(
                new DhcpBatch(new[] { Want("02:de:20:00:00:cf", "10.20.99.40", "a"), Want("02:de:20:00:00:d0", "10.20.99.250", "b") }), None));
            Assert.Single(api.Rows);
            Assert.DoesNotContain(api.Calls, c => c.Contains("add_reservation"));
        }

        [Fact]
        public async Task Moving_an_address_to_a_new_mac_deletes_the_old_row_before_adding_the_new_one()
        {
            // A host that gets a new VMID (so a new MAC) keeps its address: upstream refuses an add whose ip_address
            // another row still holds (KeaDhcpv4.xml UniqueConstraint), so the old row must go first.
            using var api = new OpnsenseDouble();
            var old = api.Add("02:DE:20:00:00:D0", "10.20.99.41", "web", "Deevnet.Extended - web");
            var plan = await Backend(api).ApplyAsync(new DhcpBatch(new[] { Want("02:de:20:00:00:e0", "10.20.99.41", "web") }, prune: true), None);
            Assert.Equal(1, plan.Plan.Count(ChangeAction.Add));
            Assert.Equal(1, plan.Plan.Count(ChangeAction.Remove));
            Assert.False(api.Rows.ContainsKey(old));
            Assert.Single(api.Rows.Values, r => r["ip_address"] == "10.20.99.41" && r["hw_address"] == "02:DE:20:00:00:E0");
            Assert.Equal(1, api.Reconfigures);
        }

        [Fact]
        public async Task Swapping_two_owned_addresses_succeeds_and_a_second_run_changes_nothing()
        {
            using var api = new OpnsenseDouble();
            api.Add("02:DE:20:00:00:D0", "10.20.99.41", "a", "Deevnet.Extended - a");
            api.Add("02:DE:20:00:00:D1", "10.20.99.42", "b", "Deevnet.Extended - b");
            var batch = new DhcpBatch(new[] { Want("02:de:20:00:00:d0", "10.20.99.42", "a"), Want("02:de:20:00:00:d1", "10.20.99.41", "b") });
            var backend = Backend(api);
            var plan = await backend.ApplyAsync(batch, None);
            Assert.Equal(2, plan.Plan.Count(ChangeAction.Change));
            Assert.Single(api.Rows.Values, r => r["hw_address"] == "02:DE:20:00:00:D0" && r["ip_address"] == "10.20.99.42");
            Assert.Single(api.Rows.Values, r => r["hw_address"] == "02:DE:20:00:00:D1" && r["ip_address"] == "10.20.99.41");
            Assert.False((await backend.ApplyAsync(batch, None)).Plan.HasChanges);
        }

        [Fact]
        public async Task A_failed_swap_is_undone_to_the_original_rows_exactly()
        {
            using var api = new OpnsenseDouble();
            api.Add("02:DE:20:00:00:D0", "10.20.99.41", "a", "Deevnet.Extended - a");
            api.Add("02:DE:20:00:00:D1", "10.20.99.42", "b", "Deevnet.Extended - b");
            api.Add("02:DE:20:00:00:D2", "10.20.99.43", "c", "Deevnet.Extended - c");
            var before = api.Content();
            api.FailWriteNumber = 4; // after both deletes of the swap and the set of c, the first re-add fails
            var ex = await Assert.ThrowsAsync<DeevException>(() => Backend(api).ApplyAsync(new DhcpBatch(new[]
            {
                Want("02:de:20:00:00:d0", "10.20.99.42", "a"), Want("02:de:20:00:00:d1", "10.20.99.41", "b"), Want("02:de:20:00:00:d2", "10.20.99.44", "c"),
            }), None));
            Assert.Equal("BackendReloadFailed", ex.ErrorId);
            Assert.Contains("restored", ex.Message);
            Assert.Equal(before, api.Content());
            Assert.Equal(0, api.Reconfigures);
        }

        [Fact]
        public async Task Undo_never_re_creates_a_row_someone_else_deleted_meanwhile()
        {
            // Upstream setBase on an unknown uuid creates the row ("upsert"), so undoing the set of a row that is gone by
            // then must not call set: it is checked with get_reservation first and left deleted.
            using var api = new OpnsenseDouble();
            var changed = api.Add("02:DE:20:00:00:D0", "10.20.99.41", "a", "Deevnet.Extended - a");
            api.AfterWrite = path => { if (path.Contains("set_reservation")) api.Rows.Remove(changed); };
            api.FailWriteNumber = 2; // the add after the set
            var ex = await Assert.ThrowsAsync<DeevException>(() => Backend(api).ApplyAsync(
                new DhcpBatch(new[] { Want("02:de:20:00:00:d0", "10.20.99.45", "a"), Want("02:de:20:00:00:d9", "10.20.99.46", "new") }), None));
            Assert.Equal("BackendReloadFailed", ex.ErrorId);
            Assert.Contains("Restoring the previous configuration failed", ex.Message); // said, not hidden
            Assert.False(api.Rows.ContainsKey(changed));
            Assert.Single(api.Rows); // the foreign row only
            Assert.Contains(api.Calls, c => c.Contains("get_reservation/" + changed));
        }

        [Fact]
        public async Task A_description_longer_than_upstream_keeps_is_refused_before_any_call()
        {
            using var api = new OpnsenseDouble();
            var want = DhcpFields.Desired("02:de:20:00:00:cf", DhcpFields.ParseAddress("10.20.99.40"), "a", new string('\u00e9', 150)); // 300 bytes
            var ex = await Assert.ThrowsAsync<DeevException>(() => Backend(api).ApplyAsync(new DhcpBatch(new[] { want }), None));
            Assert.Equal(DhcpErrors.ReservationInvalid, ex.ErrorId);
            Assert.Contains("255 bytes", ex.Message);
            Assert.DoesNotContain(api.Calls, c => c.Contains("add_reservation"));
        }

        [Fact]
        public async Task Wrong_secret_is_an_authentication_error_that_does_not_show_the_secret()
        {
            using var api = new OpnsenseDouble();
            var ex = await Assert.ThrowsAsync<DeevException>(() => Backend(api, "not-the-secret").ReadAsync(None));
            Assert.Equal("AuthenticationFailed", ex.ErrorId);
            Assert.DoesNotContain("not-the-secret", ex.Message);
        }
    }
}
