using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Plans;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// One site DNS server the module writes records to. Every back end works the same way: read what is there
    /// (the module's records and everybody else's), plan a batch against it, apply the plan as one transaction.
    /// Made by <see cref="DnsBackendFactory"/>; disposed at the end of a pipeline.
    /// </summary>
    public interface IDnsBackend : IDisposable
    {
        /// <summary><c>dnsmasq</c>, <c>unbound</c>, <c>bind</c>, <c>powerdns</c> or <c>opnsense</c>.</summary>
        string Kind { get; }

        /// <summary>Where the records live, for plans and output (<c>bind 10.231.0.2:5355</c>).</summary>
        string Server { get; }

        /// <summary>The forward zone the module writes host and service names into.</summary>
        string Zone { get; }

        /// <summary>
        /// Reads the records the module owns and the A/PTR/CNAME records others wrote. Back ends that cannot list
        /// other writers' records (dnsmasq) look up <paramref name="names"/> on the server instead.
        /// </summary>
        Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken);

        /// <summary>Reads, then computes what <paramref name="batch"/> would change. Touches nothing.</summary>
        Task<DnsPlan> PlanAsync(DnsBatch batch, CancellationToken cancellationToken);

        /// <summary>Applies a plan made by this back end as one transaction: all of it, or (after a failure) none of it.</summary>
        Task<DnsApplyResult> ApplyAsync(DnsPlan plan, CancellationToken cancellationToken);
    }

    /// <summary>What a server holds: the module's records and the others'.</summary>
    public sealed class DnsRecordSet
    {
        public DnsRecordSet(IReadOnlyList<DnsRecord> owned, IReadOnlyList<DnsRecord> foreign)
        {
            Owned = owned;
            Foreign = foreign;
        }

        public IReadOnlyList<DnsRecord> Owned { get; }
        public IReadOnlyList<DnsRecord> Foreign { get; }
        public IEnumerable<DnsRecord> All => Owned.Concat(Foreign);
    }

    /// <summary>
    /// A batch of wanted changes. <see cref="Upserts"/> are records that must exist as given; <see cref="Removals"/>
    /// name records (name + type) that must go; <see cref="Prune"/> removes every owned record not in Upserts.
    /// </summary>
    public sealed class DnsBatch
    {
        public DnsBatch(IEnumerable<DnsRecord> upserts, IEnumerable<DnsRecord>? removals = null, bool prune = false)
        {
            Upserts = upserts.ToList();
            Removals = (removals ?? Enumerable.Empty<DnsRecord>()).ToList();
            Prune = prune;
        }

        public IReadOnlyList<DnsRecord> Upserts { get; }

        /// <summary>Records to remove, matched by name and type (the value is ignored).</summary>
        public IReadOnlyList<DnsRecord> Removals { get; }
        public bool Prune { get; }
    }

    /// <summary>
    /// A plan: the shared <see cref="ChangePlan"/> for -WhatIf and output, plus what the back end needs to apply it
    /// (the state it was computed from and the complete set of owned records afterwards).
    /// </summary>
    public sealed class DnsPlan
    {
        internal DnsPlan(ChangePlan changes, DnsRecordSet current, IReadOnlyList<DnsRecord> targetOwned, IReadOnlyList<DnsRecord> skipped)
        {
            Changes = changes;
            Current = current;
            TargetOwned = targetOwned;
            Skipped = skipped;
        }

        public ChangePlan Changes { get; }

        /// <summary>What the server held when the plan was made.</summary>
        public DnsRecordSet Current { get; }

        /// <summary>Every record the module will own once the plan is applied.</summary>
        public IReadOnlyList<DnsRecord> TargetOwned { get; }

        /// <summary>Wanted records this server cannot hold (a PTR for a reverse zone it does not serve).</summary>
        public IReadOnlyList<DnsRecord> Skipped { get; }

        public bool HasChanges => Changes.HasChanges;

        /// <summary>The owned records that the plan adds or changes (their new form).</summary>
        public IEnumerable<DnsRecord> ToWrite => TargetOwned.Where(t => !Current.Owned.Any(o => o.SameData(t) && (o.Ttl == 0 || o.Ttl == t.Ttl)));

        /// <summary>The owned records that the plan removes or replaces (their old form).</summary>
        public IEnumerable<DnsRecord> ToDelete => Current.Owned.Where(o => !TargetOwned.Any(t => t.SameData(o) && (o.Ttl == 0 || o.Ttl == t.Ttl)));
    }

    /// <summary>What applying a plan did.</summary>
    public sealed class DnsApplyResult
    {
        public DnsApplyResult(ChangePlan applied, bool restarted, TimeSpan duration)
        {
            Applied = applied;
            Restarted = restarted;
            Duration = duration;
        }

        public ChangePlan Applied { get; }

        /// <summary>True when the server had to be restarted (dnsmasq, for a CNAME change) rather than reloaded.</summary>
        public bool Restarted { get; }
        public TimeSpan Duration { get; }
    }
}
