using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// Debian's cloud-init 22.4 (build/lab-packages.txt) run on seeds the module writes: <c>cloud-init schema</c>, and
    /// tests/cloud-init/read_nocloud_seed.py, which loads a seed through cloud-init's own NoCloud datasource and prints
    /// what cloud-init made of it as JSON. A missing cloud-init fails the calling test; it is never skipped.
    /// </summary>
    internal static class RealCloudInit
    {
        /// <summary>Debian's python3, where python3-cloud-init lives (a python3 earlier on PATH, e.g. pyenv, lacks it).</summary>
        private const string SystemPython = "/usr/bin/python3";

        /// <summary>Asserts that <c>cloud-init schema</c> accepts <paramref name="userData"/> (written to a file in <paramref name="dir"/>).</summary>
        public static void AssertValidUserData(string dir, string name, string userData)
        {
            var file = Path.Combine(dir, name + "-user-data");
            File.WriteAllText(file, userData);
            var (code, output) = Run("cloud-init", "schema", "--config-file", file);
            Assert.True(code == 0, $"cloud-init schema rejected the {name} user-data:\n{output}\n{userData}");
            Assert.Contains("Valid cloud-config", output);
        }

        /// <summary>What cloud-init reads from a NoCloud seed of these three files (in a fresh folder under <paramref name="dir"/>).</summary>
        public static JsonElement LoadSeed(string dir, string userData, string metaData, string networkConfig)
        {
            var root = Path.Combine(dir, "seed-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            var seed = Path.Combine(root, "seed");
            var work = Path.Combine(root, "work");
            Directory.CreateDirectory(seed);
            Directory.CreateDirectory(work);
            File.WriteAllText(Path.Combine(seed, "user-data"), userData);
            File.WriteAllText(Path.Combine(seed, "meta-data"), metaData);
            File.WriteAllText(Path.Combine(seed, "network-config"), networkConfig);
            var (code, output) = Run(SystemPython, ReaderScript, seed, work);
            Assert.True(code == 0, $"cloud-init could not load the seed:\n{output}");
            return JsonDocument.Parse(output).RootElement.Clone();
        }

        /// <summary>
        /// cloud-init's ssh module deletes the image's host keys and writes exactly the seeded pair (nothing skipped as
        /// unknown), and the private key it writes is the one whose public half the module recorded as first-boot key.
        /// </summary>
        public static void AssertSeededHostKey(string dir, JsonElement seen, GeneratedHostKey key)
        {
            Assert.True(seen.GetProperty("ssh_deletekeys").GetBoolean());
            Assert.Empty(seen.GetProperty("ignored_ssh_keys").EnumerateArray());
            var hostKeys = seen.GetProperty("host_keys");
            Assert.Equal(new[] { "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub" },
                hostKeys.EnumerateObject().Select(k => k.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray());
            var privateFile = Path.Combine(dir, "host_key-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            File.WriteAllText(privateFile, hostKeys.GetProperty("/etc/ssh/ssh_host_ed25519_key").GetString());
            Transport.TestShell.Run("chmod", "600", privateFile);
            var derived = Transport.TestShell.Run("ssh-keygen", "-y", "-f", privateFile).Trim().Split(' ');
            Assert.Equal(key.PublicKey.Base64, derived[1]);
            Assert.Equal(key.PublicKeyLine, hostKeys.GetProperty("/etc/ssh/ssh_host_ed25519_key.pub").GetString());
        }

        private static string ReaderScript
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Deevnet.Extended.sln"))) dir = dir.Parent;
                return Path.Combine(dir!.FullName, "tests", "cloud-init", "read_nocloud_seed.py");
            }
        }

        /// <summary>Runs a program; a missing program (cloud-init not installed) throws, failing the test.</summary>
        private static (int Code, string Output) Run(string program, params string[] args)
        {
            var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, p.ExitCode == 0 ? stdout : stdout + stderr.Result);
        }
    }
}
