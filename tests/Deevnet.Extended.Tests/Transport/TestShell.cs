using System;
using System.Diagnostics;
using System.IO;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>Runs a program directly (argv, no shell) for test set-up, failing loudly when it fails.</summary>
    internal static class TestShell
    {
        public static string Run(string program, params string[] args)
        {
            var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(" ", args)} failed ({p.ExitCode}): {stderr}");
            return stdout.Result;
        }

        /// <summary>A fresh folder under /tmp that the caller deletes.</summary>
        public static string TempDirectory(string prefix)
        {
            var dir = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N").Substring(0, 10));
            Directory.CreateDirectory(dir);
            return dir;
        }

        /// <summary>Generates an OpenSSH key pair without pass phrase; returns the private key path.</summary>
        public static string KeyPair(string directory, string name, string type = "ed25519")
        {
            var path = Path.Combine(directory, name);
            var args = type == "rsa" ? new[] { "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", name, "-f", path } : new[] { "-q", "-t", type, "-N", "", "-C", name, "-f", path };
            Run("ssh-keygen", args);
            return path;
        }

        /// <summary>What <c>ssh-keygen -lf</c> prints as the fingerprint of a public key file.</summary>
        public static string KeygenFingerprint(string publicKeyFile) => Run("ssh-keygen", "-lf", publicKeyFile).Split(' ')[1];
    }
}
