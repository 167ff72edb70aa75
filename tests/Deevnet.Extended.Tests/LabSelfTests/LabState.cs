using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>What the kernel says about namespaces and processes, independent of the lab's own bookkeeping.</summary>
    public static class LabState
    {
        public static IReadOnlyList<string> Namespaces() => LabProcess.Run("ip", "netns", "list").StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();

        public static bool IsLabNamespace(string ns) => ns.StartsWith("dlab-", StringComparison.Ordinal) || ns.StartsWith("dlg-", StringComparison.Ordinal);

        /// <summary>True when the pid exists and is not a zombie.</summary>
        public static bool IsRunning(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var state = stat.Substring(stat.LastIndexOf(')') + 2, 1);
                return state != "Z" && state != "X";
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        /// <summary>Pids recorded in $ROOT/state/procs together with their start time (field 22 of /proc/pid/stat).</summary>
        public static IReadOnlyList<(int Pid, string StartTime, string Label)> RecordedProcesses(string root) =>
            File.ReadAllLines(Path.Combine(root, "state", "procs")).Where(l => l.Length > 0)
                .Select(l => l.Split(' ')).Select(f => (int.Parse(f[0]), f[1], f.Length > 3 ? f[3] : "")).ToList();

        public static string? StartTime(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return stat.Substring(stat.LastIndexOf(')') + 2).Split(' ')[19];
            }
            catch (IOException) { return null; }
        }
    }
}
