using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dhcp.OPNsense;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Http;
using Deevnet.Extended.Core.OPNsense;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Dhcp;
using Deevnet.Extended.Tests.Http;
using Xunit;
using DhcpDouble = Deevnet.Extended.Tests.Dhcp.OpnsenseDouble;
using DnsDouble = Deevnet.Extended.Tests.Dns.OpnsenseDouble;

namespace Deevnet.Extended.Tests.Plans
{
    /// <summary>The saved plan document: canonical text, round trip, steps that make exactly their lines, no secrets.</summary>
    public class SavedPlanTests
    {
        private const string Server = "dnsmasq ssh://root@10.231.0.2";
        private static readonly IReadOnlyList<Ipv4Network> Subnets = new[] { DhcpPlannerTests.Net("10.231.99.0/24") };

        private static DhcpReservation Owned(string mac, string ip, string name) => new DhcpReservation(mac, IPAddress.Parse(ip), name, null, "10.231.99.0/24", true, Server);
        private static DhcpReservation Want(string mac, string ip, string name) => DhcpFields.Desired(mac, DhcpFields.ParseAddress(ip), name, null);

        /// <summary>A DHCP plan with an add, a change, a removal (by prune) and an unchanged entry.</summary>
        private static DhcpPlan DhcpSample(params DhcpReservation[] existing) => DhcpPlanner.Plan(
            existing.Length > 0 ? existing : new[] { Owned("02:de:20:00:00:02", "10.231.99.12", "b"), Owned("02:de:20:00:00:03", "10.231.99.13", "c"), Owned("02:de:20:00:00:04", "10.231.99.14", "d") },
            Subnets,
            new DhcpBatch(new[] { Want("02:de:20:00:00:01", "10.231.99.11", "a"), Want("02:de:20:00:00:02", "10.231.99.22", "b"), Want("02:de:20:00:00:04", "10.231.99.14", "d") }, prune: true),
            Server);

        private static SavedPlan Document(params PlanStep[] steps)
        {
            var plan = new SavedPlan
            {
                Command = "Sync-DeevDhcpReservation",
                Tier = new PlanSource { Path = "/srv/site.tier.yaml", Sha256 = new string('a', 64) },
                Identity = new PlanSource { Path = "/srv/site.identity.yaml", Sha256 = new string('b', 64) },
            };
            foreach (var step in steps) plan.Add(step);
            return plan;
        }

        private static PlanStep DnsSample()
        {
            var current = new DnsRecordSet(new[] { DnsRecord.Create("old.t.test", DnsRecordType.A, "10.1.1.9", 300, true, "bind") }, Array.Empty<DnsRecord>());
            var batch = new DnsBatch(new[] { DnsRecord.Create("b.t.test", DnsRecordType.A, "10.1.1.2"), DnsRecord.Create("a.t.test", DnsRecordType.A, "10.1.1.1") }, prune: true);
            return PlanSteps.FromDns(DnsPlanner.Plan("bind 10.1.1.53:53", current, batch, _ => true));
        }

