using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Errors;
using Xunit;

namespace Deevnet.Extended.Tests.Dhcp
{
    public class DhcpFieldsTests
    {
        [Theory]
        [InlineData("02:DE:20:00:00:CF")]
        [InlineData("02-de-20-00-00-cf")]
        [InlineData("02de.2000.00cf")]
        [InlineData("02de200000cf")]
        public void Mac_in_any_common_notation_is_normalised(string text) =>
            Assert.Equal("02:de:20:00:00:cf", DhcpFields.NormalizeMac(text));

        [Theory]
        [InlineData("02:de:20:00:00")]
        [InlineData("zz:de:20:00:00:cf")]
        [InlineData("01:00:5e:00:00:01")]
        [InlineData("02:de:20:00:00:cf;x")]
        public void Bad_mac_is_rejected(string text) =>
            Assert.Equal("ReservationInvalid", Assert.Throws<DeevException>(() => DhcpFields.NormalizeMac(text)).ErrorId);

        [Theory]
        [InlineData("a;touch /tmp/pwned")]
        [InlineData("a\ntouch")]
        [InlineData("a,b")]
        [InlineData("-a")]
        [InlineData("a b")]
        [InlineData("$(id)")]
        public void Host_names_that_could_escape_a_file_or_shell_are_rejected(string name)
        {
            var ex = Assert.Throws<DeevException>(() => DhcpFields.ValidateName(name));
            Assert.Equal("ReservationInvalid", ex.ErrorId);
            Assert.DoesNotContain("\n", ex.Message);
        }

        [Fact]
        public void Valid_name_is_lowercased() => Assert.Equal("dv02obs001v01", DhcpFields.ValidateName("DV02OBS001V01"));

        [Fact]
        public void Description_with_a_newline_is_rejected() =>
            Assert.Throws<DeevException>(() => DhcpFields.ValidateDescription("ok\nnot ok"));

        [Theory]
        [InlineData("10.1")]
        [InlineData("10.231.99.256")]
        [InlineData("224.0.0.1")]
        [InlineData("0.0.0.0")]
        public void Bad_address_is_rejected(string ip) => Assert.Throws<DeevException>(() => DhcpFields.ParseAddress(ip));
    }
}
