using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Xunit;

namespace Deevnet.Extended.Tests.Plans
{
    /// <summary>The <c>restore</c> and <c>rebuild</c> steps of a saved plan: the pinned backup, canonical text, what makes them stale.</summary>
    public class RestorePlanTests
    {
        private const string Name = "files-rpsrc-20261202T050000Z";
        private static readonly string Archive = new string('a', 64);
        private static readonly string Manifest = new string('m', 64);

        private static BackupInfo Backup(string archive, string manifest, BackupSignature signature = BackupSignature.Valid)
        {
            var time = new DateTime(2026, 12, 2, 5, 0, 0, DateTimeKind.Utc);
            return new BackupInfo("files", "rpsrc", Name, time, 100, BackupStatus.Unverified, "/srv/store")
            {
                Signature = signature,
                SignatureProblem = signature == BackupSignature.Valid ? null : "its seal does not verify",
                Seal = signature == BackupSignature.Valid
                    ? new BackupSeal(Name, "files", "rpsrc", time, 100, archive, manifest, 200, 3, new[] { "/srv/files" }, new[] { "tar" })
                    : null,
            };
        }

        private static SavedPlan Document(params PlanStep[] steps)
        {
            var plan = new SavedPlan { Command = "Restore-DeevService", Tier = new PlanSource { Path = "/srv/t.tier.yaml", Sha256 = new string('t', 64) } };
            foreach (var step in steps) plan.Add(step);
            return plan;
        }

        private static PlanStep RestoreStep(string service, string host = "rpsrc")
        {
            var lines = new ChangePlan(host, new List<PlannedChange>
            {
                new PlannedChange(ChangeAction.Change, "Path", "/srv/files", null, $"from {Name}", host),
                new PlannedChange(ChangeAction.Change, "Command", "before", null, "systemctl stop files", host),
            });
            return RestorePlanSteps.FromRestore(lines, service, RestorePlanSteps.Pin(Backup(Archive, Manifest)), "/", runCommands: true);
        }

        [Fact]
        public void A_restore_step_pins_the_backup_by_name_and_both_seal_digests()
        {
            var json = Document(RestoreStep("files")).ToJson();

            Assert.Contains($"\"name\": \"{Name}\"", json);
            Assert.Contains($"\"archiveSha256\": \"{Archive}\"", json);
            Assert.Contains($"\"manifestSha256\": \"{Manifest}\"", json);
            Assert.Contains("\"service\": \"restore\"", json);
            Assert.DoesNotMatch("\"[A-Z][A-Za-z]*\":", json);
            Assert.Equal(json, SavedPlan.Parse(json, "p.json").ToJson());
        }

        [Fact]
        public void Two_restores_on_one_host_are_two_steps_in_a_stable_order()
        {
            var one = Document(RestoreStep("logs"), RestoreStep("files")).ToJson();
            var other = Document(RestoreStep("files"), RestoreStep("logs"), RestoreStep("files")).ToJson();

            Assert.Equal(one, other);
            Assert.Equal(2, SavedPlan.Parse(one, "p.json").Steps.Count);
            Assert.True(one.IndexOf("\"files\"", StringComparison.Ordinal) < one.IndexOf("\"logs\"", StringComparison.Ordinal));
        }

        [Fact]
        public void An_unsigned_backup_cannot_be_pinned()
        {
            var ex = Assert.Throws<BackupException>(() => RestorePlanSteps.Pin(Backup(Archive, Manifest, BackupSignature.Missing)));
            Assert.Equal("BackupUnauthenticated", ex.ErrorId);
            Assert.Equal(DeevErrorKind.SecurityError, ex.Kind);
        }

