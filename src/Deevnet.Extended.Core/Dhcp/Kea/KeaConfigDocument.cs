using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Dhcp.Json;
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
        private readonly List<KeaSubnet> _subnets = new List<KeaSubnet>();
        private readonly List<DhcpReservation> _global = new List<DhcpReservation>();

        private KeaConfigDocument(string text) => _text = text;

        /// <summary>A <c>subnet4</c> entry (top level or inside <c>shared-networks</c>).</summary>
        private sealed class KeaSubnet
        {
            public KeaSubnet(JsonNode node, Ipv4Network subnet)
            {
                Node = node;
                Subnet = subnet;
            }

            public JsonNode Node { get; }
            public Ipv4Network Subnet { get; }
            public JsonNode? Reservations => Node["reservations"];
        }

        public IReadOnlyList<Ipv4Network> Subnets => _subnets.Select(s => s.Subnet).ToList();

        /// <summary>Parses the file; throws <c>BackendResponseInvalid</c> when it is not a Kea DHCPv4 configuration.</summary>
        public static KeaConfigDocument Parse(string text, string server)
        {
            JsonNode root;
            try
            {
                root = JsonParser.Parse(text);
            }
            catch (FormatException ex)
            {
                throw DhcpErrors.Response(server, "the Kea configuration is not valid JSON: " + ex.Message, ex);
            }
            var dhcp4 = root["Dhcp4"] ?? throw DhcpErrors.Response(server, "the Kea configuration has no Dhcp4 object.");
            var doc = new KeaConfigDocument(text);
            void AddSubnets(JsonNode? list)
            {
                if (list?.Kind != JsonKind.Array) return;
                foreach (var s in list.Items)
                {
                    var cidr = s["subnet"]?.StringValue;
                    if (cidr == null || !Ipv4Network.TryParse(cidr.Trim(), out var net, out _))
                        throw DhcpErrors.Response(server, $"a subnet4 entry has no valid \"subnet\" ({cidr ?? "missing"}).");
                    doc._subnets.Add(new KeaSubnet(s, net));
                }
            }
            AddSubnets(dhcp4["subnet4"]);
            if (dhcp4["shared-networks"] is { Kind: JsonKind.Array } shared)
            {
                foreach (var network in shared.Items) AddSubnets(network["subnet4"]);
            }
            if (dhcp4["reservations"] is { Kind: JsonKind.Array } global)
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
                if (s.Reservations?.Kind != JsonKind.Array) continue;
                foreach (var item in s.Reservations.Items)
                {
                    var r = ToReservation(item, s.Subnet.ToString(), server, $"subnet4 {s.Subnet}");
                    if (r != null) all.Add(r);
                }
            }
            return all;
        }

        private static DhcpReservation? ToReservation(JsonNode item, string? scope, string server, string source)
        {
            if (item.Kind != JsonKind.Object) return null;
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
            return new DhcpReservation(clientId, ip!, item["hostname"]?.StringValue, owned ? description : null, scope, owned, server, owned ? null : source);
        }

        private static bool IsOwned(JsonNode item) => item["user-context"]?["deevnet"]?["managed"]?.IsTrue == true;

        /// <summary>The JSON of one owned reservation as the module writes it.</summary>
        public static JsonNode ToJson(DhcpReservation r)
        {
            var deevnet = new List<(string, JsonNode)> { ("managed", JsonNode.Bool(true)) };
            if (!string.IsNullOrEmpty(r.Description)) deevnet.Add(("description", JsonNode.String(r.Description!)));
            var members = new List<(string, JsonNode)>
            {
                ("hw-address", JsonNode.String(r.ClientId)),
                ("ip-address", JsonNode.String(r.IPAddress.ToString())),
            };
            if (!string.IsNullOrEmpty(r.Name)) members.Add(("hostname", JsonNode.String(r.Name!)));
            members.Add(("user-context", JsonNode.Object(("deevnet", JsonNode.Object(deevnet.ToArray())))));
            return JsonNode.Object(members.ToArray());
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
                var items = array?.Kind == JsonKind.Array ? array.Items : new List<JsonNode>();
                var had = items.Where(IsOwned).ToList();
                if (had.Count == 0 && want.Count == 0) continue;
                var wantText = want.Select(r => ToJson(r).ToString()).ToList();
                var hadText = had.Select(h => ToReservation(h, cidr, server, "")).Select(r => r == null ? "" : ToJson(r).ToString());
                if (hadText.SequenceEqual(wantText)) continue;

                var foreign = items.Where(i => !IsOwned(i)).Select(i => _text.Substring(i.Start, i.End - i.Start)).ToList();
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

            var sb = new StringBuilder(_text);
            foreach (var (start, end, text) in edits.OrderByDescending(e => e.Start))
            {
                sb.Remove(start, end - start).Insert(start, text);
            }
            return sb.ToString();
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
            var lineStart = _text.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1;
            var i = lineStart;
            while (i < _text.Length && (_text[i] == ' ' || _text[i] == '\t')) i++;
            return _text.Substring(lineStart, i - lineStart);
        }
    }
}
