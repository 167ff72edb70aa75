using System.IO;
using System.Linq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Identity
{
    public class AuditTests
    {
        private static (SiteTier Tier, string Companion) Setup(TierTestFiles files, string companionHosts, string? tierText = null)
        {
            var text = tierText ?? TierTestFiles.Valid;
            var tier = TierLoader.Parse(files.Write(text), text);
            var companion = Path.Combine(files.Folder, "t.identity.yaml");
            File.WriteAllText(companion, IdentityFile.Marker + "\nhosts:\n" + companionHosts);
            return (tier, companion);
        }

        [Fact]
        public void CleanAllocationHasNoFindings()
        {
            using var files = new TierTestFiles();
            var (tier, _) = Setup(files, "  h2: { vmid: 200, mac: \"02:de:20:00:00:c8\" }\n");
            Assert.Empty(IdentityAudit.Run(tier));
        }

        [Fact]
        public void UnallocatedHostIsAFinding()
        {
            using var files = new TierTestFiles();
            var text = TierTestFiles.Valid;
            var tier = TierLoader.Parse(files.Write(text), text);
            var f = Assert.Single(IdentityAudit.Run(tier));
            Assert.Equal((IdentityRule.Unallocated, "h2"), (f.Rule, f.HostName));
            Assert.Equal(10, f.Line);
        }

        [Fact]
        public void HandEditedMacIsAMismatch()
        {
            using var files = new TierTestFiles();
            var (tier, companion) = Setup(files, "  h2: { vmid: 200, mac: \"02:de:20:00:00:c9\" }\n");
            var f = Assert.Single(IdentityAudit.Run(tier));
            Assert.Equal(IdentityRule.MacMismatch, f.Rule);
            Assert.Equal("h2: recorded MAC 02:de:20:00:00:c9 is not 02:de:20:00:00:c8 (02:de:20 + VMID 200); the identity file was edited by hand", f.Message);
            Assert.Equal((companion, 3), (f.File, f.Line));
        }

        [Fact]
        public void MacInOtherNotationIsNotAMismatchButGarbageIsInvalid()
        {
            using var files = new TierTestFiles();
            var (tier, _) = Setup(files, "  h2: { vmid: 200, mac: \"02-DE-20-00-00-C8\" }\n");
            Assert.Empty(IdentityAudit.Run(tier));
            var (tier2, _) = Setup(files, "  h2: { vmid: 200, mac: \"not-a-mac\" }\n");
            Assert.Equal(IdentityRule.MacInvalid, Assert.Single(IdentityAudit.Run(tier2)).Rule);
        }

        [Fact]
        public void DuplicateVmIdWithAFixedHost()
        {
            using var files = new TierTestFiles();
            var (tier, _) = Setup(files, "  h2: { vmid: 207, mac: \"02:de:20:00:00:cf\" }\n");
            var f = Assert.Single(IdentityAudit.Run(tier));
            Assert.Equal((IdentityRule.DuplicateVmId, "h2", 207), (f.Rule, f.HostName, f.VmId!.Value));
            Assert.Equal("VMID 207 is claimed by h1 and h2", f.Message);
        }

        [Fact]
        public void DuplicateMacFromAHandEditedEntry()
        {
            using var files = new TierTestFiles();
            var (tier, _) = Setup(files, "  h2: { vmid: 200, mac: \"02:de:20:00:00:cf\" }\n");
            var rules = IdentityAudit.Run(tier).Select(f => f.Rule).OrderBy(r => r).ToList();
            Assert.Equal(new[] { IdentityRule.MacMismatch, IdentityRule.DuplicateMac }, rules);
        }

        [Fact]
        public void VmIdOutOfRangeOrphanedAndSupersededEntries()
        {
            using var files = new TierTestFiles();
            var (tier, _) = Setup(files,
                "  h1: { vmid: 205, mac: \"02:de:20:00:00:cd\" }\n" +
                "  h2: { vmid: 350, mac: \"02:de:20:00:01:5e\" }\n" +
                "  gone: { vmid: 201, mac: \"02:de:20:00:00:c9\" }\n");
            var findings = IdentityAudit.Run(tier).ToDictionary(f => f.Rule, f => f.HostName);
            Assert.Equal("h1", findings[IdentityRule.SupersededEntry]);
            Assert.Equal("h2", findings[IdentityRule.VmIdOutOfRange]);
            Assert.Equal("gone", findings[IdentityRule.OrphanedEntry]);
            Assert.Equal(3, findings.Count);
        }

        [Fact]
        public void UnparseableCompanionIsAFindingAndStopsResolving()
        {
            using var files = new TierTestFiles();
            var (tier, companion) = Setup(files, "  h2: { vmid: 200, mac: \"02:de:20:00:00:c8\"\n");
            var f = IdentityAudit.Run(tier).First();
            Assert.Equal(IdentityRule.CompanionUnreadable, f.Rule);
            Assert.StartsWith("t.identity.yaml:", f.Message);
            var ex = Assert.Throws<DeevException>(() => new IdentityResolver(tier).ResolveAll());
            Assert.Equal("IdentityFileInvalid", ex.ErrorId);
            Assert.Throws<DeevException>(() => new IdentityResolver(tier).PlanAllocation());
            Assert.StartsWith(IdentityFile.Marker, File.ReadAllText(companion)); // left as it was
        }
    }
}
