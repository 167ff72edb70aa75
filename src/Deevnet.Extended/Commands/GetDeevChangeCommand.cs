using System;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Journal;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Reads the tier's change journal (<c>journal:</c>): one object per change that was applied (or tried), newest
    /// last, filtered by time, server, host, service and kind.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "DeevChange")]
    [OutputType(typeof(JournalEntry))]
    public sealed class GetDeevChangeCommand : TierCmdlet
    {
        /// <summary>Only changes at or after this time.</summary>
        [Parameter]
        public DateTime? Since { get; set; }

        /// <summary>Only changes on these servers (wildcards), as the record names them (e.g. <c>dnsmasq*</c>).</summary>
        [Parameter]
        [SupportsWildcards]
        public string[]? Server { get; set; }

        /// <summary>Only changes that name these hosts (wildcards).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HostNameCompleter))]
        public string[]? HostName { get; set; }

        /// <summary>Only changes that name these services (wildcards).</summary>
        [Parameter]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        public string[]? Service { get; set; }

        /// <summary>Only changes of these kinds (wildcards): <c>Reservation</c>, <c>A</c>, <c>PTR</c>, <c>CNAME</c>, <c>Identity</c>.</summary>
        [Parameter]
        [SupportsWildcards]
        public string[]? Kind { get; set; }

        protected override void ProcessRecord()
        {
            var tier = LoadTier();
            if (tier.Journal == null)
            {
                WriteError(NewError("JournalNotConfigured", ErrorCategory.ObjectNotFound,
                    $"The tier '{tier.SourcePath}' keeps no change journal.", tier.SourcePath, "Add journal: <path> (or ssh://user@host/path) to the tier file."));
                return;
            }
            var journal = new ChangeJournal(tier.Journal, via => Pool.Get(via, tier.Access));
            var records = RunAsync(token => journal.ReadAsync(token, (line, why) => Log.Warning($"{tier.Journal} line {line} is not a change record; skipped ({why}).")));
            var since = Since.HasValue ? new DateTimeOffset(Since.Value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(Since.Value, DateTimeKind.Local) : Since.Value) : (DateTimeOffset?)null;
            foreach (var record in records.Where(r => since == null || r.Time >= since))
            {
                if (!Matches(record.Server, Server)) continue;
                foreach (var entry in record.Changes.Select(c => new JournalEntry(record, c)))
                {
                    if (!Matches(entry.Kind, Kind)) continue;
                    if (HostName is { Length: > 0 } && !entry.Mentions(w => Matches(w, HostName))) continue;
                    if (Service is { Length: > 0 } && !entry.Mentions(w => Matches(w, Service))) continue;
                    WriteObject(entry);
                }
            }
        }
    }
}
