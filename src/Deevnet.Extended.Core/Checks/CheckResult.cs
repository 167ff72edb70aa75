using System;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>How one check came out.</summary>
    public enum CheckStatus
    {
        Passed,
        Failed,

        /// <summary>Holds now, but will not for long (e.g. a certificate close to expiry).</summary>
        Warning,

        /// <summary>Could not be judged (its back end is not configured or not available); never counts as passed.</summary>
        Skipped,
    }

    /// <summary>
    /// The result of one check: which service and host it belongs to, what was checked against what, and how it came
    /// out. <see cref="Service"/> is empty for checks that belong to a host rather than to one service.
    /// </summary>
    public sealed class CheckResult
    {
        public CheckResult(string service, string host, string @class, string check, string target, CheckStatus status, string detail, TimeSpan duration,
            double? measured = null)
        {
            Measured = measured;
            Service = service;
            Host = host;
            Class = @class;
            Check = check;
            Target = target;
            Status = status;
            Detail = detail;
            Duration = duration;
        }

        /// <summary>The service the check belongs to; empty for host checks (DNS records, reservation, identity, isolation).</summary>
        public string Service { get; }

        /// <summary>The management host the check is about.</summary>
        public string Host { get; }

        /// <summary>The service class (<c>observability</c>, <c>automation</c>, <c>access</c>); empty for host checks.</summary>
        public string Class { get; }

        /// <summary>The kind of check, e.g. <c>http</c>, <c>dns-forward</c>, <c>dhcp-reservation</c>.</summary>
        public string Check { get; }

        /// <summary>What was checked: a URL, <c>host:port</c>, a DNS name, a command.</summary>
        public string Target { get; }

        public CheckStatus Status { get; }

        /// <summary>Why it passed or failed, in words an operator can act on.</summary>
        public string Detail { get; }

        public TimeSpan Duration { get; }

        /// <summary>The number the check judged, when it has one (<c>backup-fresh</c>: the newest good backup's age in seconds); for metrics.</summary>
        public double? Measured { get; }

        /// <summary>The group a table view shows this under: the service, or the host for host checks.</summary>
        public string Group => Service.Length > 0 ? "service " + Service : "host " + Host;

        public override string ToString() => $"{Status} {Group} {Check} {Target}: {Detail}";
    }

    /// <summary>What a check function returns before the runner stamps it with identity and duration.</summary>
    public sealed class CheckOutcome
    {
        private CheckOutcome(CheckStatus status, string detail, double? measured = null)
        {
            Status = status;
            Detail = detail;
            Measured = measured;
        }

        public CheckStatus Status { get; }
        public string Detail { get; }

        /// <summary>The number judged, if any (see <see cref="CheckResult.Measured"/>).</summary>
        public double? Measured { get; }

        /// <summary>The same outcome, carrying the number it judged.</summary>
        public CheckOutcome WithMeasured(double value) => new CheckOutcome(Status, Detail, value);

        public static CheckOutcome Pass(string detail) => new CheckOutcome(CheckStatus.Passed, detail);
        public static CheckOutcome Fail(string detail) => new CheckOutcome(CheckStatus.Failed, detail);
        public static CheckOutcome Warn(string detail) => new CheckOutcome(CheckStatus.Warning, detail);
        public static CheckOutcome Skip(string detail) => new CheckOutcome(CheckStatus.Skipped, detail);
    }
}
