using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using Deevnet.Extended.Tests.Doubles;

namespace Deevnet.Extended.Tests.Dhcp
{
    /// <summary>
    /// A stand-in for OPNsense's Kea DHCPv4 API on 127.0.0.1 that validates as upstream does (opnsense/core
    /// <c>controllers/OPNsense/Kea/Api/Dhcpv4Controller.php</c> over <c>ApiMutableModelControllerBase</c>, model
    /// <c>models/OPNsense/Kea/KeaDhcpv4.xml</c>/<c>.php</c>): every add and set is checked against the whole table, as a real
    /// appliance checks it, so an order of calls that a real one refuses is refused here too. HTTP Basic key/secret
    /// required. It keeps its rows so tests can look at them.
    /// </summary>
    internal sealed class OpnsenseDouble : IDisposable
    {
        public const string Key = "test-key";
        public const string Secret = "test-secret";
        private const string Api = "/api/kea/dhcpv4/";
        // KeaDhcpv4.xml reservations.reservation: the fields the module may post (option_data is a container upstream;
        // the double takes it as opaque). Upstream setNodes ignores unknown keys silently; the double answers 400 so a
        // misspelt field fails a test instead of being lost without a word on a real appliance.
        private static readonly string[] ReservationFields = { "subnet", "ip_address", "hw_address", "client_id", "hostname", "description", "next_server", "option_data" };
        private static readonly HashSet<string> SearchFields = new HashSet<string> { "current", "rowCount", "searchPhrase", "sort" };

        private readonly LoopbackHttpServer _server;
        private readonly object _gate = new object();
        private int _next;
        private int _writes;

        public OpnsenseDouble()
        {
            _server = new LoopbackHttpServer(Handle);
            Endpoint = new Uri(_server.Endpoint);
            Subnets.Add(("a1b2c3d4-0000-4000-8000-000000000099", "10.20.99.0/24"));
            Add("02:AA:00:00:00:01", "10.20.99.250", "handmade", "Ansible managed - handmade (eth0)");
        }

        public Uri Endpoint { get; }
        public List<(string Uuid, string Cidr)> Subnets { get; } = new List<(string, string)>();
        public Dictionary<string, Dictionary<string, string>> Rows { get; } = new Dictionary<string, Dictionary<string, string>>();
        public List<string> Calls { get; } = new List<string>();
        public int Reconfigures { get; private set; }

        /// <summary>Fail the n-th write call (add/set/del) with a validation error, to test undo.</summary>
        public int FailWriteNumber { get; set; }

        /// <summary>Runs (under the double's lock) after each successful write, with its path: someone else's edit in between.</summary>
        public Action<string>? AfterWrite { get; set; }

        /// <summary>Seeds a row without validation (as a hand edit of config.xml could), in the first subnet.</summary>
        public string Add(string mac, string ip, string hostname, string description, string? subnet = null)
        {
            var uuid = NewUuid();
            Rows[uuid] = Fresh();
            Rows[uuid]["subnet"] = subnet ?? Subnets[0].Uuid;
            Rows[uuid]["hw_address"] = mac;
            Rows[uuid]["ip_address"] = ip;
            Rows[uuid]["hostname"] = hostname;
            Rows[uuid]["description"] = description;
            return uuid;
        }

        /// <summary>The rows' content without uuids, sorted: what "restored exactly" compares.</summary>
        public List<string> Content() => Rows.Values.Select(r => string.Join("|", r.OrderBy(kv => kv.Key).Select(kv => kv.Key + "=" + kv.Value))).OrderBy(x => x).ToList();

        private string NewUuid() => $"00000000-0000-4000-8000-{Interlocked.Increment(ref _next):d12}";

        private static Dictionary<string, string> Fresh() => ReservationFields.Where(f => f != "option_data").ToDictionary(f => f, _ => "");

