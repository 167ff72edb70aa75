using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Inventory
{
    /// <summary>The converted tier file's text, in the layout of examples/mobile.tier.yaml. Values are quoted where YAML needs it.</summary>
    internal sealed class TierText
    {
        private static readonly Regex Plain = new Regex(@"^[A-Za-z0-9][A-Za-z0-9._/@-]*$", RegexOptions.CultureInvariant);
        private static readonly Regex StartupPart = new Regex(@"^(order|up|down)=([0-9]+)$", RegexOptions.CultureInvariant);
        private readonly StringBuilder _sb = new StringBuilder();

        public void Line(string text) => _sb.Append(text).Append('\n');

        public void Header(string directory)
        {
            Line("# Converted by ConvertFrom-DeevAnsibleInventory from the Ansible inventory " + Comment(directory) + ".");
            Line("# VMIDs the inventory allocated (identity.yml) are in the identity companion; literal VMIDs are fixed here (vmid:).");
            Line("# Secrets stay in the inventory's vault: every secret below is an …Env reference to set before use.");
        }

        public void Site(string name, string domain, string macNamespace, int min, int max) =>
            Line($"site: {{ name: {Quote(name)}, domain: {Quote(domain)}, macNamespace: \"{macNamespace}\", vmidRange: [{min}, {max}] }}");

        public void Hosts(IEnumerable<InventoryConverter.HostPlan> hosts)
        {
            Line("");
            Line("hosts:");
            var any = false;
            foreach (var plan in hosts)
            {
                any = true;
                var h = plan.Host;
                var m = plan.MgmtVm;
                var fields = new List<string> { "segment: " + h.Segment, "ip: " + h.IPAddress };
                if (plan.Hypervisor != null) fields.Add("hypervisor: " + plan.Hypervisor);
                if (h.FixedVmId && h.VmId != null) fields.Add("vmid: " + h.VmId.Value.ToString(CultureInfo.InvariantCulture));
                if (Number(m?["cores"]) is string cores) fields.Add("cores: " + cores);
                if (Number(m?["memory"]) is string memory) fields.Add("memory: " + memory);
                if (Number(m?["os_disk_size"]?.Text?.TrimEnd('G', 'g')) is string disk) fields.Add("disk: " + disk);
                if (m?["data_disk"] is Located data && Number(data["size"]) is string size)
                {
                    var parts = new List<string> { "size: " + size };
                    if (data["mount"]?.Text is string mount && mount.StartsWith("/")) parts.Add("mount: " + Quote(mount));
                    if (data["serial"]?.Text is string serial && TierSyntax.IsDiskSerial(serial)) parts.Add("serial: " + serial);
                    fields.Add("dataDisk: { " + string.Join(", ", parts) + " }");
                }
                if (m?["startup"]?.Text is string startup)
                {
                    var parts = startup.Split(',').Select(p => StartupPart.Match(p.Trim())).Where(x => x.Success).Select(x => x.Groups[1].Value + ": " + x.Groups[2].Value).ToList();
                    if (parts.Count > 0) fields.Add("startup: { " + string.Join(", ", parts) + " }");
                }
                var comment = plan.Cnames.Count > 0 ? "   # inventory CNAMEs, for a service's names: " + Comment(string.Join(", ", plan.Cnames)) : "";
                Line($"  {h.Name}: {{ {string.Join(", ", fields)} }}{comment}");
            }
            if (!any) Line("  {}");
        }

        private static string? Number(Located? at) => Number(at?.Text);

        private static string? Number(string? text) =>
            text != null && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n.ToString(CultureInfo.InvariantCulture) : null;

        /// <summary>A scalar as YAML: plain when it is safely plain, else a double-quoted (JSON) string.</summary>
        public static string Quote(string value) => Plain.IsMatch(value) && !value.Contains(": ") ? value : Text.JsonText.Quote(value);

        /// <summary>Text safe inside a one-line comment.</summary>
        private static string Comment(string value) => Text.SafeText.Printable(value);

        public override string ToString() => _sb.ToString();
    }
}
