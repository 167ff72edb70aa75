using System.Net;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>Guests lease addresses by real DHCP from dnsmasq (site server) and Kea (its own segment).</summary>
    public class DhcpTests
    {
        private static void AssertPoolAddress(string leased)
        {
            var ip = IPAddress.Parse(leased.Trim()).GetAddressBytes();
            Assert.Equal(new byte[] { 10, 231, 99 }, ip[..3]);
            Assert.InRange(ip[3], 100, 150);
        }

        [LabTheory]
        [InlineData("dnsmasq")]
        [InlineData("kea")]
        public void GuestGetsAPoolAddress(string server)
        {
            var lab = LabEnvironment.Require();
            using var guest = new LabGuest(lab, LabProcess.SelfTestPrefix, LabProcess.RandomMac(), "--server", server);
            var r = guest.Dhcp();
            Assert.True(r.ExitCode == 0, r.ToString());
            AssertPoolAddress(r.StdOut);
            // The address is really configured on the guest's interface, not only reported.
            var addr = guest.Exec("ip", "-4", "-o", "addr", "show", "dev", "eth0");
            Assert.Contains(r.StdOut.Trim() + "/24", addr.StdOut);
        }

        [LabFact]
        public void KeaHandMadeReservationGivesItsAddress()
        {
            var lab = LabEnvironment.Require();
            using var guest = new LabGuest(lab, LabProcess.SelfTestPrefix, "02:aa:00:00:00:01", "--server", "kea");
            var r = guest.Dhcp();
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("10.231.99.250", r.StdOut.Trim());
        }

        [LabFact]
        public void GuestWithoutAServerGetsNoLeaseAndFails()
        {
            var lab = LabEnvironment.Require();
            // The tenant segment has no DHCP server: lab.sh must fail, not invent an address.
            using var guest = new LabGuest(lab, LabProcess.SelfTestPrefix, LabProcess.RandomMac(), "--segment", "tenant-a");
            var r = guest.Dhcp();
            Assert.NotEqual(0, r.ExitCode);
            Assert.Equal("", r.StdOut.Trim());
        }
    }
}
