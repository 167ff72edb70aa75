using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>Guest services (sshd, httpd) are reachable from the root namespace, and `guest del` leaves nothing.</summary>
    public class GuestTests
    {
        [LabFact]
        public void GuestSshAndHttpAnswerAndDeleteLeavesNothing()
        {
            var lab = LabEnvironment.Require();
            var guest = new LabGuest(lab, LabProcess.SelfTestPrefix, LabProcess.RandomMac());
            var www = Directory.CreateTempSubdirectory("lab-www-");
            int[] pids;
            try
            {
                var ip = guest.Dhcp().StdOut.Trim();
                Assert.NotEqual("", ip);

                var ssh = LabProcess.LabSh(lab, "guest", "ssh", guest.Name);
                Assert.True(ssh.ExitCode == 0, ssh.ToString());
                Assert.Equal(ip, ssh.StdOut.Trim());
                var login = LabProcess.Run("ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                    "-o", "UserKnownHostsFile=" + lab["DEEV_LAB_KNOWN_HOSTS"], "-i", lab["DEEV_LAB_SSH_KEY"], "root@" + ip, "ip netns identify $$");
                Assert.True(login.ExitCode == 0, login.ToString());
                Assert.Equal("dlg-" + guest.Name, login.StdOut.Trim());

                File.WriteAllText(Path.Combine(www.FullName, "index.html"), guest.Name);
                var http = LabProcess.LabSh(lab, "guest", "http", guest.Name, "8080", www.FullName);
                Assert.True(http.ExitCode == 0, http.ToString());
                using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                Assert.Equal(guest.Name, client.GetStringAsync($"http://{ip}:8080/index.html").GetAwaiter().GetResult());

                pids = LabProcess.Run("ip", "netns", "pids", "dlg-" + guest.Name).StdOut
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
                Assert.True(pids.Length >= 2, "expected sshd and httpd in the guest namespace");
            }
            finally
            {
                guest.Dispose();
                www.Delete(recursive: true);
            }

            Assert.DoesNotContain("dlg-" + guest.Name, LabState.Namespaces());
            Assert.All(pids, pid => Assert.False(LabState.IsRunning(pid), $"pid {pid} of the deleted guest still runs"));
            Assert.False(Directory.Exists(Path.Combine(lab.Root, "hosts", guest.Name)));
        }
    }
}
