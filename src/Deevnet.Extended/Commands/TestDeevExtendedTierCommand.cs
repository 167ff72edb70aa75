using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Proves the tier's rules right now: declared checks per service and checks derived from the tier (DNS, DHCP,
    /// identity, VM, isolation, backup), run concurrently. Pipeline objects only select what to check: they are
    /// collected and the checks run once, at the end.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "DeevExtendedTier", DefaultParameterSetName = ResultsSet)]
    [OutputType(typeof(CheckResult), ParameterSetName = new[] { ResultsSet })]
    [OutputType(typeof(bool), ParameterSetName = new[] { QuietSet })]
    [OutputType(typeof(CheckSummary), ParameterSetName = new[] { SummarySet })]
    public sealed class TestDeevExtendedTierCommand : TierCmdlet
    {
        private const string ResultsSet = "Results", QuietSet = "Quiet", SummarySet = "Summary";
        private readonly Dictionary<string, CheckSelection> _selections = new Dictionary<string, CheckSelection>(StringComparer.Ordinal);

        /// <summary>Services to check (wildcards); their hosts' checks come with them. Services pipe in by property name.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        public string[]? Service { get; set; }

        /// <summary>Hosts to check (wildcards): their host checks and their services. Hosts, VMs and reservations pipe in by property name.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("Host")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string[]? HostName { get; set; }

        /// <summary>Only services of these classes (and their hosts' checks).</summary>
        [Parameter]
        public ServiceClass[]? Class { get; set; }

        /// <summary>Only these checks (wildcards), e.g. <c>dns-*</c>, <c>http</c>.</summary>
        [Parameter]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(CheckNameCompleter))]
        public string[]? Check { get; set; }

        /// <summary>Return one boolean: $true when no check failed.</summary>
        [Parameter(Mandatory = true, ParameterSetName = QuietSet)]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Return one object with the counts (and the failed checks) instead of every result.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SummarySet)]
        public SwitchParameter Summary { get; set; }

        /// <summary>How many checks run at once (default 32).</summary>
        [Parameter]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; } = CheckRunner.DefaultThrottleLimit;

        /// <summary>Timeout of each check that declares none in the tier (default 10 s).</summary>
        [Parameter]
        [ValidateDeevTimeout]
        public double TimeoutSec { get; set; } = CheckPlanner.DefaultTimeout.TotalSeconds;

        /// <summary>Also write every result to these files: JUnit XML (<c>.xml</c>), JSON (<c>.json</c>) or Prometheus metrics (<c>.prom</c>).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? OutFile { get; set; }

        protected override void BeginProcessing()
        {
            foreach (var file in OutFile ?? Array.Empty<string>())
            {
                if (!CheckReport.Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                {
                    ThrowTerminatingError(NewError("CheckReportFormatUnknown", ErrorCategory.InvalidArgument,
                        $"-OutFile '{file}': the format follows the extension, .xml (JUnit), .json or .prom (Prometheus textfile).", file));
                }
            }
        }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            // Names without wildcards that the tier lacks are reported (non-terminating), like Get-DeevService does.
            _ = SelectByName(tier.Services, s => s.Name, Service, "ServiceNotFound", "service", tier.SourcePath).ToList();
            _ = SelectByName(tier.Hosts, h => h.Name, HostName, "HostNotFound", "host", tier.SourcePath).ToList();
            if (!_selections.TryGetValue(tier.SourcePath, out var selection))
            {
                selection = new CheckSelection();
                selection.Classes.AddRange((Class ?? Array.Empty<ServiceClass>()).Select(c => c.ToString().ToLowerInvariant()));
                selection.Checks.AddRange(Check ?? Array.Empty<string>());
                _selections.Add(tier.SourcePath, selection);
            }
            selection.Targets.Add(new CheckTarget(HostName, Service));
        }

        protected override void EndProcessing()
        {
            foreach (var pair in _selections)
            {
                var tier = TierLoader.Load(pair.Key);
                var watch = Stopwatch.StartNew();
                var results = Run(tier, pair.Value);
                var summary = CheckSummary.From(tier.SourcePath, results, watch.Elapsed);
                WriteVerbose($"{summary.Total} checks in {watch.Elapsed.TotalSeconds:0.00} s: {summary.Passed} passed, {summary.Failed} failed, {summary.Warning} warnings, {summary.Skipped} skipped.");
                foreach (var file in OutFile ?? Array.Empty<string>()) WriteReport(file, tier.Site.Name, summary, results);
                if (Quiet) WriteObject(summary.Success);
                else if (Summary) WriteObject(summary);
                else foreach (var result in results) WriteObject(result);
            }
        }

        private IReadOnlyList<CheckResult> Run(SiteTier tier, CheckSelection selection)
        {
            var timeout = TimeSpan.FromSeconds(TimeoutSec);
            var pool = Pool;
            return RunAsync(async token =>
            {
                var backends = TierCheckBackends.Create(tier, pool, token);
                var planner = new CheckPlanner(tier, backends, CheckPlanner.ResolverFor(tier, timeout), timeout);
                var items = planner.Plan(selection, token);
                Log.Verbose($"Running {items.Count} checks of {tier.SourcePath}, {ThrottleLimit} at a time.");
                return await new CheckRunner(ThrottleLimit).RunAsync(items, Progress, token).ConfigureAwait(false);
            });
        }

        private void WriteReport(string file, string site, CheckSummary summary, IReadOnlyList<CheckResult> results)
        {
            var path = GetUnresolvedProviderPathFromPSPath(file);
            try
            {
                CheckReport.Write(path, summary, results, site);
                WriteVerbose($"Wrote {results.Count} results to {path}.");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(NewError("CheckReportWriteFailed", ErrorCategory.WriteError, $"Cannot write the check report '{path}': {ex.Message}", path));
            }
        }
    }
}
