using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>Small pieces of server-side command lines shared by the file-based back ends.</summary>
    internal static class DhcpShell
    {
        private static readonly Regex NetnsName = new Regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant);

        /// <summary><c>ip netns exec &lt;ns&gt; </c> when the tier names a namespace for server-side checks, else nothing.</summary>
        public static ShellFragment InNetns(string? netns)
        {
            if (string.IsNullOrEmpty(netns)) return ShellFragment.Trusted("");
            if (!NetnsName.IsMatch(netns)) throw DhcpErrors.Invalid($"dhcp.netns '{DhcpFields.Printable(netns!)}' is not a network namespace name.", netns);
            return ShellQuote.Line($"ip netns exec {netns!} ");
        }
    }
}
