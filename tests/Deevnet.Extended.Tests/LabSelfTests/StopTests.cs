using System.IO;
using System.Linq;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>
    /// Stops the running lab, checks nothing of it survives, and starts it again. Its collection is not parallel, so
    /// xunit runs it after every parallel test, alone; lab.env changes on restart and LabEnvironment re-reads it.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class LabRestartCollection
    {
        public const string Name = "Lab restart (runs alone)";
    }

    [Collection(LabRestartCollection.Name)]
    public class StopTests
    {
        [LabFact]
        public void StopLeavesNoNamespaceProcessLinkOrFolderAndStartComesBack()
        {
            var lab = LabEnvironment.Require();
            var labSh = lab["DEEV_LAB_LAB_SH"];
            var guest = new LabGuest(lab, LabProcess.RandomMac());   // a guest with a running sshd must go too
            Assert.Equal(0, guest.Dhcp().ExitCode);
            Assert.Equal(0, LabProcess.LabSh(lab, "guest", "ssh", guest.Name).ExitCode);
            var recorded = LabState.RecordedProcesses(lab.Root);
            var inNamespaces = LabState.Namespaces().Where(LabState.IsLabNamespace)
                .SelectMany(ns => LabProcess.Run("ip", "netns", "pids", ns).StdOut.Split('\n', System.StringSplitOptions.RemoveEmptyEntries))
                .Select(int.Parse).ToList();
            Assert.Contains(recorded, p => p.Label == "sshd");
            Assert.NotEmpty(inNamespaces);

            ProcessResult stop;
            try
            {
                stop = LabProcess.Run(labSh, "stop");
                Assert.True(stop.ExitCode == 0, stop.ToString());

                Assert.DoesNotContain(LabState.Namespaces(), LabState.IsLabNamespace);
                Assert.All(recorded, p => Assert.False(LabState.StartTime(p.Pid) == p.StartTime && LabState.IsRunning(p.Pid),
                    $"recorded {p.Label} (pid {p.Pid}) survived stop"));
                Assert.All(inNamespaces, pid => Assert.False(LabState.IsRunning(pid), $"pid {pid} from a lab namespace survived stop"));
                Assert.NotEqual(0, LabProcess.Run("ip", "link", "show", "dlab-up").ExitCode);
                Assert.Equal("", LabProcess.Run("ip", "route", "show", "10.231.0.0/16").StdOut.Trim());
                Assert.False(Directory.Exists(lab.Root), $"{lab.Root} still exists");
            }
            finally
            {
                // Leave a running lab behind for whatever runs next (and for the caller's own `lab.sh stop`).
                var start = LabProcess.Run(labSh, "start");
                Assert.True(start.ExitCode == 0, "restart failed: " + start);
            }
            Assert.NotNull(LabEnvironment.Current);
        }
    }
}
