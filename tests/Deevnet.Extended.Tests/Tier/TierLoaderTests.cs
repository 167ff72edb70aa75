using System;
using System.IO;
using System.Linq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    public class TierLoaderTests
    {
        [Fact]
        public void MissingFileHasItsOwnError()
        {
            using var files = new TierTestFiles();
            var path = Path.Combine(files.Folder, "absent.tier.yaml");
            var ex = Assert.Throws<DeevException>(() => TierLoader.Load(path));
            Assert.Equal("TierFileNotFound", ex.ErrorId);
            Assert.Equal($"The tier file '{path}' does not exist.", ex.Message);
        }

        [Theory]
        [InlineData("")]
        [InlineData("# nothing but a comment\n")]
        [InlineData("~\n")]
        public void EmptyFileHasItsOwnMessage(string text)
        {
            using var files = new TierTestFiles();
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Load(files.Write(text)));
            var p = Assert.Single(ex.Problems);
            Assert.Equal("the file is empty; a tier file needs at least the site, segments, hosts and services sections", p.Message);
            Assert.Equal((1, 1), (p.Line, p.Column));
        }

        [Fact]
        public void SyntaxErrorGivesItsPosition()
        {
            using var files = new TierTestFiles();
            var text = TierTestFiles.With("names: [s1]", "names: [s1");
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Load(files.Write(text)));
            var p = Assert.Single(ex.Problems);
            Assert.StartsWith("YAML syntax error: ", p.Message);
            Assert.DoesNotContain("(Line:", p.Message);
            Assert.Equal(12, p.Line);
        }

        [Fact]
        public void DuplicateKeyIsASyntaxErrorAtTheSecondKey()
        {
            using var files = new TierTestFiles();
            var text = TierTestFiles.With("  h2: {", "  h1: { segment: mgmt, ip: 10.1.99.12 }\n  h2: {");
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Load(files.Write(text)));
            var p = Assert.Single(ex.Problems);
            Assert.Contains("Duplicate key", p.Message);
            Assert.Equal((10, 3), (p.Line, p.Column));
        }

        [Fact]
        public void NonMappingDocumentIsRejected()
        {
            using var files = new TierTestFiles();
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Load(files.Write("- a\n- b\n")));
            Assert.Equal("the tier file must be a mapping of sections (site, segments, hosts, services, …)", Assert.Single(ex.Problems).Message);
        }

        [Fact]
        public void MissingSectionsAreReportedTogether()
        {
            using var files = new TierTestFiles();
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Load(files.Write("site: { name: t, domain: t.test, macNamespace: \"02:00:00\", vmidRange: [100, 200] }\n")));
            Assert.Equal(new[] { "tier file: 'segments' is required", "tier file: 'hosts' is required", "tier file: 'services' is required" },
                ex.Problems.Select(p => p.Message));
        }

        [Fact]
        public void ValidTierBuildsTheModel()
        {
            using var files = new TierTestFiles();
            var tier = TierLoader.Load(files.Write(TierTestFiles.Valid));
            Assert.Equal("02:de:20", tier.Site.MacNamespace);
            Assert.Equal(new[] { "h1", "h2" }, tier.Hosts.Select(h => h.Name));
            Assert.Equal(207, tier.FindHost("h1")!.FixedVmId);
            Assert.Null(tier.FindHost("h2")!.FixedVmId);
            Assert.True(tier.FindSegment("tenant")!.IsTenant);
            Assert.Equal("h1.t.deevnet.test", tier.FqdnOf("h1"));
            Assert.Equal("stateless", tier.Services.Single(s => s.Name == "s2").Backup.NoneReason);
            Assert.Equal("qemu:///system", tier.FindHypervisor("hv")!.Get("uri"));
            Assert.Equal(Path.Combine(files.Folder, "t.tier.yaml"), tier.SourcePath);
        }

        [Fact]
        public void RelativePathsResolveBesideTheTierAndTildeToHome()
        {
            using var files = new TierTestFiles();
            var text = "access: { identityFile: keys/id_ed25519, knownHosts: ~/kh }\n" + TierTestFiles.Valid.Replace("store: /srv/b", "store: backups");
            var tier = TierLoader.Load(files.Write(text));
            Assert.Equal(Path.Combine(files.Folder, "keys", "id_ed25519"), tier.Access.IdentityFile);
            Assert.Equal(Path.Combine(Environment.GetEnvironmentVariable("HOME")!, "kh"), tier.Access.KnownHostsFile);
            Assert.Equal(Path.Combine(files.Folder, "backups"), tier.Backup!.Store);
        }

        [Fact]
        public void CacheReturnsTheSameTierUntilTheFileChanges()
        {
            using var files = new TierTestFiles();
            var path = files.Write(TierTestFiles.Valid);
            var first = TierLoader.Load(path);
            Assert.Same(first, TierLoader.Load(path));
            File.WriteAllText(path, TierTestFiles.Valid.Replace("vmid: 207", "vmid: 208"));
            var second = TierLoader.Load(path);
            Assert.NotSame(first, second);
            Assert.Equal(208, second.FindHost("h1")!.FixedVmId);
        }

        [Fact]
        public void LabExampleMatchesTheLabContract()
        {
            var tier = TierLoader.Load(TierTestFiles.RepoFile("examples/lab.tier.yaml"));
            Assert.Equal(("lab", "lab.deevnet.test", "02:de:99", 900, 999), (tier.Site.Name, tier.Site.Domain, tier.Site.MacNamespace, tier.Site.VmIdMin, tier.Site.VmIdMax));
            Assert.Equal(new[] { "dv99obs001v01", "dv99aut001v01", "dv99acc001v01", "dv99web001v01" }, tier.Hosts.Select(h => h.Name));
            Assert.Equal(new int?[] { 901, null, 903, 910 }, tier.Hosts.Select(h => h.FixedVmId));
            Assert.Equal("dnsmasq", tier.Dhcp!.Kind);
            Assert.Equal("/run/deevnet-lab/dnsmasq/records", tier.Dns!.Get("recordsFile"));
            Assert.Equal("test+unix:///default?socket=/run/deevnet-lab/libvirt/libvirt-sock", tier.FindHypervisor("labvirt")!.Get("uri"));
            Assert.Equal(TimeSpan.FromSeconds(5), tier.Access.ConnectTimeout);
            Assert.Equal(new[] { "metrics", "runner", "jump", "docs" }, tier.Services.Select(s => s.Name));
            Assert.True(tier.Services.Single(s => s.Name == "docs").Backup.IsNone);
            Assert.Equal(5, tier.Backup!.Keep);
            Assert.Equal("/run/deevnet-lab/backup/signing.key", tier.Backup.SigningKeyFile);
            Assert.Equal("/run/deevnet-lab/backup/allowed_signers", tier.Backup.AllowedSignersFile);
        }

        [Fact]
        public void MobileExampleLoadsAndEveryServiceDeclaresItsBackup()
        {
            var tier = TierLoader.Load(TierTestFiles.RepoFile("examples/mobile.tier.yaml"));
            Assert.Equal("mobile.deevnet.net", tier.Site.Domain);
            Assert.Equal("proxmox", tier.FindHypervisor("dv02hyp001p01")!.Kind);
            Assert.Equal("opnsense", tier.Dhcp!.Kind);
            Assert.Equal(TimeSpan.FromHours(36), tier.Backup!.MaxAge);
            Assert.All(tier.Services, s => Assert.True(s.Backup.IsNone ? s.Backup.NoneReason!.Length > 10 : s.Backup.Paths.Count > 0));
        }
    }
}
