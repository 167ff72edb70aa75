using System.IO;
using System.Linq;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>
    /// Starts a lab of its own (<see cref="PrivateLab"/>: private network and mount namespaces), stops it, checks nothing
    /// of it survives, and starts it again. The shared lab the other suites use is never stopped or restarted: it must
    /// still run with the same lab.env (same keys) afterwards, so this test may run at any time, beside anything.
    /// </summary>
    public class StopTests
    {
        [LabFact]
        public void StopLeavesNoNamespaceProcessLinkOrFolderAndStartComesBack()
        {
            var shared = LabEnvironment.Require();
            var sharedEnv = File.ReadAllText(Path.Combine(shared.Root, "lab.env"));
            var sharedNamespaces = LabState.Namespaces().Where(LabState.IsLabNamespace).ToList();

            using (var lab = new PrivateLab(shared["DEEV_LAB_LAB_SH"]))
            {
                var start = lab.LabSh("start");
                Assert.True(start.ExitCode == 0, "private lab start failed: " + start);

                // A guest with a running sshd must go too.
                var guest = LabProcess.RandomGuestName(LabProcess.SelfTestPrefix);
                Assert.Equal(0, lab.LabSh("guest", "add", guest, "--mac", LabProcess.RandomMac()).ExitCode);
                var dhcp = lab.LabSh("guest", "dhcp", guest);
                Assert.True(dhcp.ExitCode == 0, dhcp.ToString());
                var ssh = lab.LabSh("guest", "ssh", guest);
                Assert.True(ssh.ExitCode == 0, ssh.ToString());
                var recorded = LabState.RecordedProcesses(lab.Root);
                var inNamespaces = lab.Namespaces().Where(LabState.IsLabNamespace).SelectMany(lab.NamespacePids).ToList();
                Assert.Contains(recorded, p => p.Label == "sshd");
                Assert.Contains("dlg-" + guest, lab.Namespaces());
                Assert.NotEmpty(inNamespaces);
                // The private lab's namespaces are not the shared lab's: the root namespace does not see the guest.
                Assert.DoesNotContain("dlg-" + guest, LabState.Namespaces());

                var stop = lab.LabSh("stop");
                Assert.True(stop.ExitCode == 0, stop.ToString());

                Assert.DoesNotContain(lab.Namespaces(), LabState.IsLabNamespace);
                Assert.All(recorded, p => Assert.False(LabState.StartTime(p.Pid) == p.StartTime && LabState.IsRunning(p.Pid),
                    $"recorded {p.Label} (pid {p.Pid}) survived stop"));
                Assert.All(inNamespaces, pid => Assert.False(LabState.IsRunning(pid), $"pid {pid} from a lab namespace survived stop"));
                Assert.NotEqual(0, lab.Run("ip", "link", "show", "dlab-up").ExitCode);
                Assert.Equal("", lab.Run("ip", "route", "show", "10.231.0.0/16").StdOut.Trim());
                Assert.False(Directory.Exists(lab.Root), $"{PrivateLab.InnerRoot} still exists in the private lab");

                var again = lab.LabSh("start");
                Assert.True(again.ExitCode == 0, "restart failed: " + again);
                var status = lab.LabSh("status");
                Assert.True(status.ExitCode == 0, status.ToString());
                Assert.True(File.Exists(Path.Combine(lab.Root, "lab.env")));
                Assert.Equal(0, lab.LabSh("stop").ExitCode);
            }

            // The shared lab saw none of it: same lab.env (same keys), same namespaces, still running.
            Assert.Equal(sharedEnv, File.ReadAllText(Path.Combine(shared.Root, "lab.env")));
            Assert.Equal(sharedNamespaces.Where(n => n.StartsWith("dlab-", System.StringComparison.Ordinal)).OrderBy(n => n),
                LabState.Namespaces().Where(n => n.StartsWith("dlab-", System.StringComparison.Ordinal)).OrderBy(n => n));
            Assert.Equal(0, LabProcess.LabSh(shared, "status").ExitCode);
        }
    }
}
