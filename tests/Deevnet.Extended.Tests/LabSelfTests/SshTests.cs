using System.IO;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    public class SshTests
    {
        private static ProcessResult Ssh(LabEnvironment lab, string knownHosts) => LabProcess.Run(
            "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5",
            "-o", "UserKnownHostsFile=" + knownHosts, "-i", lab["DEEV_LAB_SSH_KEY"], "-p", lab["DEEV_LAB_SSH_PORT"],
            lab["DEEV_LAB_SSH_USER"] + "@" + lab["DEEV_LAB_SSH_HOST"], "ip netns identify $$; echo logged-in");

        [LabFact]
        public void SiteServerAnswersWithTheRecordedHostKey()
        {
            var lab = LabEnvironment.Require();
            var r = Ssh(lab, lab["DEEV_LAB_KNOWN_HOSTS"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("logged-in", r.StdOut);
            Assert.Contains(lab["DEEV_LAB_SRV_NETNS"], r.StdOut);   // the shell really runs in the site server's namespace
        }

        [LabFact]
        public void SiteServerIsRefusedWithoutTheRecordedHostKey()
        {
            var lab = LabEnvironment.Require();
            var empty = Path.GetTempFileName();
            try
            {
                var r = Ssh(lab, empty);
                Assert.NotEqual(0, r.ExitCode);
                Assert.Contains("Host key verification failed", r.StdErr);
            }
            finally { File.Delete(empty); }
        }
    }
}
