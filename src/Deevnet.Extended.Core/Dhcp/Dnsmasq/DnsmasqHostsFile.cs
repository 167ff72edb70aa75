using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dhcp.Dnsmasq
{
    /// <summary>
    /// The module's own <c>dhcp-hostsfile</c>. Each entry is a <c>dhcp-host</c> value without the option name
    /// (dnsmasq(8)): <c>&lt;mac&gt;,&lt;ip&gt;,&lt;name&gt;</c>; giving the name makes dnsmasq answer DNS for it from the
    /// lease. Comment lines start with <c>#</c>; the module keeps a description on a <c>#=</c> line just above its entry.
    /// dnsmasq re-reads the file on SIGHUP.
    /// </summary>
    public static class DnsmasqHostsFile
    {
        public const string HeaderMarker = "# Managed by Deevnet.Extended";

        private static readonly string Header =
            HeaderMarker + ": DHCP reservations for dnsmasq (dhcp-hostsfile, re-read on SIGHUP).\n" +
            "# Do not edit: Set-/Remove-/Sync-DeevDhcpReservation rewrite this file. Entries: <mac>,<ip>,<name>;\n" +
            "# a '#=' line above an entry holds its description.\n";

        /// <summary>The file's entries and any lines the module cannot read as one of its own (kept verbatim).</summary>
        public sealed class Content
        {
            public Content(IReadOnlyList<DhcpReservation> entries, IReadOnlyList<string> unreadable)
            {
                Entries = entries;
                Unreadable = unreadable;
            }

            public IReadOnlyList<DhcpReservation> Entries { get; }
            public IReadOnlyList<string> Unreadable { get; }
        }

        public static Content Parse(string? text, string server)
        {
            var entries = new List<DhcpReservation>();
            var unreadable = new List<string>();
            string? description = null, descriptionLine = null;
            var lines = (text ?? "").Replace("\r\n", "\n").Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0) { description = null; continue; }
                if (line.StartsWith("#=", StringComparison.Ordinal)) { description = line.Substring(2).Trim(); descriptionLine = lines[i]; continue; }
                if (line[0] == '#') continue;
                var entry = TryParseEntry(line, description, server, $"line {i + 1}");
                if (entry != null) entries.Add(entry);
                else
                {
                    if (description != null) unreadable.Add(descriptionLine!);   // its description stays with it
                    unreadable.Add(lines[i]);
                }
                description = null;
            }
            return new Content(entries, unreadable);
        }

        /// <summary>
        /// Reads a <c>dhcp-host</c> value (<c>[mac][,id:..][,set:..][,tag:..][,ip][,name][,lease]</c>) as a reservation,
        /// or null when it has no single MAC and address (wildcards, client ids, <c>ignore</c> lines).
        /// </summary>
        public static DhcpReservation? TryParseEntry(string value, string? description, string server, string? source, bool owned = true)
        {
            string? mac = null;
            IPAddress? ip = null;
            string? name = null;
            foreach (var raw in value.Split(','))
            {
                var field = raw.Trim();
                if (field.Length == 0) continue;
                if (mac == null && IsPlainMac(field)) { mac = field.ToLowerInvariant(); continue; }
                if (ip == null && Ipv4Network.TryParseAddress(field, out var a)) { ip = a; continue; }
                if (IsLeaseTime(field) || field.IndexOf(':') >= 0 || field == "ignore") continue;
                if (name == null) name = field;
            }
            if (mac == null || ip == null) return null;
            // A line in the module's own file whose name breaks the name rule was edited by hand: unreadable, so it is
            // kept as it is (and warned about) rather than rewritten as the module's. Other files' entries are foreign anyway.
            if (owned && !DhcpFields.IsWritable(name, null)) return null;
            return new DhcpReservation(mac, ip, name, string.IsNullOrEmpty(description) ? null : description, null, owned, server, owned ? null : source);
        }

        /// <summary>The whole file for these entries; entries in MAC order, unreadable lines kept at the end.</summary>
        public static string Render(IEnumerable<DhcpReservation> entries, IReadOnlyList<string>? unreadable = null)
        {
            var sb = new StringBuilder(Header);
            foreach (var r in entries.OrderBy(e => e.ClientId, StringComparer.Ordinal))
            {
                // Values were validated (DhcpFields): no commas, '#' or line breaks can reach this file.
                if (!string.IsNullOrEmpty(r.Description)) sb.Append("#= ").Append(r.Description).Append('\n');
                sb.Append(r.ClientId).Append(',').Append(r.IPAddress);
                if (!string.IsNullOrEmpty(r.Name)) sb.Append(',').Append(r.Name);
                sb.Append('\n');
            }
            if (unreadable != null && unreadable.Count > 0)
            {
                sb.Append("# Lines below were in this file but are not entries the module understands; kept as they were.\n");
                foreach (var line in unreadable) sb.Append(line).Append('\n');
            }
            return sb.ToString();
        }

        private static bool IsPlainMac(string field)
        {
            var parts = field.Split(':');
            return parts.Length == 6 && parts.All(p => p.Length == 2 && Uri.IsHexDigit(p[0]) && Uri.IsHexDigit(p[1]));
        }

        private static bool IsLeaseTime(string field)
        {
            if (field == "infinite") return true;
            var digits = field.TrimEnd('s', 'm', 'h', 'd', 'w');
            return digits.Length > 0 && digits.Length >= field.Length - 1 && digits.All(char.IsDigit);
        }
    }
}
