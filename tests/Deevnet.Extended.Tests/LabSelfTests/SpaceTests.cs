using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>
    /// Suite spaces (lab.sh space, tests/lab/spaces): the table's rows are disjoint, `space add` gives a space its own
    /// served files, zones and tier, a second `add` starts it fresh, and `space del` leaves nothing of it. Uses the
    /// space sptst, which nothing else uses.
    /// </summary>
    public class SpaceTests
    {
        private const string Id = "sptst";

        private static readonly (string Server, string PortKey)[] DnsServers =
        {
            ("dnsmasq", ""), ("unbound", "DEEV_LAB_UNBOUND_PORT"), ("bind", "DEEV_LAB_BIND_PORT"), ("powerdns", "DEEV_LAB_PDNS_PORT"),
        };

        [LabFact]
        public void TheSpacesTableIsDisjoint()
        {
            var lab = LabEnvironment.Require();
            var r = LabProcess.LabSh(lab, "space", "check");
            Assert.True(r.ExitCode == 0, r.ToString());
        }

        [LabFact]
        public void AddGivesItsOwnServedFilesZonesAndTierAgainStartsFreshAndDelLeavesNothing()
        {
            var lab = LabEnvironment.Require();
            var space = LabSpace.Add(lab, Id);
            try
            {
                Assert.Equal(Id + "." + lab["DEEV_LAB_DOMAIN"], space.Domain);
                // The hand-made record of the space's zones, in every DNS server of the lab.
                foreach (var (server, key) in DnsServers)
                {
                    Assert.Equal(space.Handmade, Dig(lab, key, "handmade." + space.Domain));
                    Assert.Equal("handmade." + space.Domain + ".", Dig(lab, key, "-x", space.Handmade));
                }

                // The space's own records file is served (dnsmasq reads records.d/ on SIGHUP).
                File.WriteAllText(space.DnsmasqRecords, $"{space.Mgmt(1)} marker.{space.Domain}\n");
                Hup(lab);
                Assert.True(Eventually(() => Dig(lab, "", "marker." + space.Domain) == space.Mgmt(1)), "dnsmasq does not serve the space's records file");

                // Its tier is the lab tier in the space: its domain, MAC namespace, VMIDs, host names, addresses, files.
                var tier = File.ReadAllText(space.Tier);
                Assert.Contains($"domain: {space.Domain}", tier);
                Assert.Contains($"macNamespace: \"{space.MacPrefix}\"", tier);
                Assert.Contains($"vmidRange: [{space.FirstVmId}, {space.FirstVmId + 99}]", tier);
                Assert.Contains($"{space.Host("obs001v01")}: {{ segment: management, ip: {space.Mgmt(5)},", tier);
                Assert.Contains($"hostsFile: {space.DnsmasqHosts}", tier);
                Assert.Contains($"recordsFile: {space.DnsmasqRecords}", tier);
                Assert.DoesNotContain("dv99", tier);

                // Again: fresh. What the first instance wrote is gone; the hand-made record is back as made.
                space = LabSpace.Add(lab, Id);
                Assert.Equal("", File.ReadAllText(space.DnsmasqRecords));
                Assert.True(Eventually(() => Dig(lab, "", "marker." + space.Domain) == ""), "the old space's record is still served");
                Assert.Equal(space.Handmade, Dig(lab, "DEEV_LAB_BIND_PORT", "handmade." + space.Domain));
            }
            finally
            {
                LabSpace.Delete(lab, Id);
            }

            Assert.False(Directory.Exists(space.Root));
            foreach (var dir in new[] { "dnsmasq/records.d", "dnsmasq/dhcp-hosts.d", "unbound/deevnet.d", "dnsmasq/conf.d" })
                Assert.DoesNotContain(Directory.GetFileSystemEntries(Path.Combine(lab.Root, dir)), f => Path.GetFileName(f).Contains(Id));
            foreach (var (server, key) in DnsServers)
                Assert.True(Eventually(() => Dig(lab, key, "handmade." + space.Domain) == ""), $"{server} still answers the deleted space's record");
            var zones = LabProcess.Run("curl", "-sS", "-H", "X-API-Key: " + lab["DEEV_LAB_PDNS_API_KEY"], lab["DEEV_LAB_PDNS_API"] + "/api/v1/servers/localhost/zones");
            Assert.DoesNotContain(space.Domain, zones.StdOut);
        }

        private static string Dig(LabEnvironment lab, string portKey, params string[] query)
        {
            var args = new[] { "@" + lab["DEEV_LAB_SSH_HOST"], "-p", portKey.Length == 0 ? "53" : lab[portKey], "+short", "+time=2", "+tries=2" }.Concat(query).ToArray();
            var r = LabProcess.Run("dig", args);
            Assert.True(r.ExitCode == 0, r.ToString());
            return r.StdOut.Trim();
        }

        private static void Hup(LabEnvironment lab) =>
            Assert.Equal(0, LabProcess.Run("kill", "-HUP", File.ReadAllText(lab["DEEV_LAB_DNSMASQ_PID"]).Trim()).ExitCode);

        private static bool Eventually(Func<bool> condition)
        {
            var watch = Stopwatch.StartNew();
            while (!condition())
            {
                if (watch.Elapsed > TimeSpan.FromSeconds(5)) return false;
                System.Threading.Thread.Sleep(100);
            }
            return true;
        }
    }
}
