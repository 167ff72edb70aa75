using System;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Xunit;
using KeaDouble = Deevnet.Extended.Tests.Dhcp.OpnsenseDouble;
using UnboundDouble = Deevnet.Extended.Tests.Dns.OpnsenseDouble;

namespace Deevnet.Extended.Tests.Doubles
{
    /// <summary>
    /// The OPNsense doubles alone: each upstream rule they enforce (see the comments in <see cref="OpnsenseUpstream"/> and
    /// in the doubles for the upstream file and function), shown with one call upstream accepts and one it refuses.
    /// </summary>
    public sealed class OpnsenseDoubleRulesTests : IDisposable
    {
        private const string Subnet = "a1b2c3d4-0000-4000-8000-000000000099";
        private const string Subnet2 = "a1b2c3d4-0000-4000-8000-000000000098";
        private readonly KeaDouble _kea = new KeaDouble();
        private readonly UnboundDouble _unbound = new UnboundDouble("k", "s");
        private readonly HttpClient _http = new HttpClient();

        public OpnsenseDoubleRulesTests() => _kea.Subnets.Add((Subnet2, "10.20.98.0/24"));

        public void Dispose()
        {
            _http.Dispose();
            _kea.Dispose();
            _unbound.Dispose();
        }

        private async Task<JsonNode> Call(bool kea, string method, string path, string? body = null)
        {
            var root = kea ? _kea.Endpoint.ToString().TrimEnd('/') : _unbound.Endpoint;
            var (key, secret) = kea ? (KeaDouble.Key, KeaDouble.Secret) : ("k", "s");
            using var request = new HttpRequestMessage(new HttpMethod(method), root + "/api/" + path);
            request.Headers.Add("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":" + secret)));
            if (body != null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await _http.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        }

        private Task<JsonNode> AddReservation(string mac, string ip, string subnet = Subnet, string hostname = "h", string description = "d") =>
            Call(true, "POST", "kea/dhcpv4/add_reservation", new JsonObject
            {
                ["reservation"] = new JsonObject { ["subnet"] = subnet, ["ip_address"] = ip, ["hw_address"] = mac, ["hostname"] = hostname, ["description"] = description },
            }.ToJsonString());

        private static void Saved(JsonNode answer) => Assert.Equal("saved", (string?)answer["result"]);

        /// <summary>ApiMutableModelControllerBase::validate: {"result":"failed","validations":{"reservation.&lt;field&gt;": message}}.</summary>
        private static void Refused(JsonNode answer, string field, string message)
        {
            Assert.Equal("failed", (string?)answer["result"]);
            Assert.Equal(message, (string?)answer["validations"]![field]);
        }

        [Fact]
        public async Task Kea_ip_address_is_unique_across_all_reservations()
        {
            Saved(await AddReservation("02:00:00:00:00:01", "10.20.99.10"));
            Refused(await AddReservation("02:00:00:00:00:02", "10.20.99.10"), "reservation.ip_address", "Duplicate entry exists.");
        }

        [Fact]
        public async Task Kea_hw_address_is_unique_per_subnet_whatever_the_case()
        {
            Saved(await AddReservation("02:00:00:00:00:0a", "10.20.99.10"));
            Saved(await AddReservation("02:00:00:00:00:0a", "10.20.98.10", Subnet2));
            Refused(await AddReservation("02:00:00:00:00:0A", "10.20.99.11"), "reservation.hw_address", "Duplicate entry exists.");
        }

        [Fact]
        public async Task Kea_address_must_be_inside_its_subnet()
        {
            Saved(await AddReservation("02:00:00:00:00:01", "10.20.99.10"));
            Refused(await AddReservation("02:00:00:00:00:02", "10.20.98.10"), "reservation.ip_address", "Address not in specified subnet");
        }

        [Fact]
        public async Task Kea_mac_format_is_php_filter_validate_mac_and_multicast_is_not_refused()
        {
            Saved(await AddReservation("01:00:5e:00:00:01", "10.20.99.10"));
            Saved(await AddReservation("02-00-00-00-00-02", "10.20.99.11"));
            Refused(await AddReservation("02:00:00:00:00", "10.20.99.12"), "reservation.hw_address", "Invalid MAC address.");
            Refused(await AddReservation("02:00-00:00:00:03", "10.20.99.13"), "reservation.hw_address", "Invalid MAC address.");
        }

        [Fact]
        public async Task Kea_description_is_at_most_255_bytes_and_hostname_a_dns_name()
        {
            Saved(await AddReservation("02:00:00:00:00:01", "10.20.99.10", description: new string('x', 255)));
            Refused(await AddReservation("02:00:00:00:00:02", "10.20.99.11", description: new string('x', 256)), "reservation.description",
                "Description should be a string between 1 and 255 characters.");
            Refused(await AddReservation("02:00:00:00:00:03", "10.20.99.12", hostname: "two words"), "reservation.hostname", "[two words] is not a valid IP address or hostname.");
        }

        [Fact]
        public async Task Kea_search_answers_the_grid_envelope_with_the_subnet_as_uuid_and_display()
        {
            var answer = await Call(true, "POST", "kea/dhcpv4/search_reservation", "{\"current\":1,\"rowCount\":-1,\"searchPhrase\":\"\"}");
            Assert.Equal(new[] { "rows", "rowCount", "total", "current" }, answer.AsObject().Select(m => m.Key));
            var row = answer["rows"]![0]!;
            Assert.Equal(Subnet, (string?)row["subnet"]);
            Assert.Equal("10.20.99.0/24", (string?)row["%subnet"]);
        }

        [Fact]
        public async Task Kea_get_shows_relations_as_option_maps_and_an_unknown_uuid_as_an_empty_array()
        {
            var uuid = _kea.Rows.Keys.Single();
            var subnet = (await Call(true, "GET", "kea/dhcpv4/get_reservation/" + uuid))["reservation"]!["subnet"]!;
            Assert.Equal(1, (int)subnet[Subnet]!["selected"]!);
            Assert.Equal("10.20.98.0/24", (string?)subnet[Subnet2]!["value"]);
            Assert.Equal(0, (int)subnet[Subnet2]!["selected"]!);
            Assert.Equal("[]", (await Call(true, "GET", "kea/dhcpv4/get_reservation/00000000-0000-4000-8000-00000000ffff")).ToJsonString());
        }

        [Fact]
        public async Task Kea_set_on_an_unknown_uuid_creates_the_row_unless_the_uuid_is_not_one()
        {
            var body = new JsonObject { ["reservation"] = new JsonObject { ["subnet"] = Subnet, ["ip_address"] = "10.20.99.30", ["hw_address"] = "02:00:00:00:00:30" } }.ToJsonString();
            Saved(await Call(true, "POST", "kea/dhcpv4/set_reservation/3f2504e0-4f89-41d3-9a0c-0305e82c3301", body));
            Assert.True(_kea.Rows.ContainsKey("3f2504e0-4f89-41d3-9a0c-0305e82c3301"));
            Assert.Equal("{\"result\":\"failed\"}", (await Call(true, "POST", "kea/dhcpv4/set_reservation/not-a-uuid", body)).ToJsonString());
        }

        private async Task<string> AddHost(string hostname, string server = "10.0.0.1", string domain = "lab.test", string rr = "A")
        {
            var answer = await Call(false, "POST", "unbound/settings/addHostOverride", new JsonObject
            {
                ["host"] = new JsonObject { ["hostname"] = hostname, ["domain"] = domain, ["rr"] = rr, ["server"] = server, ["description"] = "d" },
            }.ToJsonString());
            return answer.ToJsonString();
        }

        [Fact]
        public async Task Unbound_host_fields_follow_the_model()
        {
            Assert.Contains("\"saved\"", await AddHost("www"));
            Refused(JsonNode.Parse(await AddHost("www."))!, "host.hostname", "A valid hostname must be specified.");
            Refused(JsonNode.Parse(await AddHost("www", domain: "bad_domain"))!, "host.domain", "A valid domain must be specified.");
            Refused(JsonNode.Parse(await AddHost("www", server: ""))!, "host.server", "The field IP address is required.");
        }

        [Fact]
        public async Task Unbound_an_alias_needs_an_existing_host()
        {
            var host = _unbound.AddHost("www", "lab.test", "10.0.0.1", "d");
            string Alias(string h) => new JsonObject { ["alias"] = new JsonObject { ["host"] = h, ["hostname"] = "cname", ["domain"] = "lab.test" } }.ToJsonString();
            Saved(await Call(false, "POST", "unbound/settings/addHostAlias", Alias(host)));
            Refused(await Call(false, "POST", "unbound/settings/addHostAlias", Alias(Guid.NewGuid().ToString())), "alias.host", "Option not in list.");
        }

        [Fact]
        public async Task Unbound_deleting_a_host_override_deletes_every_alias_on_it()
        {
            var host = _unbound.AddHost("www", "lab.test", "10.0.0.1", "Deevnet.Extended - www");
            var other = _unbound.AddHost("db", "lab.test", "10.0.0.2", "d");
            _unbound.AddAlias(host, "foreign", "lab.test", "Ansible managed - foreign");
            var kept = _unbound.AddAlias(other, "kept", "lab.test", "d");
            Assert.Equal("deleted", (string?)(await Call(false, "POST", "unbound/settings/delHostOverride/" + host, "{}"))["result"]);
            Assert.Equal(new[] { kept }, _unbound.Aliases.Keys);
            Assert.Equal("not found", (string?)(await Call(false, "POST", "unbound/settings/delHostOverride/" + host, "{}"))["result"]);
        }

        [Fact]
        public async Task Unbound_get_shows_rr_and_an_alias_host_as_option_maps_and_only_answers_get()
        {
            var host = _unbound.AddHost("www", "lab.test", "10.0.0.1", "d");
            var alias = _unbound.AddAlias(host, "cname", "lab.test", "d");
            var unbound = (await Call(false, "GET", "unbound/settings/get"))["unbound"]!;
            Assert.Equal(1, (int)unbound["hosts"]!["host"]![host]!["rr"]!["A"]!["selected"]!);
            Assert.Equal("www.lab.test", (string?)unbound["aliases"]!["alias"]![alias]!["host"]![host]!["value"]);
            Assert.Equal("[]", (await Call(false, "POST", "unbound/settings/get", "{}")).ToJsonString());
        }

        [Fact]
        public async Task Unbound_set_on_an_unknown_uuid_creates_the_host()
        {
            var uuid = Guid.NewGuid().ToString();
            var body = new JsonObject { ["host"] = new JsonObject { ["hostname"] = "new", ["domain"] = "lab.test", ["server"] = "10.0.0.9" } }.ToJsonString();
            Saved(await Call(false, "POST", "unbound/settings/setHostOverride/" + uuid, body));
            Assert.Equal("10.0.0.9", _unbound.Hosts[uuid]["server"]);
            Assert.Equal("{\"result\":\"failed\"}", (await Call(false, "POST", "unbound/settings/setHostOverride/NOT-A-UUID", body)).ToJsonString());
        }
    }
}
