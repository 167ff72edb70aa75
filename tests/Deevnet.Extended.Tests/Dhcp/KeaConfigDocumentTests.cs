using System.Linq;
using System.Text;
using System.Text.Json;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dhcp.Kea;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Text;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    public class KeaConfigDocumentTests
    {
        internal const string Config = @"// Written by hand; comments of all three kinds must survive.
{
  ""Dhcp4"": {
    # interfaces
    ""interfaces-config"": { ""interfaces"": [ ""br-mgmt"" ] },
    ""valid-lifetime"": 3600, /* one hour */
    ""subnet4"": [
      {
        ""id"": 1,
        ""subnet"": ""10.231.99.0/24"",
        ""pools"": [ { ""pool"": ""10.231.99.100 - 10.231.99.150"" } ],
        ""reservations"": [
          { ""hw-address"": ""02:aa:00:00:00:01"", ""ip-address"": ""10.231.99.250"", ""hostname"": ""handmade"" } // by hand
        ]
      },
      {
        ""id"": 2,
        ""subnet"": ""10.231.98.0/24""
      }
    ]
  }
}
";

        [Fact]
        public void Hand_made_reservation_is_read_as_not_owned()
        {
            var doc = KeaConfigDocument.Parse(Config, "kea");
            var r = Assert.Single(doc.Reservations("kea"));
            Assert.False(r.IsOwned);
            Assert.Equal("02:aa:00:00:00:01", r.ClientId);
            Assert.Equal("10.231.99.0/24", r.ScopeId);
            Assert.Equal(2, doc.Subnets.Count);
        }

        [Fact]
        public void Adding_owned_entries_keeps_comments_the_hand_made_entry_and_everything_else()
        {
            var doc = KeaConfigDocument.Parse(Config, "kea");
            var owned = new[]
            {
                new DhcpReservation("02:de:31:00:00:c8", DhcpFields.ParseAddress("10.231.99.20"), "a", "desc", "10.231.99.0/24"),
                new DhcpReservation("02:de:31:00:00:c9", DhcpFields.ParseAddress("10.231.98.20"), "b", null, "10.231.98.0/24"),
            };
            var text = doc.WithOwned(owned, "kea");
            Assert.Contains("// Written by hand", text);
            Assert.Contains("# interfaces", text);
            Assert.Contains("/* one hour */", text);
            Assert.Contains(@"{ ""hw-address"": ""02:aa:00:00:00:01"", ""ip-address"": ""10.231.99.250"", ""hostname"": ""handmade"" }", text);

            var again = KeaConfigDocument.Parse(text, "kea");
            var all = again.Reservations("kea");
            Assert.Equal(3, all.Count);
            var a = Assert.Single(all, r => r.ClientId == "02:de:31:00:00:c8");
            Assert.True(a.IsOwned);
            Assert.Equal("desc", a.Description);
            Assert.Equal("10.231.98.0/24", Assert.Single(all, r => r.ClientId == "02:de:31:00:00:c9").ScopeId);
            // Unrelated settings are the same values as before.
            Assert.Equal("3600", KeaJsonTests.Raw(text, n => n["Dhcp4"]!["valid-lifetime"]!));
        }

        [Fact]
        public void Removing_every_owned_entry_gives_back_the_original_reservations()
        {
            var doc = KeaConfigDocument.Parse(Config, "kea");
            var added = doc.WithOwned(new[] { new DhcpReservation("02:de:31:00:00:c8", DhcpFields.ParseAddress("10.231.99.20"), "a", null, "10.231.99.0/24") }, "kea");
            var removed = KeaConfigDocument.Parse(added, "kea").WithOwned(new DhcpReservation[0], "kea");
            var left = KeaConfigDocument.Parse(removed, "kea").Reservations("kea");
            Assert.Equal("02:aa:00:00:00:01", Assert.Single(left).ClientId);
        }

        [Fact]
        public void Unchanged_owned_set_returns_the_text_byte_for_byte()
        {
            var doc = KeaConfigDocument.Parse(Config, "kea");
            Assert.Equal(Config, doc.WithOwned(new DhcpReservation[0], "kea"));
        }

        [Fact]
        public void Not_json_is_a_response_error_with_the_position()
        {
            var ex = Assert.Throws<DeevException>(() => KeaConfigDocument.Parse("{ \"Dhcp4\": { ", "kea"));
            Assert.Equal("BackendResponseInvalid", ex.ErrorId);
            Assert.Contains("line 1", ex.Message);
        }
    }

    public class KeaJsonTests
    {
        /// <summary>The text of the value <paramref name="pick"/> finds, cut from the document by its offsets.</summary>
        internal static string Raw(string text, System.Func<KeaJson, KeaJson> pick)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var node = pick(KeaJson.Parse(bytes));
            return Encoding.UTF8.GetString(bytes, node.Start, node.End - node.Start);
        }

        [Fact]
        public void Comments_are_skipped_but_not_inside_strings()
        {
            const string text = "{ \"a\": \"x // y # z /* w */\", # c\n \"b\": [1, 2.5e3] /* d */ }";
            var node = KeaJson.Parse(Encoding.UTF8.GetBytes(text));
            Assert.Equal("x // y # z /* w */", node["a"]!.StringValue);
            Assert.Equal("2.5e3", Raw(text, n => n["b"]!.Items[1]));
            Assert.Equal("[1, 2.5e3]", Raw(text, n => n["b"]!));
        }

        [Fact]
        public void Offsets_count_bytes_of_multibyte_text()
        {
            const string text = "{ \"ä\": \"größe\", \"b\": { \"c\": true } }";
            Assert.Equal("{ \"c\": true }", Raw(text, n => n["b"]!));
        }

        [Fact]
        public void Strings_with_escapes_round_trip()
        {
            var text = JsonText.Quote("a\"b\\c\n\u0001");
            Assert.Equal("a\"b\\c\n\u0001", KeaJson.Parse(Encoding.UTF8.GetBytes(text)).StringValue);
        }

        [Theory]
        [InlineData("{ \"a\": 1 ")]
        [InlineData("[1,,2]")]
        [InlineData("{ a: 1 }")]
        [InlineData("/* open")]
        [InlineData("")]
        [InlineData("{ } x")]
        public void Broken_json_throws_json_exception(string text) => Assert.ThrowsAny<JsonException>(() => KeaJson.Parse(Encoding.UTF8.GetBytes(text)));
    }
}
