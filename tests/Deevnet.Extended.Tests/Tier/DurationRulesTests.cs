using System;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>The duration rule: one parser, two bounds, and the same words from the loader.</summary>
    public class DurationRulesTests
    {
        [Theory]
        [InlineData("100ms", 100)]
        [InlineData("10s", 10_000)]
        [InlineData("5m", 300_000)]
        [InlineData("12h", 43_200_000)]
        [InlineData("1d", 86_400_000)]
        public void Accepts_timeouts(string text, long ms)
        {
            Assert.Null(DurationRules.WhyNot(text, DurationRules.Timeout, out var d));
            Assert.Equal(TimeSpan.FromMilliseconds(ms), d);
            Assert.Equal(text, DurationRules.Format(d));
        }

        [Theory]
        [InlineData("5x", "'5x' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("", "'' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("-1s", "'-1s' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("1.5s", "'1.5s' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("10 s", "'10 s' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("1234567890s", "'1234567890s' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("٣s", "'٣s' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("0s", "0s is outside 100ms–1d")]
        [InlineData("99ms", "99ms is outside 100ms–1d")]
        [InlineData("25h", "25h is outside 100ms–1d")]
        [InlineData("10d", "10d is outside 100ms–1d")]
        public void Refuses_timeouts(string text, string why) => Assert.Equal(why, DurationRules.WhyNot(text, DurationRules.Timeout, out _));

        [Theory]
        [InlineData("1m", null)]
        [InlineData("36h", null)]
        [InlineData("3650d", null)]
        [InlineData("30s", "30s is outside 1m–3650d")]
        [InlineData("3651d", "3651d is outside 1m–3650d")]
        public void Ages(string text, string? why) => Assert.Equal(why, DurationRules.WhyNot(text, DurationRules.Age, out _));

        [Theory]
        [InlineData("{ tcp: 80 }", "{ tcp: 80, timeout: 0s }", "services.s1.checks[0].timeout: 0s is outside 100ms–1d")]
        [InlineData("{ tcp: 80 }", "{ tcp: 80, timeout: 5x }", "services.s1.checks[0].timeout: '5x' is not a duration (a number with ms, s, m, h or d, e.g. 10s)")]
        [InlineData("recipient: " + TierTestFiles.Recipient, "recipient: " + TierTestFiles.Recipient + ", maxAge: 10s", "backup.maxAge: 10s is outside 1m–3650d")]
        public void The_loader_refuses_with_the_rule(string find, string replace, string message) =>
            Assert.Equal(message, RuleTestSupport.LoaderMessage(find, replace));
    }
}
