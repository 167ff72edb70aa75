using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Dhcp.Kea
{
    /// <summary>
    /// A <c>kea-dhcp4.conf</c> read for its reservations and rewritten surgically: only the <c>reservations</c> arrays of
    /// subnets whose owned entries change are replaced; every other byte (comments, layout, other settings) stays.
    /// Entries the module writes carry <c>"user-context": { "deevnet": { "managed": true } }</c>; inside a rewritten
    /// array, entries without that mark are copied verbatim.
    /// </summary>
    public sealed class KeaConfigDocument
    {
        private readonly string _text;
        private readonly byte[] _utf8; // the offsets of KeaJson nodes are in these bytes
        private readonly List<KeaSubnet> _subnets = new List<KeaSubnet>();
        private readonly List<DhcpReservation> _global = new List<DhcpReservation>();

        private KeaConfigDocument(string text, byte[] utf8)
        {
            _text = text;
            _utf8 = utf8;
        }

        /// <summary>A <c>subnet4</c> entry (top level or inside <c>shared-networks</c>).</summary>
        private sealed class KeaSubnet
        {
            public KeaSubnet(KeaJson node, Ipv4Network subnet)
            {
                Node = node;
                Subnet = subnet;
            }

            public KeaJson Node { get; }
            public Ipv4Network Subnet { get; }
            public KeaJson? Reservations => Node["reservations"];
        }

        public IReadOnlyList<Ipv4Network> Subnets => _subnets.Select(s => s.Subnet).ToList();

        /// <summary>Parses the file; throws <c>BackendResponseInvalid</c> when it is not a Kea DHCPv4 configuration.</summary>
        public static KeaConfigDocument Parse(string text, string server)
        {
            var utf8 = new UTF8Encoding(false).GetBytes(text);
            KeaJson root;
            try
            {
                root = KeaJson.Parse(utf8);
            }
            catch (JsonException ex)
            {
                // System.Text.Json counts lines and positions from 0; people count from 1.
                var why = ex.Message;
                var at = why.IndexOf(" LineNumber:", StringComparison.Ordinal);
                if (at >= 0) why = why.Substring(0, at);
                throw DhcpErrors.Response(server,
                    $"the Kea configuration is not valid JSON: JSON error at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {why}", ex);
            }
            var dhcp4 = root["Dhcp4"] ?? throw DhcpErrors.Response(server, "the Kea configuration has no Dhcp4 object.");
            var doc = new KeaConfigDocument(text, utf8);
            void AddSubnets(KeaJson? list)
            {
                if (list?.IsArray != true) return;
                foreach (var s in list.Items)
                {
                    var cidr = s["subnet"]?.StringValue;
                    if (cidr == null || !Ipv4Network.TryParse(cidr.Trim(), out var net, out _))
                        throw DhcpErrors.Response(server, $"a subnet4 entry has no valid \"subnet\" ({cidr ?? "missing"}).");
                    doc._subnets.Add(new KeaSubnet(s, net));
                }
            }
            AddSubnets(dhcp4["subnet4"]);
            if (dhcp4["shared-networks"] is { IsArray: true } shared)
            {
                foreach (var network in shared.Items) AddSubnets(network["subnet4"]);
            }
            if (dhcp4["reservations"] is { IsArray: true } global)
            {
                foreach (var item in global.Items)
                {
                    var r = ToReservation(item, null, server, "Dhcp4.reservations (global)");
                    if (r != null) doc._global.Add(r.With(isOwned: false));
                }
            }
            return doc;
        }

        /// <summary>Every reservation in the file: owned (marked) and not owned, with its subnet as scope.</summary>
        public IReadOnlyList<DhcpReservation> Reservations(string server)
        {
            var all = new List<DhcpReservation>(_global);
            foreach (var s in _subnets)
            {
                if (s.Reservations?.IsArray != true) continue;
                foreach (var item in s.Reservations.Items)
                {
                    var r = ToReservation(item, s.Subnet.ToString(), server, $"subnet4 {s.Subnet}");
                    if (r != null) all.Add(r);
                }
            }
            return all;
        }

        private static DhcpReservation? ToReservation(KeaJson item, string? scope, string server, string source)
        {
            if (!item.IsObject) return null;
            var ipText = item["ip-address"]?.StringValue;
            if (ipText == null || !Ipv4Network.TryParseAddress(ipText.Trim(), out var ip)) return null; // address-less host options
            var owned = IsOwned(item);
            string clientId;
            var hw = item["hw-address"]?.StringValue;
            if (hw != null)
            {
                try { clientId = DhcpFields.NormalizeMac(hw); }
                catch (Errors.DeevException) { clientId = "hw-address:" + hw; }
            }
            else
            {
                // Reservations by client-id, duid, circuit-id or flex-id still hold an address: keep them for conflicts.
                var other = new[] { "client-id", "duid", "circuit-id", "flex-id" }.Select(k => (k, v: item[k]?.StringValue)).FirstOrDefault(p => p.v != null);
                if (other.v == null) return null;
                clientId = other.k + ":" + other.v;
                owned = false;
            }
            var description = item["user-context"]?["deevnet"]?["description"]?.StringValue;
            return DhcpFields.FromServer(new DhcpReservation(clientId, ip!, item["hostname"]?.StringValue, owned ? description : null, scope, owned, server, owned ? null : source));
        }

        // A marked entry whose name or description the module could not have written was edited by someone else: it is
        // read and kept as foreign (its bytes stay), not rewritten under the module's rules.
        private static bool IsOwned(KeaJson item) => item["user-context"]?["deevnet"]?["managed"]?.IsTrue == true &&
            DhcpFields.IsWritable(item["hostname"]?.StringValue, item["user-context"]?["deevnet"]?["description"]?.StringValue);

        /// <summary>
        /// The JSON of one owned reservation as the module writes it: one line, spaced like a hand-written file, e.g.
        /// <c>{ "hw-address": "…", "ip-address": "…", "hostname": "…", "user-context": { "deevnet": { "managed": true } } }</c>.
        /// </summary>
        public static string ToJson(DhcpReservation r)
        {
            static string Q(string value) => Text.JsonText.Quote(value);
            var deevnet = "\"managed\": true" + (string.IsNullOrEmpty(r.Description) ? "" : ", \"description\": " + Q(r.Description!));
            return $"{{ \"hw-address\": {Q(r.ClientId)}, \"ip-address\": {Q(r.IPAddress.ToString())}, " +
                   (string.IsNullOrEmpty(r.Name) ? "" : $"\"hostname\": {Q(r.Name!)}, ") +
                   $"\"user-context\": {{ \"deevnet\": {{ {deevnet} }} }} }}";
        }

        /// <summary>
        /// The file with the owned reservations replaced by <paramref name="owned"/> (each placed in the subnet named by
        /// its ScopeId). Subnets whose owned set is unchanged are not touched at all.
        /// </summary>
        public string WithOwned(IReadOnlyList<DhcpReservation> owned, string server)
        {
            var edits = new List<(int Start, int End, string Text)>();
            foreach (var s in _subnets)
            {
                var cidr = s.Subnet.ToString();
                var want = owned.Where(r => r.ScopeId == cidr).OrderBy(r => r.ClientId, StringComparer.Ordinal).ToList();
                var array = s.Reservations;
                var items = array?.IsArray == true ? array.Items : new List<KeaJson>();
                var had = items.Where(IsOwned).ToList();
                if (had.Count == 0 && want.Count == 0) continue;
                var wantText = want.Select(ToJson).ToList();
                var hadText = had.Select(h => ToReservation(h, cidr, server, "")).Select(r => r == null ? "" : ToJson(r));
                if (hadText.SequenceEqual(wantText)) continue;

                var foreign = items.Where(i => !IsOwned(i)).Select(i => Encoding.UTF8.GetString(_utf8, i.Start, i.End - i.Start)).ToList();
                if (array != null)
                {
                    var indent = IndentOfLine(array.Start);
                    edits.Add((array.Start, array.End, RenderArray(foreign.Concat(wantText).ToList(), indent)));
                }
                else
                {
                    var last = s.Node.Members.LastOrDefault().Value;
                    if (last == null) throw DhcpErrors.Response(server, $"subnet {cidr} is an empty object.");
                    var indent = IndentOfLine(last.Start);
                    edits.Add((last.End, last.End, ",\n" + indent + "\"reservations\": " + RenderArray(wantText, indent)));
                }
            }
            if (owned.Any(r => r.ScopeId == null || !_subnets.Any(s => s.Subnet.ToString() == r.ScopeId)))
                throw new InvalidOperationException("A planned reservation names no subnet of this configuration.");

            if (edits.Count == 0) return _text;
            var output = new StringBuilder(_text.Length + 256);
            var done = 0;
            foreach (var (start, end, text) in edits.OrderBy(e => e.Start))
            {
                output.Append(Encoding.UTF8.GetString(_utf8, done, start - done)).Append(text);
                done = end;
            }
            return output.Append(Encoding.UTF8.GetString(_utf8, done, _utf8.Length - done)).ToString();
        }

        private static string RenderArray(IReadOnlyList<string> items, string indent)
        {
            if (items.Count == 0) return "[ ]";
            var sb = new StringBuilder("[\n");
            for (var i = 0; i < items.Count; i++)
            {
                sb.Append(indent).Append("  ").Append(items[i]);
                sb.Append(i < items.Count - 1 ? ",\n" : "\n");
            }
            return sb.Append(indent).Append(']').ToString();
        }

        private string IndentOfLine(int offset)
        {
            var lineStart = Array.LastIndexOf(_utf8, (byte)'\n', Math.Max(0, offset - 1)) + 1;
            var i = lineStart;
            while (i < _utf8.Length && (_utf8[i] == ' ' || _utf8[i] == '\t')) i++;
            return Encoding.ASCII.GetString(_utf8, lineStart, i - lineStart);
        }
    }
}
