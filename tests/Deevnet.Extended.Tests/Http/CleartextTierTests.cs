using System.Linq;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Http
{
    /// <summary>The tier loader refuses a credential over plain http to a non-loopback address, with file:line:col.</summary>
    public sealed class CleartextTierTests
    {
        private static TierProblem Single(string section)
        {
            var text = TierTestFiles.Valid + section + "\n";
            using var files = new TierTestFiles();
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse(files.Write(text), text));
            Assert.Equal("TierFileInvalid", ex.ErrorId);
            return Assert.Single(ex.Problems);
        }

        [Theory]
        [InlineData("dns: { kind: powerdns, endpoint: \"http://10.1.99.5:8081\", apiKeyEnv: K }", "dns.endpoint")]
        [InlineData("dns: { kind: opnsense, endpoint: \"http://10.1.99.1\", apiKeyEnv: K, apiSecretEnv: S }", "dns.endpoint")]
        [InlineData("dhcp: { kind: opnsense, endpoint: \"http://router.example\", apiKeyFile: /k, apiSecretFile: /s }", "dhcp.endpoint")]
        public void Http_to_a_non_loopback_address_with_a_key_is_refused_at_load(string section, string path)
        {
            var problem = Single(section);
            Assert.StartsWith(path + ": '", problem.Message);
            Assert.Contains("plain http to a non-loopback address", problem.Message);
            Assert.Equal(14, problem.Line);
            Assert.Equal(section.IndexOf("\"http", System.StringComparison.Ordinal) + 1, problem.Column);
            Assert.EndsWith($":14:{problem.Column}: {problem.Message}", problem.ToString());
        }

        [Theory]
        [InlineData("dns: { kind: powerdns, endpoint: \"http://127.0.0.1:8081\", apiKeyEnv: K }")]
        [InlineData("dns: { kind: powerdns, via: \"ssh://root@10.1.99.5\", endpoint: \"http://127.0.0.1:8081\", apiKeyEnv: K }")]
        [InlineData("dns: { kind: opnsense, endpoint: \"http://localhost:8443\", apiKeyEnv: K, apiSecretEnv: S }")]
        [InlineData("dns: { kind: powerdns, endpoint: \"https://10.1.99.5:8081\", apiKeyEnv: K, tlsFingerprint: \"sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\", skipTlsVerify: true }")]
        public void Loopback_http_and_a_pin_beside_skipTlsVerify_load(string section)
        {
            var text = TierTestFiles.Valid + section + "\n";
            using var files = new TierTestFiles();
            var tier = TierLoader.Parse(files.Write(text), text);
            Assert.NotNull(tier.Dns);
        }
    }
}
