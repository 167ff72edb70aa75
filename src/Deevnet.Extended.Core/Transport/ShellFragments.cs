using System;
using System.Collections.Generic;
using System.Linq;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Shell pieces that more than one back end needs, written once. Values from the tier or from a server are quoted
    /// or checked here, so a back end never splices such a value into a line of its own.
    /// </summary>
    public static class ShellFragments
    {
        /// <summary>
        /// Reads a daemon's pid file into <c>$pid</c>; runs <paramref name="otherwise"/> unless it holds a plain process
        /// id (digits, no leading zero). The file's content comes from the server: <c>-1</c> would make <c>kill</c> signal
        /// every process, <c>0</c> the caller's own group, and anything else is not a process at all.
        /// </summary>
        public static ShellFragment ReadPid(string pidFile, ShellFragment otherwise) =>
            ShellQuote.Line($"pid=$(cat {pidFile} 2>/dev/null); case \"$pid\" in ''|0*|*[!0-9]*) {otherwise};; esac");

        /// <summary>SIGHUP to the process in the pid file (dnsmasq's reload); fails, saying so, when the file names none.</summary>
        public static ShellFragment HangUp(string pidFile) =>
            ShellQuote.Line($"{ReadPid(pidFile, Exit(1, "no process id in " + pidFile))}; kill -HUP \"$pid\"");

        /// <summary><c>ip netns exec &lt;ns&gt; </c> when the tier names a namespace for server-side checks, else nothing.</summary>
        public static ShellFragment InNetns(string? netns) =>
            string.IsNullOrEmpty(netns) ? ShellFragment.Trusted("") : ShellQuote.Line($"ip netns exec {netns} ");

        /// <summary>Prints <paramref name="message"/> on stderr and exits with <paramref name="status"/>.</summary>
        public static ShellFragment Exit(int status, string message) => ShellQuote.Line($"printf '%s\\n' {message} >&2; exit {status}");
    }

    /// <summary>
    /// Several reads in one round trip: the script prints <see cref="Start(string)"/> before each part, and
    /// <see cref="Split"/> cuts the output back into named parts. The marker holds a random token, so nothing a file or a
    /// server prints can forge a part.
    /// </summary>
    public sealed class OutputSections
    {
        private readonly string _marker = "==> " + Guid.NewGuid().ToString("N");

        /// <summary>Starts the part <paramref name="name"/>.</summary>
        public ShellFragment Start(string name) => ShellQuote.Line($"printf '\\n%s %s\\n' {_marker} {name}");

        /// <summary>Starts the part <c>&lt;kind&gt; &lt;value of a shell word&gt;</c>, e.g. a file name in <c>"$f"</c>.</summary>
        public ShellFragment Start(string kind, ShellFragment word) => ShellQuote.Line($"printf '\\n%s %s %s\\n' {_marker} {kind} {word}");

        /// <summary>The parts of <paramref name="output"/> in order: name, then the text up to the next part.</summary>
        public IEnumerable<(string Name, string Text)> Split(string output) =>
            ("\n" + output).Split("\n" + _marker + " ").Skip(1).Select(chunk => chunk.IndexOf('\n') is var nl && nl < 0
                ? (chunk, "") : (chunk.Substring(0, nl), chunk.Substring(nl + 1)));
    }
}
