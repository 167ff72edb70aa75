using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    public sealed class ShellQuoteTests
    {
        private static readonly string Marker = "/tmp/deev-pwned-" + Guid.NewGuid().ToString("N");

        public static TheoryData<string> Hostile => new TheoryData<string>
        {
            $"a;touch {Marker}",
            $"$(touch {Marker})",
            $"`touch {Marker}`",
            $"x' ; touch {Marker}; echo '",
            $"\"; touch {Marker}; echo \"",
            $"line1\ntouch {Marker}\n",
            $"a|touch {Marker}",
            $"a&&touch {Marker}",
            $"$HOME ${{IFS}} * ? [a] ~ {Marker}",
            "it's \\ back\\slash and 'quotes'",
            "  leading and trailing spaces  ",
            "-n",
            "",
            "héllo wörld ✓",
        };

        [Theory]
        [MemberData(nameof(Hostile))]
        public void Argument_reaches_a_real_sh_byte_identical_and_runs_nothing(string value)
        {
            var output = TestShell.Run("/bin/sh", "-c", "printf '%s' " + ShellQuote.Quote(value));
            Assert.Equal(value, output);
            Assert.False(File.Exists(Marker), "the quoted argument ran a command");
        }

        [Theory]
        [MemberData(nameof(Hostile))]
        public async Task Argument_survives_the_local_transport(string value)
        {
            using var local = new LocalTransport();
            var result = await local.RunAsync(ShellQuote.Line($"printf %s {value}"), CancellationToken.None);
            Assert.Equal(0, result.ExitStatus);
            Assert.Equal(value, result.StandardOutput);
            Assert.False(File.Exists(Marker), "the quoted argument ran a command");
        }

        [Fact]
        public void Several_arguments_stay_separate()
        {
            var output = TestShell.Run("/bin/sh", "-c", ShellQuote.Line($"printf {"[%s]"} {new[] { "a b", "c;d", "e'f" }}"));
            Assert.Equal("[a b][c;d][e'f]", output);
        }

        [Fact]
        public void A_line_puts_numbers_as_digits_and_fragments_as_they_are()
        {
            var inner = ShellQuote.Line($"printf %s {"x y"}");
            Assert.Equal("n=42; printf %s 'x y'", ShellQuote.Line($"n={42}; {inner}").Text);
            Assert.Equal("echo 'it'\\''s'", ShellQuote.Line($"echo {"it's"}").Text);
        }

        [Fact]
        public void Nul_is_refused() => Assert.Throws<ArgumentException>(() => ShellQuote.Quote("a\0b"));
    }
}
