using System.IO;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    public class LibvirtTests
    {
        [LabFact]
        public void DomainDefinedByOneVirshIsSeenByAnother()
        {
            var lab = LabEnvironment.Require();
            var uri = lab["DEEV_LAB_LIBVIRT_URI"];
            var name = LabProcess.RandomGuestName(LabProcess.SelfTestPrefix);
            var xml = Path.GetTempFileName();
            File.WriteAllText(xml, $"<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>");
            try
            {
                var define = LabProcess.Run("virsh", "-c", uri, "define", xml);
                Assert.True(define.ExitCode == 0, define.ToString());
                var list = LabProcess.Run("virsh", "-c", uri, "list", "--all", "--name");   // a second, separate process
                Assert.True(list.ExitCode == 0, list.ToString());
                Assert.Contains(name, list.StdOut.Split('\n'));
            }
            finally
            {
                LabProcess.Run("virsh", "-c", uri, "undefine", name);
                File.Delete(xml);
            }
            Assert.DoesNotContain(name, LabProcess.Run("virsh", "-c", uri, "list", "--all", "--name").StdOut.Split('\n'));
        }

        [LabFact]
        public void TemplatesExistAsQcow2Images()
        {
            var lab = LabEnvironment.Require();
            foreach (var v in new[] { "1.0", "1.2" })
            {
                var r = LabProcess.Run("qemu-img", "info", "--output=json", Path.Combine(lab["DEEV_LAB_IMAGES"], $"lab-base-{v}.qcow2"));
                Assert.True(r.ExitCode == 0, r.ToString());
                Assert.Contains("\"format\": \"qcow2\"", r.StdOut);
            }
        }
    }
}
