using System;
using Deevnet.Extended.Core.Identity;
using Xunit;

namespace Deevnet.Extended.Tests.Identity
{
    public class MacAddressTests
    {
        [Theory]
        [InlineData("02:de:20", 207, "02:de:20:00:00:cf")]
        [InlineData("02:de:20", 0x123456, "02:de:20:12:34:56")]
        [InlineData("02:de:99", 901, "02:de:99:00:03:85")]
        [InlineData("02-DE-20", 0xFFFFFF, "02:de:20:ff:ff:ff")]
        [InlineData("0ade20", 256, "0a:de:20:00:01:00")]
        public void MacIsNamespacePlusVmIdAsThreeBigEndianOctets(string ns, int vmid, string expected)
        {
            var mac = MacAddress.FromVmId(ns, vmid);
            Assert.Equal(expected, mac.ToString());
            Assert.Equal(vmid, mac.VmIdPart);
        }

        [Theory]
        [InlineData(-1)]
        [InlineData(0x1000000)]
        public void VmIdMustFitThreeOctets(int vmid) =>
            Assert.Throws<ArgumentOutOfRangeException>(() => MacAddress.FromVmId("02:de:20", vmid));

        [Theory]
        [InlineData("02:DE:20:00:00:CF")]
        [InlineData("02:de:20:00:00:cf")]
        [InlineData("02-de-20-00-00-cf")]
        [InlineData("02-DE-20-00-00-CF")]
        [InlineData("02de.2000.00cf")]
        [InlineData("02DE.2000.00CF")]
        [InlineData("02de200000cf")]
        [InlineData(" 02de200000cf ")]
        public void EveryNotationNormalisesToLowercaseColons(string text)
        {
            Assert.True(MacAddress.TryParse(text, out var mac));
            Assert.Equal("02:de:20:00:00:cf", mac.ToString());
        }

        [Theory]
        [InlineData("02:de:20:00:00")]
        [InlineData("02:de:20:00:00:cg")]
        [InlineData("02:de-20:00:00:cf")]
        [InlineData("02de.200000cf")]
        [InlineData("02de200000c")]
        [InlineData("")]
        [InlineData(null)]
        public void MalformedNotationsAreRejected(string? text) => Assert.False(MacAddress.TryParse(text, out _));

        [Fact]
        public void FormatsForBackEnds()
        {
            var mac = MacAddress.Parse("02:de:20:00:00:cf");
            Assert.Equal("02:DE:20:00:00:CF", mac.ToUpperString());
            Assert.Equal("02-de-20-00-00-cf", mac.ToDashedString());
            Assert.Equal("02-DE-20-00-00-CF", mac.ToDashedString(upper: true));
            Assert.Equal("02de200000cf", mac.ToBareString());
            Assert.Equal("02:de:20", mac.NamespacePart);
        }

        [Theory]
        [InlineData("03:de:20")] // multicast bit
        [InlineData("00:de:20")] // globally administered
        [InlineData("02:de")]
        public void NamespaceMustBeALocallyAdministeredUnicastPrefix(string ns) =>
            Assert.False(MacAddress.TryParseNamespace(ns, out _, out _));
    }
}
