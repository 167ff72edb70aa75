using System;
using System.IO;
using System.Linq;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Inventory;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Inventory
{
    /// <summary>The converter and the Prometheus writer at the Core level (the Pester tests cover the cmdlets).</summary>
    public class InventoryConverterTests
    {
        private static readonly string Fixture = TierTestFiles.RepoFile("tests/Pester/fixtures/inventory/mobile");

        [Fact]
        public void AllocatedVmIdsGoToTheCompanionAndLiteralOnesAreFixed()
        {
            var tierPath = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("n"), "mobile.tier.yaml");
            var c = InventoryConverter.Convert(Fixture, tierPath, "a_autoprov@pve!x");
            Assert.True(c.IsValid, string.Join("\n", c.TierProblems));
            var fixedHost = c.Hosts.Single(h => h.Name == "provisioner-vm03");
            Assert.True(fixedHost.FixedVmId);
            Assert.Contains("vmid: 206", c.TierText);
            Assert.Contains("  dv02prv001v01: { vmid: 200, mac: \"02:de:20:00:00:c8\" }", c.IdentityText);
            Assert.DoesNotContain("provisioner-vm03", c.IdentityText);
            Assert.All(c.Hosts, h => Assert.Equal(MacAddress.FromVmId("02:de:20", h.VmId!.Value).ToString(), h.MacAddress));
            Assert.False(Directory.Exists(Path.GetDirectoryName(tierPath)), "Convert writes nothing");
        }

        [Fact]
        public void AnOpaqueTemplateIsReportedNotEvaluated()
        {
            var dir = CopyFixture();
            try
            {
                var vars = Path.Combine(dir, "host_vars", "dv02idn001v01", "vars.yml");
                File.WriteAllText(vars, File.ReadAllText(vars).Replace("      ip: 10.20.25.21\n", "      ip: \"{{ lookup('dig', inventory_hostname) }}\"\n"));
                var c = InventoryConverter.Convert(dir, Path.Combine(dir, "out.tier.yaml"), "a_autoprov@pve!x");
                var warning = Assert.Single(c.Warnings, w => w.Message.Contains("dv02idn001v01") && w.Message.Contains("not a fixed IPv4 address"));
                Assert.Equal(vars, warning.File);
                Assert.Equal(11, warning.Line);   // the ip: line
                Assert.DoesNotContain(c.Hosts, h => h.Name == "dv02idn001v01");
                // Its services go with it, each reported where the group lists the host.
                Assert.Contains(c.Warnings, w => w.Message.StartsWith("service group 'openbao' runs on 'dv02idn001v01'", StringComparison.Ordinal));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Fact]
        public void PrometheusWriteReplacesTheFileWithoutLeavingATemporaryOne()
        {
            var dir = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("n"));
            var path = Path.Combine(dir, "tier.prom");
            try
            {
                var results = new[] { new CheckResult("svc", "h1", "access", "tcp", "h1:22", CheckStatus.Passed, "ok", TimeSpan.FromMilliseconds(5)) };
                var summary = CheckSummary.From("/t.yaml", results, TimeSpan.FromSeconds(1));
                CheckReport.Write(path, summary, results, "lab", DateTimeOffset.FromUnixTimeSeconds(100));
                CheckReport.Write(path, summary, results, "lab", DateTimeOffset.FromUnixTimeSeconds(200));
                Assert.Equal(new[] { "tier.prom" }, Directory.GetFiles(dir).Select(Path.GetFileName));
                var text = File.ReadAllText(path);
                Assert.Contains("deevnet_tier_last_run_timestamp_seconds{site=\"lab\"} 200\n", text);
                Assert.Contains("deevnet_check_ok{site=\"lab\",service=\"svc\",class=\"access\",host=\"h1\",kind=\"declared\",check=\"tcp\",target=\"h1:22\"} 1\n", text);
            }
            finally
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, true);
            }
        }

        private static string CopyFixture()
        {
            var dir = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("n"));
            foreach (var file in Directory.GetFiles(Fixture, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(dir, Path.GetRelativePath(Fixture, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            return dir;
        }
    }
}
