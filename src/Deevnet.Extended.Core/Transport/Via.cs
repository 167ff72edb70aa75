using System;
using System.Text.RegularExpressions;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// How the module reaches a machine: <c>local</c> (it runs there) or <c>ssh://user@host[:port]</c>.
    /// Parsed from the tier's <c>via:</c> keys; host and user are validated here because they end up
    /// on command lines and in known_hosts look-ups.
    /// </summary>
    public sealed class Via : IEquatable<Via>
    {
        private static readonly Regex HostPattern = new Regex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\d{1,3}(?:\.\d{1,3}){3}$", RegexOptions.CultureInvariant);
        private static readonly Regex UserPattern = new Regex(@"^[a-z_][a-z0-9_.-]{0,31}$", RegexOptions.CultureInvariant);

        private Via(bool isLocal, string? user, string host, int port)
        {
            IsLocal = isLocal;
            User = user;
            Host = host;
            Port = port;
        }

        /// <summary>The machine the module itself runs on.</summary>
        public static Via Local { get; } = new Via(true, null, "localhost", 0);

        public bool IsLocal { get; }

        /// <summary>SSH user, or null when the via did not name one (the tier's <c>access.user</c> applies).</summary>
        public string? User { get; }

        public string Host { get; }

        /// <summary>SSH port (22 unless given).</summary>
        public int Port { get; }

        /// <summary>A copy with <paramref name="user"/> filled in when this via names none.</summary>
        public Via WithDefaultUser(string user) => IsLocal || User != null ? this : new Via(false, user, Host, Port);

        public static Via Ssh(string user, string host, int port = 22)
        {
            if (!TryParse($"ssh://{user}@{host}:{port}", out var via, out var error)) throw new FormatException(error);
            return via!;
        }

        /// <summary>Parses <c>local</c> or <c>ssh://[user@]host[:port]</c>; on failure says why.</summary>
        public static bool TryParse(string? text, out Via? via, out string? error)
        {
            via = null;
            error = null;
            if (string.IsNullOrWhiteSpace(text))
            {
                error = "is empty; expected 'local' or 'ssh://user@host[:port]'";
                return false;
            }
            if (text == "local")
            {
                via = Local;
                return true;
            }
            const string scheme = "ssh://";
            if (!text!.StartsWith(scheme, StringComparison.Ordinal))
            {
                error = $"'{text}' is not 'local' or 'ssh://user@host[:port]'";
                return false;
            }
            var rest = text.Substring(scheme.Length);
            string? user = null;
            var at = rest.IndexOf('@');
            if (at >= 0)
            {
                user = rest.Substring(0, at);
                rest = rest.Substring(at + 1);
                if (!UserPattern.IsMatch(user))
                {
                    error = $"'{text}' has an invalid user name '{user}'";
                    return false;
                }
            }
            var port = 22;
            var colon = rest.LastIndexOf(':');
            if (colon >= 0)
            {
                if (!int.TryParse(rest.Substring(colon + 1), out port) || port < 1 || port > 65535)
                {
                    error = $"'{text}' has an invalid port";
                    return false;
                }
                rest = rest.Substring(0, colon);
            }
            if (!HostPattern.IsMatch(rest))
            {
                error = $"'{text}' has an invalid host name '{rest}'";
                return false;
            }
            via = new Via(false, user, rest, port);
            return true;
        }

        public override string ToString() => IsLocal ? "local" : $"ssh://{(User != null ? User + "@" : "")}{Host}{(Port != 22 ? ":" + Port : "")}";

        public bool Equals(Via? other) => other != null && other.IsLocal == IsLocal && other.User == User && string.Equals(other.Host, Host, StringComparison.OrdinalIgnoreCase) && other.Port == Port;

        public override bool Equals(object? obj) => Equals(obj as Via);

        public override int GetHashCode() => IsLocal ? 1 : HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(Host), Port, User);
    }
}
