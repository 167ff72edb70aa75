using System;
using System.IO;
using System.Linq;
using System.Net;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Lab;
using Xunit;
using static Deevnet.Extended.Tests.Checks.CheckTestKit;
using static Deevnet.Extended.Tests.Checks.TestTier;

namespace Deevnet.Extended.Tests.Checks
{
    /// <summary>
    /// Checks against the lab's site server (10.231.0.2): SSH host key and remote commands over the real SSH
    /// transport, DNS at the lab resolver, and an address nobody answers: the first platform address of the space chk
    /// (tests/lab/spaces), which no other suite uses. Run under flock /tmp/deevnet-lab.lock.
    /// </summary>
    public class LabCheckTests
    {
        private static (SiteTier Tier, CheckBackends Backends, TransportPool Pool) LabTier(LabEnvironment lab, string knownHosts, params CheckSpec[] checks)
        {
            var t = new TestTier();
            t.Segments.Add(Seg("lab", "10.231.0.0/24", SegmentAddressing.Static));
            t.Dns = new BackendSpec("dns", "dnsmasq", Via.Local, new System.Collections.Generic.Dictionary<string, string> { ["server"] = lab["DEEV_LAB_SSH_HOST"], ["port"] = "53", ["zone"] = "lab.deevnet.test" }, 1, 1);
            var via = Via.Ssh(lab["DEEV_LAB_SSH_USER"], lab["DEEV_LAB_SSH_HOST"], int.Parse(lab["DEEV_LAB_SSH_PORT"]));
            t.Host("srv", lab["DEEV_LAB_SSH_HOST"], segment: "lab", vmid: 250, via: via).Service("site", "srv", checks: checks);
            var tier = new SiteTier(t.Build().SourcePath, new SiteInfo("lab", "lab.deevnet.test", "02:de:77", 200, 299),
                new AccessSettings(lab["DEEV_LAB_SSH_USER"], lab["DEEV_LAB_SSH_KEY"], knownHosts, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10)),
                t.Segments, t.Hypervisors, null, t.Dns, null, t.Hosts, t.Services);
            var pool = new TransportPool();
            return (tier, TierCheckBackends.Create(tier, pool, default), pool);
        }

        [LabFact]
        public void SshAndCommandChecksPassOnTheSiteServerAndFailWithTheReason()
        {
            var lab = LabEnvironment.Require();
            var (tier, backends, pool) = LabTier(lab, lab["DEEV_LAB_KNOWN_HOSTS"],
                Check("ssh", lab["DEEV_LAB_SSH_PORT"]), Check("command", "ip netns identify $$"), Check("command", "echo broken >&2; exit 4"),
                Check("dns", "handmade", null, ("expect", "10.231.99.250")), Check("dns", "handmade", null, ("expect", "10.231.99.251")));
            using (pool)
            {
                var results = Run(tier, backends);
                AssertStatus(results.Single(r => r.Check == "ssh"), CheckStatus.Passed, "answers with the recorded");
                AssertStatus(results.Single(r => r.Check == "command" && r.Target.StartsWith("ip")), CheckStatus.Passed, "dlab-srv");
                AssertStatus(results.Single(r => r.Check == "command" && r.Target.StartsWith("echo")), CheckStatus.Failed, "exit 4", "broken");
                AssertStatus(results.Single(r => r.Check == "dns" && r.Target.EndsWith("250")), CheckStatus.Passed);
                AssertStatus(results.Single(r => r.Check == "dns" && r.Target.EndsWith("251")), CheckStatus.Failed, "resolves to 10.231.99.250", "expected 10.231.99.251");
            }
        }

        [LabFact]
        public void AChangedHostKeyFailsTheSshCheckWithBothFingerprints()
        {
            var lab = LabEnvironment.Require();
            var host = lab["DEEV_LAB_SSH_HOST"];
            var port = int.Parse(lab["DEEV_LAB_SSH_PORT"]);
            var dir = Path.Combine(Path.GetTempPath(), "deev-kh-" + Guid.NewGuid().ToString("n"));
            Directory.CreateDirectory(dir);
            try
            {
                // Another ed25519 key recorded for the server, as after a reinstall or in the middle of an attack.
                var key = Path.Combine(dir, "other");
                using (var p = System.Diagnostics.Process.Start("ssh-keygen", $"-q -t ed25519 -N \"\" -f {key}")!) p.WaitForExit();
                var other = string.Join(" ", File.ReadAllText(key + ".pub").Split(' ').Take(2));
                var knownHosts = Path.Combine(dir, "known_hosts");
                File.WriteAllText(knownHosts, $"{KnownHostsFile.LookupName(host, port)} {other}\n");
                var (tier, backends, pool) = LabTier(lab, knownHosts, Check("ssh", port.ToString()), Check("command", "true"));
                using (pool)
                {
                    var results = Run(tier, backends);
                    var ssh = results.Single(r => r.Check == "ssh");
                    AssertStatus(ssh, CheckStatus.Failed, "CHANGED", "recorded ssh-ed25519 SHA256:", "offered ssh-ed25519 SHA256:");
                    AssertStatus(results.Single(r => r.Check == "command"), CheckStatus.Failed, "CHANGED");
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [LabFact]
        public void AHostThatDoesNotAnswerFailsWithinItsTimeout()
        {
            var lab = LabEnvironment.Require();
            // A platform address of this suite's space, where it puts no guest: the site server's ARP goes unanswered.
            var ghost = LabSpace.Show(lab, "chk").Platform(0);
            var t = new TestTier().Host("ghost", "10.9.0.11", vmid: 211)
                .Service("ghost", "ghost", checks: new[] { Check("tcp", ghost + ":22", TimeSpan.FromSeconds(1)), Check("http", $"http://{ghost}:8080/", TimeSpan.FromSeconds(1)) });
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var results = Run(t.Build());
            Assert.All(results.Where(r => r.Check == "tcp" || r.Check == "http"), r =>
            {
                Assert.Equal(CheckStatus.Failed, r.Status);
                Assert.True(r.Duration < TimeSpan.FromSeconds(3), $"{r.Check} took {r.Duration}: {r.Detail}");
            });
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the run took {watch.Elapsed}");
            Assert.NotNull(lab.Root);
        }
    }
}