        private HttpResponse Handle(HttpRequest request)
        {
            var path = request.Path;
            lock (_gate) Calls.Add(path);
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Key + ":" + Secret));
            if (request.Header("Authorization") != expected) return (401, "{\"status\":401,\"message\":\"Authentication Failed\"}");
            lock (_gate)
            {
                // ApiMutableModelControllerBase::getBase: {"reservation": {...}} for a known uuid, [] for an unknown one.
                if (request.Method == "GET" && path.StartsWith(Api + "get_reservation/", StringComparison.Ordinal))
                {
                    var uuid = path.Substring((Api + "get_reservation/").Length);
                    return Rows.TryGetValue(uuid, out var row) ? (200, new JsonObject { ["reservation"] = Node(row) }.ToJsonString()) : OpnsenseUpstream.NotFoundGet;
                }
                if (request.Method != "POST") return (400, "{\"message\":\"POST expected\"}");
                JsonObject body;
                try { body = JsonNode.Parse(request.BodyText.Length == 0 ? "{}" : request.BodyText) as JsonObject ?? new JsonObject(); }
                catch (JsonException) { return (400, "{\"message\":\"invalid json\"}"); }

                if (path == Api + "search_subnet" || path == Api + "search_reservation")
                {
                    if (body.Any(m => !SearchFields.Contains(m.Key))) return (400, "{\"message\":\"unknown field\"}");
                    return path.EndsWith("subnet", StringComparison.Ordinal)
                        ? OpnsenseUpstream.Search(Subnets.Select(s => new JsonObject { ["uuid"] = s.Uuid, ["subnet"] = s.Cidr, ["description"] = "mgmt" }))
                        : OpnsenseUpstream.Search(Rows.OrderBy(r => r.Value["hw_address"], StringComparer.OrdinalIgnoreCase).Select(r => SearchRow(r.Key, r.Value)));
                }
                if (path == "/api/kea/service/reconfigure")
                {
                    Reconfigures++;
                    return (200, "{\"status\":\"ok\"}");
                }
                const string add = Api + "add_reservation", set = Api + "set_reservation/", del = Api + "del_reservation/";
                if (path == add || path.StartsWith(set, StringComparison.Ordinal))
                {
                    // addBase/setBase: without the post field, or (set) with a uuid that is not one, {"result":"failed"}.
                    if (body["reservation"] is not JsonObject posted) return OpnsenseUpstream.FailedBare;
                    if (posted.Any(m => !ReservationFields.Contains(m.Key))) return (400, "{\"message\":\"unknown field\"}");
                    if (++_writes == FailWriteNumber) return OpnsenseUpstream.Failed("reservation", new Dictionary<string, string> { ["ip_address"] = "rejected by the double" });
                    var uuid = path == add ? NewUuid() : path.Substring(set.Length);
                    if (path != add && !Rows.ContainsKey(uuid) && !OpnsenseUpstream.IsUuid(uuid)) return OpnsenseUpstream.FailedBare;
                    // setBase on an unknown (valid) uuid is an "upsert": it creates the row under that uuid.
                    var row = Rows.TryGetValue(uuid, out var old) ? new Dictionary<string, string>(old) : Fresh();
                    // BaseField::setNodes: only the posted fields change; the others keep their value.
                    foreach (var m in posted.Where(m => m.Key != "option_data")) row[m.Key] = Text(m.Value).Trim();
                    var errors = Validate(uuid, row);
                    if (errors.Count > 0) return OpnsenseUpstream.Failed("reservation", errors);
                    Rows[uuid] = row;
                    AfterWrite?.Invoke(path);
                    return path == add ? (200, $"{{\"result\":\"saved\",\"uuid\":\"{uuid}\"}}") : (200, "{\"result\":\"saved\"}");
                }
                if (path.StartsWith(del, StringComparison.Ordinal))
                {
                    if (++_writes == FailWriteNumber) return OpnsenseUpstream.FailedBare;
                    // delBase: "deleted", or "not found" for an unknown uuid.
                    if (!Rows.Remove(path.Substring(del.Length))) return (200, "{\"result\":\"not found\"}");
                    AfterWrite?.Invoke(path);
                    return (200, "{\"result\":\"deleted\"}");
                }
                return (400, "{\"message\":\"unknown path\"}");
            }
        }

        /// <summary>The rules a real appliance applies to one reservation (the node being written) against all the others.</summary>
        private Dictionary<string, string> Validate(string uuid, Dictionary<string, string> row)
        {
            var errors = new Dictionary<string, string>();
            var others = Rows.Where(r => r.Key != uuid).Select(r => r.Value).ToList();
            var subnet = Subnets.FirstOrDefault(s => s.Uuid == row["subnet"]).Cidr;
            // KeaDhcpv4.xml subnet: ModelRelationField, Required, "Related subnet not found."
            if (subnet == null) errors["subnet"] = "Related subnet not found.";
            var ip = row["ip_address"];
            // ip_address: NetworkField (ipv4, NetMaskAllowed N) → NetworkField::isValidInput.
            if (ip.Length > 0 && !OpnsenseUpstream.IsAddress(ip, ipv4Only: true)) errors["ip_address"] = "Please specify a valid network segment or IP address.";
            // ip_address: UniqueConstraint over every reservation → UniqueConstraint::validate.
            else if (ip.Length > 0 && others.Any(o => o["ip_address"] == ip)) errors["ip_address"] = "Duplicate entry exists.";
            // KeaDhcpv4::performValidation: Util::isIPInCIDR(ip_address, the subnet) (an empty address is outside too).
            else if (subnet == null || ip.Length == 0 || !IPNetwork.Parse(subnet).Contains(IPAddress.Parse(ip))) errors["ip_address"] = "Address not in specified subnet";
            var hw = row["hw_address"];
            // hw_address: MacAddressField → MacAddressField::getValidators (FILTER_VALIDATE_MAC).
            if (hw.Length > 0 && !OpnsenseUpstream.IsMac(hw)) errors["hw_address"] = "Invalid MAC address.";
            // hw_address: UniqueConstraint, caseInsensitive Y, addFields subnet → UniqueConstraint::validate.
            else if (hw.Length > 0 && others.Any(o => string.Equals(o["hw_address"], hw, StringComparison.OrdinalIgnoreCase) && o["subnet"] == row["subnet"]))
                errors["hw_address"] = "Duplicate entry exists.";
            // KeaDhcpv4::performValidation: a client ID or a MAC, not both and not neither.
            else if ((hw.Length > 0) == (row["client_id"].Length > 0))
                errors["hw_address"] = hw.Length > 0 ? "Either a client ID or a MAC address should be specified, but not both" : "Either a client ID or a MAC address should be specified.";
            // client_id: TextField Mask /^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)$/.
            if (row["client_id"].Length > 0 && !Regex.IsMatch(row["client_id"], "^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)$"))
                errors["client_id"] = "Value must be a colon-separated hexadecimal sequence (e.g., 01:02:f3).";
            // hostname: HostnameField, IsDNSName Y → HostnameField::getValidators.
            if (row["hostname"].Length > 0 && !OpnsenseUpstream.IsDnsName(row["hostname"])) errors["hostname"] = $"[{row["hostname"]}] is not a valid IP address or hostname.";
            // description: DescriptionField → DescriptionField::getValidators.
            if (!OpnsenseUpstream.IsDescription(row["description"])) errors["description"] = "Description should be a string between 1 and 255 characters.";
            // next_server: NetworkField (ipv4, no mask).
            if (row["next_server"].Length > 0 && !OpnsenseUpstream.IsAddress(row["next_server"], ipv4Only: true)) errors["next_server"] = "Please specify a valid network segment or IP address.";
            return errors;
        }

        /// <summary>UIModelGrid::fetch: the flat fields, a relation field's uuid as its value and its display as "%field".</summary>
        private JsonObject SearchRow(string uuid, Dictionary<string, string> row)
        {
            var o = new JsonObject { ["uuid"] = uuid };
            foreach (var (k, v) in row) o[k] = v;
            var cidr = Subnets.FirstOrDefault(s => s.Uuid == row["subnet"]).Cidr;
            if (cidr != null) o["%subnet"] = cidr;
            return o;
        }

        /// <summary>BaseModel::getNodes: plain fields as strings, the subnet relation as an option map (Required: no "" entry).</summary>
        private JsonObject Node(Dictionary<string, string> row)
        {
            var o = new JsonObject();
            foreach (var (k, v) in row) o[k] = v;
            o["subnet"] = OpnsenseUpstream.Options(Subnets.Select(s => (s.Uuid, s.Cidr)), row["subnet"], required: true);
            return o;
        }

        private static string Text(JsonNode? node) => node switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => node.ToJsonString(),
        };

        public void Dispose() => _server.Dispose();
    }
}
