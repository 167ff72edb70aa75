using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Journal
{
    /// <summary>The change journal: one whole JSON line per applied batch, whatever the writers, and nothing changed when it cannot be written.</summary>
    public class ChangeJournalTests
    {
        private static ChangePlan Plan(string key) => new ChangePlan("srv", new[]
        {
            new PlannedChange(ChangeAction.Add, "Reservation", key, null, "10.1.99.20 h1"),
            new PlannedChange(ChangeAction.Unchanged, "Reservation", "02:de:20:00:00:01", "10.1.99.21 h2", "10.1.99.21 h2"),
        });

        [Fact]
        public async Task Concurrent_writers_each_leave_whole_lines_and_none_is_lost()
        {
            using var files = new TierTestFiles();
            var journal = new ChangeJournal(new JournalLocation(null, Path.Combine(files.Folder, "changes.jsonl")));
            var bulky = new string('x', 8000);   // lines larger than a pipe buffer: an unlocked append could interleave
            await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    var record = ChangeJournal.RecordOf(Plan($"w{w}-{i}"), "srv", "Set-DeevDhcpReservation " + bulky, files.Write(TierTestFiles.Valid), "applied");
                    await journal.AppendAsync(record, CancellationToken.None);
                }
            })));
            var skipped = 0;
            var records = await journal.ReadAsync(CancellationToken.None, (_, _) => skipped++);
            Assert.Equal(0, skipped);
            Assert.Equal(400, records.Count);
            Assert.Equal(400, records.Select(r => r.Changes.Single().Key).Distinct().Count());   // the unchanged line is not recorded
        }

        [Fact]
        public async Task A_journal_on_a_host_is_appended_and_read_through_its_transport()
        {
            using var files = new TierTestFiles();
            Assert.True(Via.TryParse("ssh://root@journal.example", out var via, out _));
            var path = Path.Combine(files.Folder, "dir with space", "changes.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var transport = new LocalTransport();   // runs the module's own shell lines for real
            var journal = new ChangeJournal(new JournalLocation(via, path), _ => transport);
            await journal.EnsureWritableAsync(CancellationToken.None);
            await journal.AppendAsync(ChangeJournal.RecordOf(Plan("02:de:20:00:00:cf"), "srv", "Sync-DeevDhcpReservation", files.Write(TierTestFiles.Valid), "applied"), CancellationToken.None);
            await journal.AppendAsync(ChangeJournal.RecordOf(Plan("02:de:20:00:00:d0"), "srv", "Sync-DeevDhcpReservation", files.Write(TierTestFiles.Valid), "failed: BackendReloadFailed"), CancellationToken.None);
            var records = await journal.ReadAsync(CancellationToken.None);
            Assert.Equal(new[] { "applied", "failed: BackendReloadFailed" }, records.Select(r => r.Result));
            Assert.Equal(2, File.ReadAllLines(path).Length);
        }

        [Fact]
        public async Task An_unwritable_journal_is_refused_before_anything_is_done()
        {
            using var files = new TierTestFiles();
            var journal = new ChangeJournal(new JournalLocation(null, files.Folder));   // a folder: no file can be appended
            var ex = await Assert.ThrowsAsync<DeevException>(() => journal.EnsureWritableAsync(CancellationToken.None));
            Assert.Equal("JournalUnwritable", ex.ErrorId);
            Assert.Contains("nothing was changed", ex.Message);
        }

        [Fact]
        public void A_record_carries_who_what_where_and_the_tier_hash_and_no_secret()
        {
            using var files = new TierTestFiles();
            var tier = files.Write(TierTestFiles.Valid);
            var record = ChangeJournal.RecordOf(Plan("02:de:20:00:00:cf"), "dnsmasq ssh://root@10.1.99.3", "Set-Thing -ApiSecret hunter2 -Password 'p w' -Name h1", tier, "applied");
            Assert.Equal("Set-Thing -ApiSecret *** -Password *** -Name h1", record.Command);
            Assert.Equal($"{Environment.UserName}@{Environment.MachineName}", record.Operator);
            Assert.Equal(64, record.TierSha256.Length);
            Assert.Equal(tier, record.TierPath);
            var change = Assert.Single(record.Changes);
            Assert.Equal(("Add", "02:de:20:00:00:cf", null, "10.1.99.20 h1"), (change.Action, change.Key, change.Before, change.After));
        }

        [Fact]
        public void The_tier_names_a_local_or_an_ssh_journal_and_refuses_anything_else()
        {
            var local = TierLoader.Parse("/srv/site/t.tier.yaml", TierTestFiles.Valid + "journal: logs/changes.jsonl\n");
            Assert.Equal("/srv/site/logs/changes.jsonl", local.Journal!.Path);
            Assert.Null(local.Journal.Via);
            var remote = TierLoader.Parse("/srv/site/t.tier.yaml", TierTestFiles.Valid + "journal: ssh://root@10.1.99.5/var/log/deevnet/changes.jsonl\n");
            Assert.Equal(("ssh://root@10.1.99.5", "/var/log/deevnet/changes.jsonl"), (remote.Journal!.Via!.ToString(), remote.Journal.Path));
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse("/srv/site/t.tier.yaml", TierTestFiles.Valid + "journal: ssh://root@\n"));
            Assert.Contains("journal:", Assert.Single(ex.Problems).Message);
        }
    }
}
