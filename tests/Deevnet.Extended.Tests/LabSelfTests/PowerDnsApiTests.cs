using System;
using System.Net;
using System.Net.Http;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    public class PowerDnsApiTests
    {
        private static HttpResponseMessage Get(LabEnvironment lab, string? apiKey, out string body)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var req = new HttpRequestMessage(HttpMethod.Get, lab["DEEV_LAB_PDNS_API"] + "/api/v1/servers/localhost/zones");
            if (apiKey != null) req.Headers.Add("X-API-Key", apiKey);
            var resp = http.Send(req);
            body = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            return resp;
        }

        [LabFact]
        public void AnswersWithTheKeyAndListsTheLabZones()
        {
            var lab = LabEnvironment.Require();
            using var resp = Get(lab, lab["DEEV_LAB_PDNS_API_KEY"], out var body);
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            Assert.Contains("\"lab.deevnet.test.\"", body);
            Assert.Contains("\"99.231.10.in-addr.arpa.\"", body);
            Assert.Contains("\"25.231.10.in-addr.arpa.\"", body);
        }

        [LabFact]
        public void RefusesWithoutTheKey()
        {
            var lab = LabEnvironment.Require();
            using var resp = Get(lab, null, out _);
            Assert.Equal(HttpStatusCode.Unauthorized, resp.StatusCode);
            using var wrong = Get(lab, "not-the-key", out _);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
    }
}
