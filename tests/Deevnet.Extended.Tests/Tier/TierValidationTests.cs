using System.Linq;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>One broken variant of the test tier per rule: the exact message, and the line and column it points at.</summary>
    public class TierValidationTests
    {
        private static TierProblem SingleProblem(string text)
        {
            using var files = new TierTestFiles();
            var path = files.Write(text);
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse(path, text));
            Assert.Equal("TierFileInvalid", ex.ErrorId);
            var problem = Assert.Single(ex.Problems);
            Assert.Equal(path, problem.File);
            return problem;
        }

        /// <summary>The expected column is where <paramref name="token"/> starts on the expected line (1-based).</summary>
        private static void AssertAt(TierProblem problem, string text, int line, string token)
        {
            Assert.Equal(line, problem.Line);
            var lineText = text.Split('\n')[line - 1];
            var index = lineText.IndexOf(token, System.StringComparison.Ordinal);
            Assert.True(index >= 0, $"'{token}' not on line {line}");
            Assert.Equal(index + 1, problem.Column);
        }

        [Theory]
        // unknown keys, per section and per back-end kind
        [InlineData("vmid: 207 }", "vmid: 207, color: red }", 9, "color", "hosts.h1: unknown key 'color'")]
        [InlineData("hypervisor: hv, vmid", "hypervisr: hv, vmid", 9, "hypervisr", "hosts.h1: unknown key 'hypervisr'; did you mean 'hypervisor'?")]
        [InlineData("via: local, template: t-", "via: local, template: t-, endpoint: \"https://x:8006\"", 6, "endpoint", "hypervisors.hv: unknown key 'endpoint' for kind 'libvirt'")]
        [InlineData("kind: libvirt, via: local,", "kind: libvirt,", 6, "hv", "hypervisors.hv: 'via' is required for kind 'libvirt'")]
        [InlineData("kind: libvirt", "kind: vmware", 6, "vmware", "hypervisors.hv.kind: 'vmware' is not one of proxmox, libvirt")]
        public void UnknownAndRequiredKeys(string find, string replace, int line, string token, string message)
        {
            var text = TierTestFiles.With(find, replace);
            var problem = SingleProblem(text);
            Assert.Equal(message, problem.Message);
            AssertAt(problem, text, line, token);
        }

        [Theory]
        // wrong types and malformed values
        [InlineData("vmid: 207", "vmid: abc", 9, "abc", "hosts.h1.vmid: 'abc' is not a VMID (a whole number 100–16777215)")]
        [InlineData("vmid: 207", "vmid: 207, cores: { a: 1 }", 9, "{ a", "hosts.h1.cores: must be a single value, not a mapping")]
        [InlineData("\"02:de:20\"", "\"03:de:20\"", 1, "\"03", "site.macNamespace: '03:de:20' is not a locally administered unicast prefix (the first octet needs bit 0x02 set and bit 0x01 clear, e.g. 02)")]
        [InlineData("\"02:de:20\"", "\"zz:de:20\"", 1, "\"zz", "site.macNamespace: 'zz:de:20' is not a MAC namespace (three octets, e.g. \"02:de:20\")")]
        [InlineData("ip: 10.1.99.10", "ip: 10.1.99.300", 9, "10.1.99.300", "hosts.h1.ip: '10.1.99.300' is not an IPv4 address")]
        [InlineData("subnet: 10.1.99.0/24", "subnet: 10.1.99.5/24", 3, "10.1.99.5/24", "segments.mgmt.subnet: '10.1.99.5/24' has host bits set; the network is 10.1.99.0/24")]
        [InlineData("names: [s1]", "names: [S_1]", 12, "S_1", "services.s1.names[0]: 'S_1' is not a valid name (lowercase a-z, 0-9 and '-', 1-63 characters, not starting or ending with '-')")]
        [InlineData("{ tcp: 80 }", "{ tcp: 80, timeout: 5x }", 12, "5x", "services.s1.checks[0].timeout: '5x' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("via: local", "via: \"ftp://x\"", 6, "\"ftp", "hypervisors.hv.via: 'ftp://x' is not 'local' or 'ssh://user@host[:port]'")]
        [InlineData("domain: t.deevnet.test", "domain: T_x.test", 1, "T_x", "site.domain: 'T_x.test' is not a DNS name (lowercase labels of a-z, 0-9 and '-')")]
        [InlineData("recipient: " + TierTestFiles.Recipient, "recipient: AGE-SECRET-KEY-1XYZ", 7, "AGE-", "backup.recipient: 'AGE-SECRET-KEY-1XYZ' is not an age public key; it must start with 'age1'")]
        [InlineData("recipient: " + TierTestFiles.Recipient, "recipient: " + TierTestFiles.Recipient + ", signingKeyFile: /k/signing.key", 7, "/k/signing.key", "backup.signingKeyFile needs backup.allowedSignersFile (the OpenSSH allowed-signers file that lists its public key)")]
        [InlineData(", addressing: reservation", "", 3, "mgmt", "segments.mgmt: 'addressing' is required (reservation or static) unless the segment is a tenant segment")]
        [InlineData("gateway: 10.1.99.1,", "gateway: 10.1.98.1,", 3, "10.1.98.1", "segments.mgmt.gateway: 10.1.98.1 is not inside 10.1.99.0/24")]
        public void MalformedValues(string find, string replace, int line, string token, string message)
        {
            var text = TierTestFiles.With(find, replace);
            var problem = SingleProblem(text);
            Assert.Equal(message, problem.Message);
            AssertAt(problem, text, line, token);
        }

        [Theory]
        // cross-entry rules: addresses, duplicates, placement, references
        [InlineData("ip: 10.1.99.10", "ip: 10.1.98.10", 9, "10.1.98.10", "hosts.h1.ip: 10.1.98.10 is not inside segment 'mgmt' (10.1.99.0/24)")]
        [InlineData("ip: 10.1.99.10", "ip: 10.1.99.1", 9, "10.1.99.1,", "hosts.h1.ip: 10.1.99.1 is the gateway of segment 'mgmt'")]
        [InlineData("ip: 10.1.99.10", "ip: 10.1.99.0", 9, "10.1.99.0", "hosts.h1.ip: 10.1.99.0 is the network address of segment 'mgmt' (10.1.99.0/24)")]
        [InlineData("ip: 10.1.99.10", "ip: 10.1.99.255", 9, "10.1.99.255", "hosts.h1.ip: 10.1.99.255 is the broadcast address of segment 'mgmt' (10.1.99.0/24)")]
        [InlineData("ip: 10.1.99.11", "ip: 10.1.99.10", 10, "10.1.99.10", "hosts.h2.ip: 10.1.99.10 is already the address of host 'h1'")]
        [InlineData("hypervisor: hv }", "hypervisor: hv, vmid: 207 }", 10, "207", "hosts.h2.vmid: VMID 207 is already the VMID of host 'h1' (both would get MAC 02:de:20:00:00:cf)")]
        [InlineData("vmid: 207", "vmid: 300", 9, "300", "hosts.h1.vmid: 300 is outside site.vmidRange [200, 299]")]
        [InlineData("names: [s1]", "names: [h2]", 12, "h2]", "services.s1.names[0]: 'h2' is already the name of host 'h2'")]
        [InlineData("host: h2, backup", "host: h2, names: [s1], backup", 13, "s1]", "services.s2.names[0]: 's1' is already the name of service 's1'")]
        [InlineData("names: [s1]", "names: [s1, s1]", 12, "s1]", "services.s1.names[1]: 's1' is listed twice")]
        [InlineData("segment: mgmt, ip: 10.1.99.11", "segment: tenant, ip: 10.1.50.11", 10, "tenant", "hosts.h2.segment: 'tenant' is a tenant segment; management hosts never sit on tenant segments")]
        [InlineData("segment: mgmt, ip: 10.1.99.10", "segment: nope, ip: 10.1.99.10", 9, "nope", "hosts.h1.segment: unknown segment 'nope' (segments: mgmt, tenant)")]
        [InlineData("hypervisor: hv, vmid", "hypervisor: hv9, vmid", 9, "hv9", "hosts.h1.hypervisor: unknown hypervisor 'hv9' (hypervisors: hv)")]
        [InlineData("host: h1,", "host: h9,", 12, "h9", "services.s1.host: unknown host 'h9'")]
        [InlineData(", backup: { none: \"stateless\" }", "", 13, "s2", "services.s2: declares no backup; add backup: { paths: [...] } or backup: { none: \"<why nothing needs backing up>\" }")]
        [InlineData("backup: { none: \"stateless\" }", "backup: { paths: [/x], none: \"stateless\" }", 13, "none", "services.s2.backup: give either paths or none, not both")]
        [InlineData("backup: { none: \"stateless\" }", "backup: { }", 13, "backup", "services.s2.backup: declare paths to back up, or none: \"<why nothing needs backing up>\"")]
        [InlineData("{ tcp: 80 }", "{ timeout: 5s }", 12, "{ timeout", "services.s1.checks[0]: a check needs one kind key: tcp, http, https, dns, ssh or command")]
        [InlineData("{ tcp: 80 }", "{ tcp: 80, ssh: 22 }", 12, "ssh", "services.s1.checks[0]: has two kinds (tcp and ssh); write one check per kind")]
        [InlineData("{ tcp: 80 }", "{ http: \"ftp://x/\" }", 12, "\"ftp", "services.s1.checks[0].http: 'ftp://x/' is not a http:// URL")]
        [InlineData("{ tcp: 80 }", "{ tcp: 80, body: ok }", 12, "body", "services.s1.checks[0]: 'body' is not an option of a tcp check (options: timeout)")]
        public void CrossEntryRules(string find, string replace, int line, string token, string message)
        {
            var text = TierTestFiles.With(find, replace);
            var problem = SingleProblem(text);
            Assert.Equal(message, problem.Message);
            AssertAt(problem, text, line, token);
        }

        [Fact]
        public void PlainSecretIsRejectedAndTheReferenceIsStillRequired()
        {
            var text = TierTestFiles.With("hv: { kind: libvirt, via: local, template: t- }",
                "hv: { kind: proxmox, endpoint: \"https://10.1.99.2:8006\", node: pve, tokenId: \"a@pve!t\", tokenSecret: s3cret, template: t- }");
            using var files = new TierTestFiles();
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse(files.Write(text), text));
            Assert.Equal(new[]
            {
                "hypervisors.hv.tokenSecret: secrets are never written in the tier file; use tokenSecretEnv or tokenSecretFile",
                "hypervisors.hv: one of tokenSecretEnv or tokenSecretFile is required for kind 'proxmox'",
            }, ex.Problems.Select(p => p.Message));
            Assert.DoesNotContain("s3cret", ex.Message);
        }

        [Theory]
        [InlineData("dhcp: { kind: dnsmasq, via: local, hostsFile: /x, pidFile: /y, configFile: /z }", "dhcp: unknown key 'configFile' for kind 'dnsmasq'")]
        [InlineData("dhcp: { kind: kea, via: \"ssh://root@10.1.99.2\", configFile: /etc/kea.conf }", "dhcp: 'controlSocket' is required for kind 'kea'")]
        [InlineData("dhcp: { kind: isc }", "dhcp.kind: 'isc' is not one of dnsmasq, kea, opnsense")]
        [InlineData("dns: { kind: unbound, via: local }", "dns: 'include' is required for kind 'unbound'")]
        [InlineData("dns: { kind: bind, via: \"ssh://root@10.1.99.2\", tsigKeyFile: keys/tsig.key }", "dns.tsigKeyFile: 'keys/tsig.key' is not an absolute path (it must start with '/') (a path on the server ssh://root@10.1.99.2)")]
        [InlineData("dns: { kind: powerdns, endpoint: \"http://127.0.0.1:8081\", apiKey: k }", "dns.apiKey: secrets are never written in the tier file; use apiKeyEnv or apiKeyFile")]
        public void BackendKindTables(string section, string firstMessage)
        {
            var text = TierTestFiles.Valid + section + "\n";
            using var files = new TierTestFiles();
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse(files.Write(text), text));
            Assert.Equal(firstMessage, ex.Problems[0].Message);
            Assert.Equal(14, ex.Problems[0].Line);
        }

        [Fact]
        public void ReportsEveryProblemAtOnce()
        {
            var text = TierTestFiles.Valid
                .Replace("vmid: 207", "vmid: 300")
                .Replace("ip: 10.1.99.11", "ip: 10.1.99.10")
                .Replace(", backup: { none: \"stateless\" }", "")
                .Replace("kind: libvirt", "kind: libvirt, colour: blue");
            using var files = new TierTestFiles();
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse(files.Write(text), text));
            Assert.Equal(new[] { 6, 9, 10, 13 }, ex.Problems.Select(p => p.Line).OrderBy(l => l));
            Assert.StartsWith($"The tier file '{files.Folder}/t.tier.yaml' has 4 problems:", ex.Message);
            foreach (var p in ex.Problems) Assert.Contains(p.ToString(), ex.Message);
        }
    }
}
