using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Core.Vm.Libvirt;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>A rebuilt VM's host key made by the module, handed in through the seed, trusted for its first boot only.</summary>
    public sealed class FirstBootHostKeyTests : IDisposable
    {
        private readonly string _dir = TestShell.TempDirectory("deev-fb-");

        public void Dispose() => Directory.Delete(_dir, true);

        private static VmSpec Spec() => new VmSpec("dv01acc001v01", 701, "02:de:77:00:02:bd", "kvm1", "management", "br-mgmt", null, 1, 512, null, null, true, null,
            new CloudInitSettings(true, null, null, Array.Empty<IPAddress>(), null, "ops", null), IPAddress.Parse("10.0.0.5"), "dv01acc001v01.site.test");

        [Fact]
        public void Generated_key_is_an_openssh_ed25519_key_whose_public_half_ssh_keygen_derives()
        {
            var key = GeneratedHostKey.NewEd25519("dv01acc001v01");
            var file = Path.Combine(_dir, "key");
            File.WriteAllText(file, key.PrivateKeyPem);
            TestShell.Run("chmod", "600", file);   // ssh-keygen refuses a private key others can read
            var derived = TestShell.Run("ssh-keygen", "-y", "-f", file).Trim().Split(' ');
            Assert.Equal("ssh-ed25519", derived[0]);
            Assert.Equal(key.PublicKey.Base64, derived[1]);
            Assert.Equal(key.PublicKey.Fingerprint, key.ToString().Split(' ')[1]);
            Assert.DoesNotContain("PRIVATE", key.ToString());
            Assert.NotEqual(key.PublicKey, GeneratedHostKey.NewEd25519("x").PublicKey);
        }

        [Fact]
        public void Seed_user_data_installs_the_key_as_the_only_host_key_and_the_compared_summary_ignores_it()
        {
            var spec = Spec();
            var without = CloudInitSeed.Summary(spec);
            var plain = CloudInitSeed.UserData(spec);
            spec.FirstBootHostKey = GeneratedHostKey.NewEd25519(spec.Name);
            var userData = CloudInitSeed.UserData(spec);
            Assert.DoesNotContain("ssh_keys", plain);
            Assert.DoesNotContain("ssh_genkeytypes", userData);   // cloud-init 22.4 rejects an empty list; ssh_keys alone stops key generation
            Assert.Contains("ssh_deletekeys: true\n", userData);
            Assert.Contains("  ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n", userData);
            Assert.Contains($"  ed25519_public: \"ssh-ed25519 {spec.FirstBootHostKey.PublicKey.Base64} {spec.Name}\"\n", userData);
            // The key is new for every VM and only read at first boot: it must not make an existing VM look changed.
            Assert.Equal(without, CloudInitSeed.Summary(spec));
            Assert.DoesNotContain("PRIVATE", CloudInitSeed.Summary(spec));
        }

        [Fact]
        public void First_boot_line_is_trusted_beside_the_recorded_key_and_removed_alone()
        {
            var path = Path.Combine(_dir, "known_hosts");
            var lasting = new HostKey("ssh-ed25519", Convert.FromBase64String(File.ReadAllText(TestShell.KeyPair(_dir, "old") + ".pub").Split(' ')[1]));
            File.WriteAllLines(path, new[] { "# operator's comment", "other ssh-ed25519 " + lasting.Base64 });
            KnownHostsFile.Add(path, "10.0.0.5", 22, lasting);
            var firstBoot = GeneratedHostKey.NewEd25519("h").PublicKey;
            KnownHostsFile.Add(path, "10.0.0.5", 22, firstBoot, firstBoot: true);

            var file = KnownHostsFile.Load(path);
            var seeded = file.Check("10.0.0.5", 22, firstBoot);
            Assert.Equal(HostKeyStatus.Known, seeded.Status);
            Assert.True(seeded.Recorded!.IsFirstBoot);
            var restored = file.Check("10.0.0.5", 22, lasting);
            Assert.Equal(HostKeyStatus.Known, restored.Status);
            Assert.False(restored.Recorded!.IsFirstBoot);
            var report = new HostKeyReport("h", 22, seeded);
            Assert.True(report.IsFirstBootKey);
            Assert.Equal(new[] { lasting.Fingerprint }, report.RecordedFingerprints);
            Assert.Equal(new[] { firstBoot.Fingerprint }, report.FirstBootFingerprints);

            Assert.Equal(1, KnownHostsFile.RemoveFirstBoot(path, "10.0.0.5", 22));
            Assert.Equal(new[] { "# operator's comment", "other ssh-ed25519 " + lasting.Base64, "10.0.0.5 ssh-ed25519 " + lasting.Base64 }, File.ReadAllLines(path));
            Assert.Equal(HostKeyStatus.Changed, KnownHostsFile.Load(path).Check("10.0.0.5", 22, firstBoot).Status);
            Assert.Equal(0, KnownHostsFile.RemoveFirstBoot(path, "10.0.0.5", 22));
        }

        [Fact]
        public void Retiring_conflicting_keys_leaves_first_boot_lines_to_their_own_removal()
        {
            var path = Path.Combine(_dir, "known_hosts");
            var old = GeneratedHostKey.NewEd25519("old").PublicKey;
            var seeded = GeneratedHostKey.NewEd25519("new").PublicKey;
            KnownHostsFile.Add(path, "h", 22, old);
            KnownHostsFile.Add(path, "h", 22, seeded, firstBoot: true);
            KnownHostsFile.Add(path, "h", 22, seeded, retireConflicting: true);
            var lines = File.ReadAllLines(path);
            Assert.StartsWith("#deevnet-replaced ", lines[0]);
            Assert.EndsWith(KnownHostsFile.FirstBootMarker, lines[1]);
            Assert.Equal($"h ssh-ed25519 {seeded.Base64}", lines[2]);
        }

        [Fact]
        public async Task Concurrent_writers_keep_every_line()
        {
            var path = Path.Combine(_dir, "known_hosts");
            var keys = Enumerable.Range(0, 40).Select(i => GeneratedHostKey.NewEd25519("k" + i).PublicKey).ToList();
            await Task.WhenAll(keys.Select((k, i) => Task.Run(() => KnownHostsFile.Add(path, "host" + i, 22, k, firstBoot: i % 2 == 0))));
            var file = KnownHostsFile.Load(path);
            for (var i = 0; i < keys.Count; i++) Assert.Equal(HostKeyStatus.Known, file.Check("host" + i, 22, keys[i]).Status);
            Assert.Equal(40, File.ReadAllLines(path).Length);
        }
    }
}
