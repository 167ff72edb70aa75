using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Identity;

namespace Deevnet.Extended.Core.Plans
{
    /// <summary>
    /// Turns a back end's plan into a saved step and back. The step keeps only what changes (a prune becomes explicit
    /// removals, unchanged entries are left out), so the batch rebuilt from it can do no more than the reviewed lines;
    /// <see cref="Differences"/> proves, before anything is applied, that it does exactly those lines.
    /// </summary>
    public static class PlanSteps
    {
        public static PlanStep FromDhcp(DhcpPlan plan)
        {
            var changes = SavedChange.Of(plan.Plan);
            var set = new HashSet<string>(changes.Where(c => c.Action != nameof(ChangeAction.Remove)).Select(c => c.Key), StringComparer.Ordinal);
            return new PlanStep
            {
                Service = PlanStep.Dhcp,
                Server = plan.Plan.Target,
                Read = DhcpFingerprint(plan.Existing),
                Changes = changes,
                SetReservations = plan.Owned.Where(r => set.Contains(r.ClientId)).Select(r => new SavedReservation
                {
                    ClientId = r.ClientId, IPAddress = r.IPAddress.ToString(), Name = r.Name, Description = r.Description, ScopeId = r.ScopeId,
                }).ToList(),
                Remove = changes.Where(c => c.Action == nameof(ChangeAction.Remove)).Select(c => c.Key).ToList(),
            };
        }

        /// <summary>The batch that makes exactly the step's changes.</summary>
        public static DhcpBatch DhcpBatchOf(PlanStep step) => new DhcpBatch(
            (step.SetReservations ?? new List<SavedReservation>()).Select(r =>
                new DhcpReservation(r.ClientId, IPAddress.Parse(r.IPAddress), r.Name, r.Description, r.ScopeId)),
            step.Remove);

        /// <summary>The owned reservations a DHCP plan read, by MAC.</summary>
        public static PlanFingerprint DhcpFingerprint(IEnumerable<DhcpReservation> existing) =>
            PlanFingerprint.Of(existing.Where(r => r.IsOwned).Select(r =>
                new KeyValuePair<string, string>(r.ClientId, $"{r.IPAddress}|{r.Name}|{r.Description}|{r.ScopeId}")));

        public static PlanStep FromDns(DnsPlan plan)
        {
            var write = plan.ToWrite.ToList();
            var written = new HashSet<string>(write.Select(r => r.Key), StringComparer.Ordinal);
            return new PlanStep
            {
                Service = PlanStep.Dns,
                Server = plan.Changes.Target,
                Read = DnsFingerprint(plan.Current.Owned),
                Changes = SavedChange.Of(plan.Changes),
                SetRecords = write.Select(Saved).ToList(),
                RemoveRecords = plan.ToDelete.Where(r => !written.Contains(r.Key)).Select(Saved).ToList(),
            };
        }

        public static DnsBatch DnsBatchOf(PlanStep step) => new DnsBatch(
            (step.SetRecords ?? new List<SavedRecord>()).Select(Record),
            (step.RemoveRecords ?? new List<SavedRecord>()).Select(Record));

        /// <summary>The owned records a DNS plan read, by name and type.</summary>
        public static PlanFingerprint DnsFingerprint(IEnumerable<DnsRecord> owned) =>
            PlanFingerprint.Of(owned.Select(r => new KeyValuePair<string, string>(r.Key, $"{r.Value}|{r.Ttl}")));

        /// <summary>An identity allocation as plan lines: one per host that gets a VMID, one per entry pruned.</summary>
        public static ChangePlan IdentityChanges(AllocationPlan plan) => new ChangePlan(plan.CompanionPath,
            plan.Added.Select(a => new PlannedChange(ChangeAction.Add, "Identity", a.HostName, null, $"vmid {a.VmId}, mac {a.MacAddress}"))
                .Concat(plan.Pruned.Select(p => new PlannedChange(ChangeAction.Remove, "Identity", p, "allocated", null))).ToList());

        /// <summary>
        /// An identity step. What it was computed from is the tier and identity files, whose hashes the plan holds, so
        /// it reads nothing else; applying it allocates for exactly the saved hosts and prunes only when it saved prunes.
        /// </summary>
        public static PlanStep FromIdentity(AllocationPlan plan) => new PlanStep
        {
            Service = PlanStep.Identity,
            Server = plan.CompanionPath,
            Read = PlanFingerprint.Of(Array.Empty<KeyValuePair<string, string>>()),
            Changes = SavedChange.Of(IdentityChanges(plan)),
            Allocate = plan.Added.Select(a => a.HostName).ToList(),
            Remove = plan.Pruned.ToList(),
        };

        /// <summary>
        /// How the changes a back end computes now differ from the saved ones; empty when they are the same lines.
        /// Order does not matter; unchanged lines are not compared.
        /// </summary>
        public static IReadOnlyList<string> Differences(IReadOnlyList<SavedChange> saved, ChangePlan now)
        {
            var then = new HashSet<string>(saved.Select(c => c.ToString()), StringComparer.Ordinal);
            var current = new HashSet<string>(SavedChange.Of(now).Select(c => c.ToString()), StringComparer.Ordinal);
            return then.Except(current).Select(c => $"saved '{c}' would not be made as saved")
                .Concat(current.Except(then).Select(c => $"'{c}' would be made but is not in the plan"))
                .OrderBy(d => d, StringComparer.Ordinal).ToList();
        }

        private static SavedRecord Saved(DnsRecord r) => new SavedRecord { Name = r.Name, Type = r.Type.ToString(), Value = r.Value, Ttl = r.Ttl };

        private static DnsRecord Record(SavedRecord r) =>
            DnsRecord.Create(r.Name, (DnsRecordType)Enum.Parse(typeof(DnsRecordType), r.Type, ignoreCase: false), r.Value, r.Ttl);
    }
}
