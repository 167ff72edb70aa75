using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Completers
{
    /// <summary>
    /// Completes names from the tier named by the command's <c>-TierPath</c> (or <c>-Tier</c>, or <c>$env:DEEV_TIER</c>).
    /// Tab completion must never prompt, throw or stall: any problem simply yields no completions, and the loader's
    /// cache makes repeated presses cheap.
    /// </summary>
    public abstract class TierNameCompleter : IArgumentCompleter
    {
        protected abstract IEnumerable<(string Name, string Tooltip)> Names(SiteTier tier);

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            try
            {
                var tier = FindTier(fakeBoundParameters);
                if (tier == null) return Array.Empty<CompletionResult>();
                var word = (wordToComplete ?? "").Trim('\'', '"');
                var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
                return Names(tier).Where(n => pattern.IsMatch(n.Name)).OrderBy(n => n.Name, StringComparer.Ordinal)
                    .Select(n => new CompletionResult(n.Name, n.Name, CompletionResultType.ParameterValue, n.Tooltip)).ToList();
            }
            catch (Exception)
            {
                // A completer that throws breaks the user's tab key; no completions is the honest answer.
                return Array.Empty<CompletionResult>();
            }
        }

        internal static SiteTier? FindTier(IDictionary? bound)
        {
            var path = Value(bound, "TierPath") ?? Value(bound, "Tier") ?? Environment.GetEnvironmentVariable(TierCmdlet.TierEnvironmentVariable);
            if (string.IsNullOrEmpty(path)) return null;
            if (!Path.IsPathRooted(path)) path = Path.Combine(CurrentLocation(), path);
            return File.Exists(path) ? TierLoader.Load(path) : null;
        }

        /// <summary>
        /// The session's current file-system location, against which a relative -TierPath or $env:DEEV_TIER resolves
        /// (as the cmdlets resolve it). Completion runs inside TabExpansion2's pipeline, where the runspace's
        /// SessionStateProxy refuses to answer ("a pipeline is running"): a nested command on the current runspace
        /// may. The process's working directory is not the session's location, so it is only the last resort.
        /// </summary>
        private static string CurrentLocation()
        {
            try
            {
                using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
                ps.AddScript("$ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath");
                if (ps.Invoke().FirstOrDefault()?.BaseObject is string location && location.Length > 0) return location;
            }
            catch (Exception)
            {
                // Not on a runspace's thread (a host calling the completer directly): fall through.
            }
            return Environment.CurrentDirectory;
        }

        private static string? Value(IDictionary? bound, string key)
        {
            if (bound == null || !bound.Contains(key)) return null;
            var value = bound[key];
            if (value is PSObject pso) value = pso.BaseObject;
            return value as string;
        }
    }

    /// <summary>Host names of the tier.</summary>
    public sealed class HostNameCompleter : TierNameCompleter
    {
        protected override IEnumerable<(string Name, string Tooltip)> Names(SiteTier tier) =>
            tier.Hosts.Select(h => (h.Name, $"{h.Name} ({h.Segment}, {h.IPAddress})"));
    }

    /// <summary>Service names of the tier.</summary>
    public sealed class ServiceNameCompleter : TierNameCompleter
    {
        protected override IEnumerable<(string Name, string Tooltip)> Names(SiteTier tier) =>
            tier.Services.Select(s => (s.Name, $"{s.Name} ({s.Class.ToString().ToLowerInvariant()} on {s.Host})"));
    }

    /// <summary>The vias of the tier (how its hosts and servers are reached), as <c>-Via</c> takes them.</summary>
    public sealed class ViaCompleter : TierNameCompleter
    {
        protected override IEnumerable<(string Name, string Tooltip)> Names(SiteTier tier) =>
            tier.Hosts.Select(h => (tier.ViaOf(h).ToString(), $"{h.Name}"))
                .Concat(new[] { tier.Dhcp, tier.Dns }.Concat(tier.Hypervisors)
                    .Where(s => s?.Via != null && !s.Via.IsLocal).Select(s => (s!.Via!.ToString(), s.Section)))
                .GroupBy(v => v.Item1, StringComparer.Ordinal).Select(g => (g.Key, string.Join(", ", g.Select(v => v.Item2))));
    }

    /// <summary>
    /// Service classes: the three every site has (a class playbook exists for each) and any other class the tier's
    /// services use. Without a tier it still offers the three, so <c>Get-DeevPlaybook -Class</c> completes anywhere.
    /// </summary>
    public sealed class ServiceClassCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var classes = new SortedSet<string>(Enum.GetNames(typeof(ServiceClass)), StringComparer.OrdinalIgnoreCase);
            try
            {
                if (TierNameCompleter.FindTier(fakeBoundParameters) is { } tier)
                    foreach (var service in tier.Services) classes.Add(service.Class.ToString());
            }
            catch (Exception)
            {
                // No tier or a broken one: the three standard classes still complete.
            }
            var pattern = new WildcardPattern((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            return classes.Where(c => pattern.IsMatch(c)).Select(c => new CompletionResult(c, c, CompletionResultType.ParameterValue, c)).ToList();
        }
    }

    /// <summary>Segment names of the tier.</summary>
    public sealed class SegmentNameCompleter : TierNameCompleter
    {
        protected override IEnumerable<(string Name, string Tooltip)> Names(SiteTier tier) =>
            tier.Segments.Select(s => (s.Name, $"{s.Name} ({s.Subnet}{(s.IsTenant ? ", tenant" : "")})"));
    }
}
