using System;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// One planned check: who it belongs to, what it targets, how long it may take, and the work itself.
    /// The work gets a token that is cancelled at the timeout or on Ctrl+C; the runner turns anything it throws
    /// into a <see cref="CheckStatus.Failed"/> result.
    /// </summary>
    public sealed class CheckItem
    {
        public CheckItem(string service, string host, string @class, string check, string target, TimeSpan timeout,
            Func<CancellationToken, Task<CheckOutcome>> run)
        {
            Service = service;
            Host = host;
            Class = @class;
            Check = check;
            Target = target;
            Timeout = timeout;
            Run = run ?? throw new ArgumentNullException(nameof(run));
        }

        public string Service { get; }
        public string Host { get; }
        public string Class { get; }
        public string Check { get; }
        public string Target { get; }
        public TimeSpan Timeout { get; }
        public Func<CancellationToken, Task<CheckOutcome>> Run { get; }

        /// <summary>
        /// The server the check connects to (<c>host:port</c>), or null. The runner limits how many checks hit one
        /// endpoint at once: small servers (busybox httpd, a DNS server's TCP port) drop connection bursts, and a
        /// dropped SYN costs a one-second retransmit.
        /// </summary>
        public string? Endpoint { get; set; }

        /// <summary>A result for this check without running it (a skip decided while planning).</summary>
        public CheckResult ToResult(CheckOutcome outcome, TimeSpan duration) =>
            new CheckResult(Service, Host, Class, Check, Target, outcome.Status, outcome.Detail, duration, outcome.Measured);

        /// <summary>A check that is known up front to be skipped, with the reason.</summary>
        public static CheckItem Skipped(string service, string host, string @class, string check, string target, string reason) =>
            new CheckItem(service, host, @class, check, target, TimeSpan.FromSeconds(1), _ => Task.FromResult(CheckOutcome.Skip(reason)));
    }
}
