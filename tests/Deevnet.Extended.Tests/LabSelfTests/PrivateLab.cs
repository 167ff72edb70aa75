using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>
    /// A second lab, private to one test: a holder process in its own network and mount namespace
    /// (<c>unshare --net --mount --propagation private</c>) with a fresh tmpfs over <c>/run</c>, so the lab's fixed
    /// names (<c>/run/netns/dlab-*</c>, <c>/run/deevnet-lab</c>, <c>/run/libvirt</c>, <c>/run/sshd</c>), its
    /// <c>dlab-up</c> link and its 10.231.0.0/16 route exist only in there. lab.sh runs unchanged inside it
    /// (<c>nsenter</c>); its files are read through <c>/proc/&lt;holder&gt;/root</c>. Stopping, restarting or breaking
    /// this lab cannot touch the shared lab the other suites use, and the shared lab cannot touch it.
    /// </summary>
    public sealed class PrivateLab : IDisposable
    {
        /// <summary>The lab root inside the private mount namespace (lab.sh's default).</summary>
        public const string InnerRoot = "/run/deevnet-lab";

        private readonly Process _holder;
        private readonly string _labSh;

        public PrivateLab(string labSh)
        {
            _labSh = labSh;
            var psi = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--net", "--mount", "--propagation", "private", "--", "sh", "-c",
                "mount -t tmpfs -o mode=755 deevnet-private-lab /run && ip link set lo up && echo ready && exec sleep infinity" })
                psi.ArgumentList.Add(a);
            _holder = Process.Start(psi) ?? throw new InvalidOperationException("could not start unshare");
            var ready = _holder.StandardOutput.ReadLine();
            if (ready != "ready")
            {
                var err = _holder.StandardError.ReadToEnd();
                Kill();
                throw new Xunit.Sdk.XunitException($"the private lab's namespaces could not be made: {ready} {err}".Trim());
            }
            Pid = _holder.Id;
        }

        /// <summary>The holder: its namespaces are the private lab's.</summary>
        public int Pid { get; }

        /// <summary>The lab root as this (root-namespace) process sees it.</summary>
        public string Root => $"/proc/{Pid}/root{InnerRoot}";

        /// <summary>A command inside the private namespaces (network and mount).</summary>
        public ProcessResult Run(params string[] command)
        {
            var args = new List<string> { "-t", Pid.ToString(), "--net", "--mount", "--", "env", "DEEV_LAB_ROOT=" + InnerRoot };
            args.AddRange(command);
            return LabProcess.Run(TimeSpan.FromSeconds(120), "nsenter", args.ToArray());
        }

        /// <summary>lab.sh inside the private namespaces.</summary>
        public ProcessResult LabSh(params string[] args) => Run(new[] { _labSh }.Concat(args).ToArray());

        public IReadOnlyList<string> Namespaces() => Run("ip", "netns", "list").StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();

        public IReadOnlyList<int> NamespacePids(string ns) => Run("ip", "netns", "pids", ns).StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();

        /// <summary>Stops whatever lab runs in there, then the holder; the namespaces go with their last process.</summary>
        public void Dispose()
        {
            try
            {
                if (!_holder.HasExited && File.Exists(Path.Combine(Root, "state", "procs"))) LabSh("stop");
            }
            finally
            {
                Kill();
            }
        }

        private void Kill()
        {
            try
            {
                if (!_holder.HasExited) _holder.Kill(entireProcessTree: true);
                _holder.WaitForExit(10000);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            _holder.Dispose();
        }
    }
}
