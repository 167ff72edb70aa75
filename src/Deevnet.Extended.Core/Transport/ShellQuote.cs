using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Quotes arguments for a POSIX shell. Every value the module puts on a remote command line goes through
    /// here, so a name such as <c>a;touch /tmp/pwned</c> stays one inert argument.
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

        private static bool IsSafe(char c) =>
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == '=' || c == '@' || c == '+' || c == ',';
    }
}
