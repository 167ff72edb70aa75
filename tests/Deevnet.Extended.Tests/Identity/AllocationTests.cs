using System.IO;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Identity
{
    public class AllocationTests
    {
        private static SiteTier Tier(string text, TierTestFiles files) => TierLoader.Parse(files.Write(text), text);

        private static void Allocate(SiteTier tier, params string[] names) =>
            IdentityResolver.Apply(new IdentityResolver(tier).PlanAllocation(names.Length == 0 ? null : names));

        [Fact]
        public void CompanionPathSitsBesideTheTierFile()
        {
            Assert.Equal("/x/mobile.identity.yaml", IdentityFile.PathFor("/x/mobile.tier.yaml"));
            Assert.Equal("/x/mobile.identity.yaml", IdentityFile.PathFor("/x/mobile.yaml"));
        }

        [Fact]
        public void ReadingNeverWrites()
        {
            using var files = new TierTestFiles();
            var tier = Tier(TierTestFiles.Valid, files);
            var ids = new IdentityResolver(tier).ResolveAll();
            Assert.Equal(IdentitySource.Fixed, ids[0].Source);
            Assert.Equal("02:de:20:00:00:cf", ids[0].MacAddress);
            Assert.Equal(IdentitySource.Unallocated, ids[1].Source);
            Assert.Null(ids[1].VmId);
            Assert.False(File.Exists(Path.Combine(files.Folder, "t.identity.yaml")));
        }

        [Fact]
        public void AllocatesTheLowestFreeVmIdSkippingFixedOnes()
        {
            using var files = new TierTestFiles();
            var text = TierTestFiles.Valid.Replace("vmid: 207", "vmid: 200");
            var tier = Tier(text, files);
            var plan = new IdentityResolver(tier).PlanAllocation();
            Assert.Equal("allocate h2: vmid 201, mac 02:de:20:00:00:c9", plan.Describe());
            var added = Assert.Single(plan.Added);
            Assert.Equal(("h2", 201, "02:de:20:00:00:c9"), (added.HostName, added.VmId!.Value, added.MacAddress!));
            IdentityResolver.Apply(plan);

            var file = File.ReadAllText(Path.Combine(files.Folder, "t.identity.yaml"));
            Assert.StartsWith(IdentityFile.Marker + "\n", file);
            Assert.Contains("  h2: { vmid: 201, mac: \"02:de:20:00:00:c9\" }\n", file);
            Assert.Equal(text, File.ReadAllText(tier.SourcePath)); // the user's file is untouched
            Assert.Empty(Directory.GetFiles(files.Folder, "*.tmp"));
        }

        [Fact]
        public void A_fixed_vmid_that_another_host_was_allocated_is_warned_about_and_moves_nothing()
        {
            using var files = new TierTestFiles();
            Allocate(Tier(TierTestFiles.Valid, files));   // h2 gets 200
            var clash = Tier(TierTestFiles.Valid.Replace("vmid: 207", "vmid: 200"), files);
            var plan = new IdentityResolver(clash).PlanAllocation();
            var warning = Assert.Single(plan.Warnings);
            Assert.Contains("h1 has the fixed VMID 200 in the tier", warning);
            Assert.Contains("already allocates VMID 200 to h2: both would have MAC 02:de:20:00:00:c8", warning);
            Assert.False(plan.HasChanges);   // h2 keeps its VMID: its VM may exist
            Assert.Empty(new IdentityResolver(Tier(TierTestFiles.Valid, files)).PlanAllocation().Warnings);
        }

        [Fact]
        public void AllocationsAreStableAndNewHostsGetTheNextFreeVmId()
        {
            using var files = new TierTestFiles();
            var tier = Tier(TierTestFiles.Valid, files);
            Allocate(tier);
            var companion = Path.Combine(files.Folder, "t.identity.yaml");
            var firstRun = File.ReadAllText(companion);

            // A rerun changes nothing.
            var again = new IdentityResolver(tier).PlanAllocation();
            Assert.False(again.HasChanges);
            Assert.Equal(firstRun, again.Text);

            // A host added before h2 in the file does not move h2; it takes the next free VMID.
            var grown = Tier(TierTestFiles.Valid.Replace("  h2: {", "  h0: { segment: mgmt, ip: 10.1.99.9 }\n  h2: {"), files);
            Allocate(grown);
            var ids = new IdentityResolver(grown).ResolveAll().ToDictionary(i => i.HostName, i => i.VmId);
            Assert.Equal(200, ids["h2"]);
            Assert.Equal(201, ids["h0"]);
        }

        [Fact]
        public void OnlyTheNamedHostsAreAllocated()
        {
            using var files = new TierTestFiles();
            var tier = Tier(TierTestFiles.Valid.Replace("  h2: {", "  h3: { segment: mgmt, ip: 10.1.99.13 }\n  h2: {"), files);
            var plan = new IdentityResolver(tier).PlanAllocation(new[] { "h2" });
            Assert.Equal(new[] { "h2" }, plan.Added.Select(a => a.HostName));
            Assert.Equal(200, plan.Added[0].VmId);
        }

        [Fact]
        public void ThousandHostsGetDistinctVmIdsInOrder()
        {
            using var files = new TierTestFiles();
            var sb = new StringBuilder();
            sb.Append("site: { name: big, domain: big.test, macNamespace: \"02:de:30\", vmidRange: [1000, 2999] }\n");
            sb.Append("segments:\n  mgmt: { subnet: 10.9.0.0/16, gateway: 10.9.0.1, addressing: reservation }\nhosts:\n");
            for (var i = 0; i < 1000; i++) sb.Append($"  h{i:d4}: {{ segment: mgmt, ip: 10.9.{i / 200 + 1}.{i % 200 + 10}{(i == 500 ? ", vmid: 1001" : "")} }}\n");
            sb.Append("services: {}\n");
            var tier = Tier(sb.ToString(), files);
            Allocate(tier);
            var ids = new IdentityResolver(tier).ResolveAll();
            Assert.Equal(1000, ids.Select(i => i.VmId).Distinct().Count());
            Assert.Equal(1000, ids.Select(i => i.MacAddress).Distinct().Count());
            Assert.Equal(1000, ids[0].VmId);
            Assert.Equal(1002, ids[1].VmId); // 1001 is h0500's fixed VMID
            Assert.Equal(1001, ids[500].VmId);
            Assert.Equal(1999, ids.Max(i => i.VmId)); // dense: no gaps, no wrap-around
            Assert.Empty(IdentityAudit.Run(tier));
        }

        [Fact]
        public void ExhaustedRangeIsAnErrorAndWritesNothing()
        {
            using var files = new TierTestFiles();
            var text = TierTestFiles.Valid.Replace("vmidRange: [200, 299]", "vmidRange: [207, 207]")
                .Replace("  h2: {", "  h3: { segment: mgmt, ip: 10.1.99.13 }\n  h2: {");
            var tier = Tier(text, files);
            var ex = Assert.Throws<DeevException>(() => new IdentityResolver(tier).PlanAllocation());
            Assert.Equal("VmIdRangeExhausted", ex.ErrorId);
            Assert.Equal("site.vmidRange [207, 207] has no free VMID left for 2 host(s): h3, h2. Nothing was written.", ex.Message);
            Assert.False(File.Exists(Path.Combine(files.Folder, "t.identity.yaml")));
        }

        [Fact]
        public void PruneDropsEntriesOfHostsThatLeftTheTier()
        {
            using var files = new TierTestFiles();
            var tier = Tier(TierTestFiles.Valid, files);
            Allocate(tier);
            var shrunk = Tier(TierTestFiles.Valid.Replace("  h2: { segment: mgmt, ip: 10.1.99.11, hypervisor: hv }\n", "")
                .Replace("  s2: { class: access, host: h2, backup: { none: \"stateless\" } }\n", ""), files);
            Assert.False(new IdentityResolver(shrunk).PlanAllocation().HasChanges); // kept without -Prune: the VM may still exist
            var plan = new IdentityResolver(shrunk).PlanAllocation(prune: true);
            Assert.Equal(new[] { "h2" }, plan.Pruned);
            IdentityResolver.Apply(plan);
            Assert.Empty(IdentityFile.Read(Path.Combine(files.Folder, "t.identity.yaml")).Entries);
        }
    }
}
