using System;
using System.IO;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>A valid small tier (line numbers matter: tests point at them) and a temp folder to write variants into.</summary>
    public sealed class TierTestFiles : IDisposable
    {
        public const string Recipient = "age1q66nmj3n5xftvkt7rn479ht6a0a6ahtrfhpqvnkjskya6tvk0czq0rxagz";

        public static readonly string Valid = string.Join("\n",
            "site: { name: t, domain: t.deevnet.test, macNamespace: \"02:de:20\", vmidRange: [200, 299] }",        // 1
            "segments:",                                                                                            // 2
            "  mgmt: { vlan: 99, subnet: 10.1.99.0/24, gateway: 10.1.99.1, addressing: reservation }",             // 3
            "  tenant: { vlan: 50, subnet: 10.1.50.0/24, gateway: 10.1.50.1, tenant: true }",                       // 4
            "hypervisors:",                                                                                         // 5
            "  hv: { kind: libvirt, via: local, template: t- }",                                                    // 6
            "backup: { store: /srv/b, recipient: " + Recipient + " }",                                              // 7
            "hosts:",                                                                                               // 8
            "  h1: { segment: mgmt, ip: 10.1.99.10, hypervisor: hv, vmid: 207 }",                                   // 9
            "  h2: { segment: mgmt, ip: 10.1.99.11, hypervisor: hv }",                                              // 10
            "services:",                                                                                            // 11
            "  s1: { class: observability, host: h1, names: [s1], checks: [{ tcp: 80 }], backup: { paths: [/srv/s1] } }", // 12
            "  s2: { class: access, host: h2, backup: { none: \"stateless\" } }",                                   // 13
            "");

        public TierTestFiles()
        {
            Folder = Path.Combine(Path.GetTempPath(), "deev-tier-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(Folder);
        }

        public string Folder { get; }

        /// <summary>Writes a tier file and returns its full path.</summary>
        public string Write(string text, string name = "t.tier.yaml")
        {
            var path = Path.Combine(Folder, name);
            File.WriteAllText(path, text);
            return path;
        }

        /// <summary>The valid tier with one fragment replaced; fails loudly when the fragment is not there.</summary>
        public static string With(string find, string replace)
        {
            if (!Valid.Contains(find)) throw new ArgumentException($"'{find}' is not in the test tier");
            return Valid.Replace(find, replace);
        }

        public static string RepoFile(string relative)
        {
            var dir = AppContext.BaseDirectory;
            while (dir != null && !File.Exists(Path.Combine(dir, "Deevnet.Extended.sln"))) dir = Path.GetDirectoryName(dir);
            return Path.Combine(dir ?? throw new InvalidOperationException("repository root not found"), relative);
        }

        public void Dispose()
        {
            try { Directory.Delete(Folder, true); } catch (IOException) { }
        }
    }
}
