using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    public class DhcpPlannerTests
    {
        private static readonly IReadOnlyList<Ipv4Network> Subnets = new[] { Net("10.231.99.0/24") };

        internal static Ipv4Network Net(string cidr)
        {
            Assert.True(Ipv4Network.TryParse(cidr, out var n, out _));
            return n;
        }

        internal static DhcpReservation R(string mac, string ip, string? name = null, bool owned = true, string? description = null) =>
            new DhcpReservation(mac, DhcpFields.ParseAddress(ip), name, description, owned ? null : "10.231.99.0/24", owned);

        private static DhcpPlan Plan(IEnumerable<DhcpReservation> existing, DhcpBatch batch) =>
            DhcpPlanner.Plan(existing.ToList(), Subnets, batch, "test");

        [Fact]
        public void New_reservation_is_an_add_and_gets_its_subnet_as_scope()
        {
            var plan = Plan(new DhcpReservation[0], new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.20", "a") }));
            var line = Assert.Single(plan.Plan.Changes);
            Assert.Equal(ChangeAction.Add, line.Action);
            Assert.Equal("10.231.99.0/24", Assert.Single(plan.Owned).ScopeId);
        }

        [Fact]
        public void Same_content_twice_is_unchanged_and_has_no_changes()
        {
            var existing = new[] { R("02:de:31:00:00:c8", "10.231.99.20", "a") };
            var plan = Plan(existing, new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.20", "a") }));
            Assert.False(plan.Plan.HasChanges);
            Assert.Equal(ChangeAction.Unchanged, Assert.Single(plan.Plan.Changes).Action);
        }

        [Fact]
        public void Different_address_is_a_change()
        {
            var plan = Plan(new[] { R("02:de:31:00:00:c8", "10.231.99.20", "a") }, new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.21", "a") }));
            Assert.Equal(ChangeAction.Change, Assert.Single(plan.Plan.Changes).Action);
            Assert.Equal("10.231.99.21", Assert.Single(plan.Owned).IPAddress.ToString());
        }

        [Fact]
        public void Address_reserved_for_another_owned_mac_is_a_conflict()
        {
            var ex = Assert.Throws<ReservationConflictException>(() =>
                Plan(new[] { R("02:de:31:00:00:c8", "10.231.99.20") }, new DhcpBatch(new[] { R("02:de:31:00:00:c9", "10.231.99.20") })));
            Assert.Equal("ReservationConflict", ex.ErrorId);
            Assert.Contains("02:de:31:00:00:c8", ex.Message);
        }

        [Fact]
        public void Swapping_two_owned_addresses_in_one_batch_is_allowed()
        {
            var existing = new[] { R("02:de:31:00:00:c8", "10.231.99.20"), R("02:de:31:00:00:c9", "10.231.99.21") };
            var plan = Plan(existing, new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.21"), R("02:de:31:00:00:c9", "10.231.99.20") }));
            Assert.Equal(2, plan.Plan.Count(ChangeAction.Change));
        }

        [Fact]
        public void Address_outside_every_subnet_is_a_conflict_and_nothing_of_the_batch_is_planned()
        {
            var ex = Assert.Throws<ReservationConflictException>(() =>
                Plan(new DhcpReservation[0], new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.20"), R("02:de:31:00:00:c9", "192.168.1.5") })));
            Assert.Single(ex.Conflicts);
            Assert.Contains("outside every subnet", ex.Conflicts[0]);
        }

        [Fact]
        public void Clash_with_a_foreign_entry_on_mac_or_address_is_a_conflict()
        {
            var foreign = R("02:aa:00:00:00:01", "10.231.99.250", "handmade", owned: false);
            Assert.Throws<ReservationConflictException>(() => Plan(new[] { foreign }, new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.250") })));
            Assert.Throws<ReservationConflictException>(() => Plan(new[] { foreign }, new DhcpBatch(new[] { R("02:aa:00:00:00:01", "10.231.99.30") })));
        }

        [Fact]
        public void Foreign_entry_with_the_same_mac_and_address_is_left_alone_not_duplicated()
        {
            var foreign = R("02:aa:00:00:00:01", "10.231.99.250", "handmade", owned: false);
            var plan = Plan(new[] { foreign }, new DhcpBatch(new[] { R("02:aa:00:00:00:01", "10.231.99.250", "handmade") }));
            Assert.Empty(plan.Owned);
            Assert.False(plan.Plan.HasChanges);
        }

        [Fact]
        public void Removing_a_foreign_entry_is_a_conflict_and_removing_an_absent_one_is_unchanged()
        {
            var foreign = R("02:aa:00:00:00:01", "10.231.99.250", "handmade", owned: false);
            Assert.Throws<ReservationConflictException>(() => Plan(new[] { foreign }, new DhcpBatch(removals: new[] { "02:aa:00:00:00:01" })));
            var plan = Plan(new[] { foreign }, new DhcpBatch(removals: new[] { "02:de:31:00:00:c8" }));
            Assert.False(plan.Plan.HasChanges);
        }

        [Fact]
        public void Prune_removes_only_owned_entries_not_asked_for()
        {
            var existing = new[] { R("02:de:31:00:00:c8", "10.231.99.20"), R("02:de:31:00:00:c9", "10.231.99.21"), R("02:aa:00:00:00:01", "10.231.99.250", owned: false) };
            var plan = Plan(existing, new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.20") }, prune: true));
            var remove = Assert.Single(plan.Plan.Changes, c => c.Action == ChangeAction.Remove);
            Assert.Equal("02:de:31:00:00:c9", remove.Key);
            Assert.Equal(new[] { "02:de:31:00:00:c8" }, plan.Owned.Select(o => o.ClientId));
        }

        [Fact]
        public void Without_prune_stale_owned_entries_stay()
        {
            var existing = new[] { R("02:de:31:00:00:c8", "10.231.99.20"), R("02:de:31:00:00:c9", "10.231.99.21") };
            var plan = Plan(existing, new DhcpBatch(new[] { R("02:de:31:00:00:c8", "10.231.99.20") }));
            Assert.Equal(2, plan.Owned.Count);
        }

        [Fact]
        public void Scope_id_that_does_not_hold_the_address_is_a_conflict()
        {
            var want = new DhcpReservation("02:de:31:00:00:c8", DhcpFields.ParseAddress("10.231.99.20"), "a", null, "10.231.25.0");
            Assert.Throws<ReservationConflictException>(() => Plan(new DhcpReservation[0], new DhcpBatch(new[] { want })));
        }
    }
}