        [Fact]
        public void The_pinned_backup_moves_when_it_is_gone_unauthenticated_or_another_archive()
        {
            var pinned = RestorePlanSteps.Pin(Backup(Archive, Manifest));

            Assert.Empty(RestorePlanSteps.Differences(pinned, Backup(Archive, Manifest)));
            Assert.Equal($"the backup {Name} is gone from the store", Assert.Single(RestorePlanSteps.Differences(pinned, null)));
            Assert.StartsWith($"the backup {Name} is no longer authenticated", Assert.Single(RestorePlanSteps.Differences(pinned, Backup(Archive, Manifest, BackupSignature.Invalid))));
            Assert.Contains("archive is SHA-256 bbbb", Assert.Single(RestorePlanSteps.Differences(pinned, Backup(new string('b', 64), Manifest))));
            Assert.Contains("manifest is SHA-256 nnnn", Assert.Single(RestorePlanSteps.Differences(pinned, Backup(Archive, new string('n', 64)))));
        }

        [Fact]
        public void A_rebuild_step_keeps_the_playbook_order_in_its_steps_and_its_sorted_lines()
        {
            var rebuild = new SavedRebuild
            {
                Service = "files",
                Class = "Observability",
                Playbook = new PlanSource { Path = "/m/Playbooks/Observability.ps1", Sha256 = new string('p', 64) },
                Steps = new List<string> { "Vm", "DataDisk", "Configure", "Restore", "Verify", "Identity", "A", "B", "C", "D", "E" },
                Backup = RestorePlanSteps.Pin(Backup(Archive, Manifest)),
                Host = new SavedHost { Name = "rpsrc", VmId = 301, MacAddress = "02:de:78:00:01:2d", IPAddress = "10.231.26.60" },
            };
            var step = RestorePlanSteps.FromRebuild(rebuild, rebuild.Steps.Select(s => "does " + s).ToList());
            var parsed = SavedPlan.Parse(Document(step).ToJson(), "p.json").Steps.Single();

            Assert.Equal(rebuild.Steps, parsed.RebuildOf!.Steps);
            Assert.Equal(rebuild.Steps.Select((s, i) => $"files {i + 1:00} {s}"), parsed.Changes.Select(c => c.Key));
            Assert.Equal("does Restore", parsed.Changes[3].After);
            Assert.Equal(Name, parsed.Read.Entries.Keys.Single());
            Assert.Equal(301, parsed.RebuildOf.Host.VmId);
        }

        [Fact]
        public void A_moved_identity_names_each_field()
        {
            var saved = new SavedHost { Name = "rpsrc", VmId = 301, MacAddress = "02:de:78:00:01:2d", IPAddress = "10.231.26.60" };
            Assert.Empty(RestorePlanSteps.Differences(saved, new SavedHost { Name = "rpsrc", VmId = 301, MacAddress = "02:DE:78:00:01:2D", IPAddress = "10.231.26.60" }));

            var moved = RestorePlanSteps.Differences(saved, new SavedHost { Name = "rpsrc", VmId = 302, MacAddress = "02:de:78:00:01:2e", IPAddress = "10.231.26.61" });

            Assert.Equal(new[] { "rpsrc's VMID is 302, the plan has 301", "rpsrc's MAC is 02:de:78:00:01:2e, the plan has 02:de:78:00:01:2d", "rpsrc's address is 10.231.26.61, the plan has 10.231.26.60" }, moved);
        }

        [Fact]
        public void A_rebuild_tally_is_one_journal_line_and_no_change_when_everything_was_done()
        {
            var done = new RebuildTally("files", "rpsrc");
            done.Add("Skipped", "Identity");
            Assert.False(done.IsChange);

            done.Add("Done", "Vm");
            done.Add("Failed", "Restore");
            var line = Assert.Single(done.ToChangePlan().Changes);

            Assert.True(done.IsChange);
            Assert.Equal("failed at step Restore", done.Result);
            Assert.Equal("stopped at Restore after Vm", line.After);
            Assert.Equal(("rebuild", "files", "rpsrc"), (line.Kind, line.Key, line.Target));
        }
    }
}
