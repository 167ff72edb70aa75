using System.IO;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>The VMID rule: accepted and refused values, and the same words from the loader and the identity file.</summary>
    public class VmIdRulesTests
    {
        [Theory]
        [InlineData(100)]
        [InlineData(207)]
        [InlineData(16777215)]
        public void Accepts(long vmid) => Assert.Null(VmIdRules.WhyNotAVmId(vmid));

        [Theory]
        [InlineData(-1)]
        [InlineData(0)]
        [InlineData(99)]
        [InlineData(16777216)]
        [InlineData(999999999)]
        public void Refuses(long vmid) => Assert.Equal($"{vmid} is not a VMID (a whole number 100–16777215)", VmIdRules.WhyNotAVmId(vmid));

        [Theory]
        [InlineData("207", null)]
        [InlineData("abc", "'abc' is not a VMID (a whole number 100–16777215)")]
        [InlineData("-5", "'-5' is not a VMID (a whole number 100–16777215)")]
        [InlineData("1e3", "'1e3' is not a VMID (a whole number 100–16777215)")]
        [InlineData("99999999999999999999", "'99999999999999999999' is not a VMID (a whole number 100–16777215)")]
        [InlineData("50", "50 is not a VMID (a whole number 100–16777215)")]
        public void Text(string text, string? why) => Assert.Equal(why, VmIdRules.WhyNotAVmId(text));

        [Theory]
        [InlineData("vmid: 207", "vmid: 50", "hosts.h1.vmid: 50 is not a VMID (a whole number 100–16777215)")]
        [InlineData("vmidRange: [200, 299]", "vmidRange: [200, 20000000]", "site.vmidRange[1]: 20000000 is not a VMID (a whole number 100–16777215)")]
        public void The_loader_refuses_with_the_rule(string find, string replace, string message) =>
            Assert.Equal(message, RuleTestSupport.LoaderMessage(find, replace));

        [Fact]
        public void The_identity_file_refuses_with_the_rule()
        {
            using var files = new TierTestFiles();
            var path = Path.Combine(files.Folder, "t.identity.yaml");
            File.WriteAllText(path, "hosts:\n  h2: { vmid: 42 }\n");
            var file = IdentityFile.Read(path);
            Assert.Equal("hosts.h2.vmid: 42 is not a VMID (a whole number 100–16777215)", Assert.Single(file.Problems).Message);
        }
    }
}
