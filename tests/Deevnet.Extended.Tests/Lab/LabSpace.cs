using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Security.Cryptography;

namespace Deevnet.Extended.Tests.Lab
{
    /// <summary>
    /// A suite's own slice of the shared lab (tests/lab/spaces, <c>lab.sh space</c>): its MAC prefix, VMIDs, 16-address
    /// blocks per segment, DNS domain <c>&lt;id&gt;.lab.deevnet.test</c>, its own dnsmasq and Unbound files, its folder
    /// under the lab root and, where the row says so, its own zones and a tier (the lab tier rewritten into the space).
    /// A suite uses nothing outside its space, so no other suite's state, order or timing can change its results.
    /// </summary>
    public sealed class LabSpace
    {
        private readonly IReadOnlyDictionary<string, string> _values;

        private LabSpace(IReadOnlyDictionary<string, string> values)
        {
            _values = values;
        }

        /// <summary>A fresh space: what an earlier instance of it left in the lab's files and zones is gone.</summary>
        public static LabSpace Add(LabEnvironment lab, string id) => new LabSpace(Parse(RunLabSh(lab, "space", "add", id)));

        /// <summary>The space's values without creating anything (for suites that own only names and addresses).</summary>
        public static LabSpace Show(LabEnvironment lab, string id) => new LabSpace(Parse(RunLabSh(lab, "space", "show", id)));

        /// <summary>Removes the space's files, links and zones (the suite removes its server entries before).</summary>
        public static void Delete(LabEnvironment lab, string id) => RunLabSh(lab, "space", "del", id);

        public string this[string key] => _values.TryGetValue("DEEV_SPACE_" + key, out var v) && v.Length > 0
            ? v : throw new KeyNotFoundException($"Space {Id} has no {key} (see tests/lab/spaces).");

        public string Id => _values["DEEV_SPACE_ID"];
        public string Root => this["ROOT"];
        public string Domain => this["DOMAIN"];
        public string GuestPrefix => this["GUEST_PREFIX"];
        public string HostPrefix => this["HOST_PREFIX"];
        public string MacPrefix => this["MAC_PREFIX"];
        public string Tier => this["TIER"];
        public string DnsmasqHosts => this["DNSMASQ_HOSTS"];
        public string DnsmasqRecords => this["DNSMASQ_RECORDS"];
        public string UnboundInclude => this["UNBOUND_INCLUDE"];
        public string Handmade => this["HANDMADE"];
        public int FirstVmId => int.Parse(this["VMID"]);

        /// <summary>Address <paramref name="n"/> (0-15) of the space's block on the management segment.</summary>
        public string Mgmt(int n) => Offset(this["MGMT"], n);
        public string Platform(int n) => Offset(this["PLATFORM"], n);
        public string Tenant(int n) => Offset(this["TENANT"], n);

        /// <summary>A tier host's name in the space: the lab tier's dv99&lt;suffix&gt; is &lt;id&gt;&lt;suffix&gt; here.</summary>
        public string Host(string suffix) => HostPrefix + suffix;

        /// <summary>The MAC the module derives for <paramref name="vmId"/> in the space's namespace (prefix + VMID, big-endian).</summary>
        public string MacForVmId(int vmId) => $"{MacPrefix}:{(vmId >> 16) & 0xff:x2}:{(vmId >> 8) & 0xff:x2}:{vmId & 0xff:x2}";

        public string RandomMac()
        {
            var b = RandomNumberGenerator.GetBytes(3);
            return $"{MacPrefix}:{b[0]:x2}:{b[1]:x2}:{b[2]:x2}";
        }

        /// <summary>True for a MAC under the space's prefix.</summary>
        public bool OwnsMac(string mac) => mac.StartsWith(MacPrefix + ":", StringComparison.OrdinalIgnoreCase);

        /// <summary>True for an address in one of the space's blocks or nets.</summary>
        public bool OwnsAddress(string address)
        {
            if (!IPAddress.TryParse(address, out var ip)) return false;
            var value = ToUInt(ip);
            foreach (var key in new[] { "DEEV_SPACE_MGMT", "DEEV_SPACE_PLATFORM", "DEEV_SPACE_TENANT" })
            {
                if (_values.TryGetValue(key, out var first) && first.Length > 0 && value - ToUInt(IPAddress.Parse(first)) < 16) return true;
            }
            var nets = _values.TryGetValue("DEEV_SPACE_NETS", out var n) ? n : "";
            return nets.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Any(net => (value >> 8) == (ToUInt(IPAddress.Parse(net.Split('/')[0])) >> 8));
        }

        /// <summary>The space's own /24s (tests/lab/spaces), e.g. 10.231.98.0/24.</summary>
        public IReadOnlyList<string> Nets => (_values.TryGetValue("DEEV_SPACE_NETS", out var n) ? n : "").Split(',', StringSplitOptions.RemoveEmptyEntries);

        private static uint ToUInt(IPAddress ip)
        {
            var b = ip.GetAddressBytes();
            return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        }

        private static string Offset(string first, int n)
        {
            if (n < 0 || n > 15) throw new ArgumentOutOfRangeException(nameof(n), "a space has 16 addresses per segment");
            var b = IPAddress.Parse(first).GetAddressBytes();
            b[3] = (byte)(b[3] + n);
            return new IPAddress(b).ToString();
        }

        private static Dictionary<string, string> Parse(string text) => text.Split('\n')
            .Select(l => l.Trim()).Where(l => l.StartsWith("DEEV_SPACE_", StringComparison.Ordinal) && l.Contains('='))
            .ToDictionary(l => l.Substring(0, l.IndexOf('=')), l => l.Substring(l.IndexOf('=') + 1), StringComparer.Ordinal);

        private static string RunLabSh(LabEnvironment lab, params string[] args)
        {
            var psi = new ProcessStartInfo(lab["DEEV_LAB_LAB_SH"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start lab.sh");
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"lab.sh {string.Join(' ', args)} failed (exit {p.ExitCode}): {stderr.Trim()}");
            return stdout.Result;
        }
    }

    /// <summary>
    /// An xunit class fixture that gives the test class a fresh space for its whole run and removes it afterwards.
    /// Without a running lab it holds nothing; the class's [LabFact]s then skip or fail as usual.
    /// </summary>
    public abstract class LabSpaceFixture : IDisposable
    {
        private readonly LabSpace? _space;
        private readonly LabEnvironment? _lab;

        protected LabSpaceFixture(string id)
        {
            Id = id;
            _lab = LabEnvironment.Current;
            if (_lab != null) _space = LabSpace.Add(_lab, id);
        }

        public string Id { get; }

        /// <summary>The space; fails the test with the lab's reason when there is no lab.</summary>
        public LabSpace Space => _space ?? throw new Xunit.Sdk.XunitException(LabEnvironment.WhyNotRunning());

        public virtual void Dispose()
        {
            if (_lab != null && _space != null) LabSpace.Delete(_lab, Id);
        }
    }
}
