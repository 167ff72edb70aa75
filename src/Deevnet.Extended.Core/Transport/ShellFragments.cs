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

        /// <summary>Prints <paramref name="message"/> on stderr and exits with <paramref name="status"/>.</summary>
        public static ShellFragment Exit(int status, string message) => ShellQuote.Line($"printf '%s\\n' {message} >&2; exit {status}");
    }
}
