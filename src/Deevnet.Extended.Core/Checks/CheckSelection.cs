using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>
    /// Which checks to run. <see cref="Targets"/> is a union (each pipeline object adds one); inside a target, host
    /// and service patterns must both match. <see cref="Classes"/> and <see cref="Checks"/> narrow everything.
    /// Patterns are wildcards (<c>*</c>, <c>?</c>), case-insensitive. Empty lists match everything.
    /// </summary>
    public sealed class CheckSelection
    {
        public List<CheckTarget> Targets { get; } = new List<CheckTarget>();
        public List<string> Classes { get; } = new List<string>();
        public List<string> Checks { get; } = new List<string>();

        public static CheckSelection All => new CheckSelection();

        /// <summary>Whether a host check (no service) is selected: some service on the host must pass the service filters.</summary>
        public bool IncludesHost(MgmtHost host, IReadOnlyList<Service> servicesOnHost)
        {
            var noServiceFilter = Targets.All(t => t.Services.Count == 0) && Classes.Count == 0;
            if (noServiceFilter && Targets.Count == 0) return true;
            if (Targets.Count > 0 && !Targets.Any(t => Glob.Any(t.Hosts, host.Name) &&
                (t.Services.Count == 0 || servicesOnHost.Any(s => Glob.Any(t.Services, s.Name))))) return false;
            return Classes.Count == 0 || servicesOnHost.Any(s => Glob.Any(Classes, ClassName(s)));
        }

        public bool IncludesService(Service service)
        {
            if (Targets.Count > 0 && !Targets.Any(t => Glob.Any(t.Hosts, service.Host) && Glob.Any(t.Services, service.Name))) return false;
            return Glob.Any(Classes, ClassName(service));
        }

        public bool IncludesCheck(string check) => Glob.Any(Checks, check);

        public static string ClassName(Service service) => service.Class.ToString().ToLowerInvariant();
    }

    /// <summary>One selection: host patterns and service patterns (either may be empty = all).</summary>
    public sealed class CheckTarget
    {
        public CheckTarget(IEnumerable<string>? hosts, IEnumerable<string>? services)
        {
            Hosts = (hosts ?? Enumerable.Empty<string>()).Where(h => !string.IsNullOrWhiteSpace(h)).ToList();
            Services = (services ?? Enumerable.Empty<string>()).Where(s => !string.IsNullOrWhiteSpace(s)).ToList();
        }

        public IReadOnlyList<string> Hosts { get; }
        public IReadOnlyList<string> Services { get; }
    }

    /// <summary>Wildcard matching without PowerShell (Core has no PowerShell reference).</summary>
    public static class Glob
    {
        /// <summary>True when <paramref name="patterns"/> is empty or one of them matches.</summary>
        public static bool Any(IReadOnlyCollection<string> patterns, string text) => patterns.Count == 0 || patterns.Any(p => IsMatch(p, text));

        public static bool IsMatch(string pattern, string text)
        {
            var regex = "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
            return Regex.IsMatch(text, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        }
    }
}