        [Fact]
        public void The_text_is_canonical_sorted_keys_sorted_steps_and_changes_LF_no_time()
        {
            var forward = Document(PlanSteps.FromDhcp(DhcpSample()), DnsSample()).ToJson();
            var dhcp = PlanSteps.FromDhcp(DhcpSample());
            dhcp.Changes.Reverse();
            dhcp.SetReservations!.Reverse();
            var backward = Document(DnsSample(), dhcp).ToJson();

            Assert.Equal(forward, backward);
            Assert.DoesNotContain("\r", forward);
            Assert.EndsWith("}\n", forward);
            Assert.DoesNotContain("time", forward, StringComparison.OrdinalIgnoreCase);
            using var doc = JsonDocument.Parse(forward);
            AssertKeysSorted(doc.RootElement);
            var steps = doc.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("service").GetString()).ToList();
            Assert.Equal(new[] { "dhcp", "dns" }, steps);
            var keys = doc.RootElement.GetProperty("steps")[0].GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("key").GetString()).ToList();
            Assert.Equal(keys.OrderBy(k => k, StringComparer.Ordinal), keys);
        }

        [Fact]
        public void A_plan_reads_back_to_the_same_text_and_the_same_batch()
        {
            var text = Document(PlanSteps.FromDhcp(DhcpSample()), DnsSample()).ToJson();
            var read = SavedPlan.Parse(text, "plan.json");
            Assert.Equal(text, read.ToJson());

            var batch = PlanSteps.DhcpBatchOf(read.Steps.Single(s => s.Service == PlanStep.Dhcp));
            Assert.Equal(new[] { "02:de:20:00:00:01", "02:de:20:00:00:02" }, batch.Upserts.Select(u => u.ClientId).OrderBy(m => m));
            Assert.Equal(new[] { "02:de:20:00:00:03" }, batch.Removals);   // the prune became one explicit removal
            Assert.False(batch.Prune);
        }

        [Fact]
        public void The_batch_of_a_step_makes_exactly_its_saved_lines_and_no_more()
        {
            var saved = PlanSteps.FromDhcp(DhcpSample());
            Assert.Equal(3, saved.Changes.Count);   // add, change, remove: the unchanged entry is not a change
            var again = DhcpSample(DhcpSample().Existing.ToArray());
            var now = DhcpPlanner.Plan(again.Existing, Subnets, PlanSteps.DhcpBatchOf(saved), Server);
            Assert.Empty(PlanSteps.Differences(saved.Changes, now.Plan));
            Assert.Empty(saved.Read.Differences(PlanSteps.DhcpFingerprint(now.Existing)));

            var dns = DnsSample();
            var current = new DnsRecordSet(new[] { DnsRecord.Create("old.t.test", DnsRecordType.A, "10.1.1.9", 300, true, "bind") }, Array.Empty<DnsRecord>());
            var dnsNow = DnsPlanner.Plan("bind 10.1.1.53:53", current, PlanSteps.DnsBatchOf(dns), _ => true);
            Assert.Empty(PlanSteps.Differences(dns.Changes, dnsNow.Changes));
            Assert.Contains(dns.Changes, c => c.Action == "Remove" && c.Key == "old.t.test");
        }

        [Fact]
        public void A_hand_edit_is_named_by_its_entry()
        {
            var saved = PlanSteps.FromDhcp(DhcpSample());
            var edited = new[] { Owned("02:de:20:00:00:02", "10.231.99.12", "b"), Owned("02:de:20:00:00:03", "10.231.99.99", "c"), Owned("02:de:20:00:00:04", "10.231.99.14", "d") };
            var moved = saved.Read.Differences(PlanSteps.DhcpFingerprint(edited));
            Assert.Equal(new[] { "02:de:20:00:00:03 changed" }, moved);
            var gone = saved.Read.Differences(PlanSteps.DhcpFingerprint(edited.Take(2)));
            Assert.Contains("02:de:20:00:00:04 is gone", gone);

            var now = DhcpPlanner.Plan(edited, Subnets, PlanSteps.DhcpBatchOf(saved), Server);
            Assert.Contains(PlanSteps.Differences(saved.Changes, now.Plan), d => d.Contains("02:de:20:00:00:03"));
        }

        [Theory]
        [InlineData("not json")]
        [InlineData("{\"format\":\"deevnet-plan/0\",\"tier\":{\"path\":\"/x\"}}")]
        [InlineData("{\"format\":\"deevnet-plan/1\",\"tier\":{\"path\":\"\"}}")]
        public void Anything_else_is_PlanInvalid(string text)
        {
            var ex = Assert.Throws<DeevException>(() => SavedPlan.Parse(text, "plan.json"));
            Assert.Equal(PlanErrors.Invalid, ex.ErrorId);
        }

        [Fact]
        public async Task A_plan_from_back_ends_with_credentials_holds_none_of_them()
        {
            using var dhcpApi = new DhcpDouble();
            var dhcpBackend = new OpnsenseDhcpBackend(new OpnsenseClient(RestSpec.For(dhcpApi.Endpoint.ToString()), DhcpDouble.Key, DhcpDouble.Secret, NullOperationLog.Instance, TimeSpan.FromSeconds(10)));
            var dhcp = await dhcpBackend.PlanAsync(new DhcpBatch(new[] { Want("02:de:20:00:00:cf", "10.20.99.40", "new") }), CancellationToken.None);

            const string key = "plan-test-api-key-7f3a", secret = "plan-test-api-secret-91c2";
            Environment.SetEnvironmentVariable("DEEV_TEST_PLAN_KEY", key);
            Environment.SetEnvironmentVariable("DEEV_TEST_PLAN_SECRET", secret);
            using var dnsApi = new DnsDouble(key, secret);
            var tierText = File.ReadAllText(Tier.TierTestFiles.RepoFile("examples/lab.tier.yaml"));
            tierText = System.Text.RegularExpressions.Regex.Replace(tierText, @"^dns:\s*\n(?:[ \t#].*\n|\s*\n)*",
                $"dns:\n  kind: opnsense\n  endpoint: {dnsApi.Endpoint}\n  apiKeyEnv: DEEV_TEST_PLAN_KEY\n  apiSecretEnv: DEEV_TEST_PLAN_SECRET\n\n",
                System.Text.RegularExpressions.RegexOptions.Multiline);
            using var files = new Tier.TierTestFiles();
            var tier = TierLoader.Load(files.Write(tierText));
            using var pool = new TransportPool();
            using var dnsBackend = DnsBackendFactory.Create(tier, pool, null, TimeSpan.FromSeconds(5));
            var dns = await dnsBackend.PlanAsync(new DnsBatch(DesiredRecords.FromTier(tier)), CancellationToken.None);

            var text = Document(PlanSteps.FromDhcp(dhcp), PlanSteps.FromDns(dns)).ToJson();
            Assert.Contains("\"Add\"", text);
            foreach (var credential in new[] { DhcpDouble.Key, DhcpDouble.Secret, key, secret, "Authorization", "Basic " })
                Assert.DoesNotContain(credential, text, StringComparison.OrdinalIgnoreCase);
        }

        private static void AssertKeysSorted(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                var names = element.EnumerateObject().Select(p => p.Name).ToList();
                Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), names);
                // The format's names are camelCase: a PascalCase key is a C# property that leaked into the document.
                Assert.All(names, n => Assert.False(char.IsUpper(n[0]), $"'{n}' is not a name of the plan format"));
                foreach (var p in element.EnumerateObject()) AssertKeysSorted(p.Value);
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray()) AssertKeysSorted(item);
            }
        }
    }
}
