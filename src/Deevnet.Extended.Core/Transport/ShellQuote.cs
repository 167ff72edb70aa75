using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Quotes arguments for a POSIX shell. Every value the module puts on a remote command line goes through
    /// here, so a name such as <c>a;touch /tmp/pwned</c> stays one inert argument. Write command lines with
    /// <see cref="Line"/>: its holes are quoted without being asked, so a value cannot be spliced in raw by mistake.
    /// </summary>
    public static class ShellQuote
    {
        /// <summary>Quotes one argument: plain words stay as they are, anything else is single-quoted.</summary>
        public static string Quote(string value)
        {
            if (value is null) throw new ArgumentNullException(nameof(value));
            if (value.IndexOf('\0') >= 0) throw new ArgumentException("An argument cannot contain a NUL character.", nameof(value));
            if (value.Length > 0 && value.All(IsSafe)) return value;
            var sb = new StringBuilder(value.Length + 2);
            sb.Append('\'');
            foreach (var c in value)
            {
                if (c == '\'') sb.Append("'\\''");
                else sb.Append(c);
            }
            sb.Append('\'');
            return sb.ToString();
        }

        /// <summary>Joins a program and its arguments into one command line, each part quoted.</summary>
        public static string Join(IEnumerable<string> argv) => string.Join(" ", argv.Select(Quote));

        /// <summary>Joins a program and its arguments into one command line, each part quoted.</summary>
        public static string Join(params string[] argv) => Join((IEnumerable<string>)argv);

        /// <summary>
        /// A command line from an interpolated string: <c>Line($"cat {path}")</c>. A string in a hole is quoted as one
        /// argument, a list of strings as one argument each, a number goes in as digits; only a <see cref="ShellFragment"/>
        /// (a line built here, or text a caller vouches for with <see cref="ShellFragment.Trusted"/>) goes in as it is.
        /// Any other type in a hole does not compile.
        /// </summary>
        public static ShellFragment Line(ShellLineBuilder line) => line.Build();

        private static bool IsSafe(char c) =>
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == '=' || c == '@' || c == '+' || c == ',';
    }

    /// <summary>A piece of shell text that is already safe to run: built by <see cref="ShellQuote.Line"/> or vouched for.</summary>
    public readonly struct ShellFragment
    {
        private ShellFragment(string text) => Text = text;

        public string Text { get; }

        /// <summary>
        /// Text that goes into a line unquoted: constant script text, a line built with <see cref="ShellQuote"/>, or a
        /// command the tier's operator wrote as a command (e.g. <c>dns.restartCommand</c>). Never a value.
        /// </summary>
        public static ShellFragment Trusted(string text) => new ShellFragment(text ?? throw new ArgumentNullException(nameof(text)));

        public static implicit operator string(ShellFragment fragment) => fragment.Text ?? string.Empty;

        public override string ToString() => Text ?? string.Empty;
    }

    /// <summary>The interpolated-string handler behind <see cref="ShellQuote.Line"/>.</summary>
    [InterpolatedStringHandler]
    public ref struct ShellLineBuilder
    {
        private readonly StringBuilder _text;

        public ShellLineBuilder(int literalLength, int formattedCount) => _text = new StringBuilder(literalLength + formattedCount * 16);

        public void AppendLiteral(string text) => _text.Append(text);

        public void AppendFormatted(string value) => _text.Append(ShellQuote.Quote(value));

        public void AppendFormatted(IEnumerable<string> values) => _text.Append(ShellQuote.Join(values));

        public void AppendFormatted(int value) => _text.Append(value.ToString(CultureInfo.InvariantCulture));

        public void AppendFormatted(ShellFragment fragment) => _text.Append(fragment.Text);

        internal ShellFragment Build() => ShellFragment.Trusted(_text.ToString());
    }
}
