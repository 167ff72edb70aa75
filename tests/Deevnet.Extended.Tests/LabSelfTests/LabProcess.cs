using System;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Tasks;
using Deevnet.Extended.Tests.Lab;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>The result of one finished command.</summary>
    public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
    {
        public override string ToString() => $"exit {ExitCode}; stdout: {StdOut.Trim()}; stderr: {StdErr.Trim()}";
    }

    /// <summary>Runs the command-line clients the self-tests use (lab.sh, ssh, dig, virsh) with a timeout.</summary>
    public static class LabProcess
    {
        public static ProcessResult Run(string file, params string[] args) => Run(TimeSpan.FromSeconds(60), file, args);

        public static ProcessResult Run(TimeSpan timeout, string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit((int)timeout.TotalMilliseconds))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
            }
            Task.WaitAll(stdout, stderr);
            return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
        }

        /// <summary>tests/lab/lab.sh of the running lab (as recorded in lab.env).</summary>
        public static ProcessResult LabSh(LabEnvironment lab, params string[] args) => Run(lab["DEEV_LAB_LAB_SH"], args);

        /// <summary>The lab self-tests' MAC prefix and guest name prefix (their space "self" in tests/lab/spaces).</summary>
        public const string SelfTestMacPrefix = "02:de:3f";
        public const string SelfTestPrefix = "self-";

        /// <summary>
        /// A random locally administered unicast MAC under a suite's three-octet prefix (its space in tests/lab/spaces;
        /// default: the self-tests'), so tests of one suite never collide and never use another suite's MACs.
        /// </summary>
        public static string RandomMac(string prefix = SelfTestMacPrefix)
        {
            var b = RandomNumberGenerator.GetBytes(3);
            return $"{prefix}:{b[0]:x2}:{b[1]:x2}:{b[2]:x2}";
        }

        /// <summary>A random guest name under a suite's prefix (default: the self-tests').</summary>
        public static string RandomGuestName(string prefix = SelfTestPrefix) => prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
    }

    /// <summary>A lab guest that exists for one test and is deleted afterwards.</summary>
    public sealed class LabGuest : IDisposable
    {
        private readonly LabEnvironment _lab;

        /// <param name="namePrefix">The suite's guest name prefix (its space), e.g. <c>dhb-</c>.</param>
        public LabGuest(LabEnvironment lab, string namePrefix, string mac, params string[] options)
        {
            _lab = lab;
            Name = LabProcess.RandomGuestName(namePrefix);
            Mac = mac;
            var args = new System.Collections.Generic.List<string> { "guest", "add", Name, "--mac", mac };
            args.AddRange(options);
            var r = LabProcess.LabSh(lab, args.ToArray());
            if (r.ExitCode != 0) throw new Xunit.Sdk.XunitException($"lab.sh guest add {Name} failed: {r}");
        }

        public string Name { get; }
        public string Mac { get; }

        /// <summary>Leases an address by real DHCP; the result carries the address on stdout.</summary>
        public ProcessResult Dhcp() => LabProcess.LabSh(_lab, "guest", "dhcp", Name);

        public ProcessResult Exec(params string[] command)
        {
            var args = new System.Collections.Generic.List<string> { "guest", "exec", Name, "--" };
            args.AddRange(command);
            return LabProcess.LabSh(_lab, args.ToArray());
        }

        public void Dispose() => LabProcess.LabSh(_lab, "guest", "del", Name);
    }
}
