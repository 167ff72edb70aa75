using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Backup;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>The retention decision on its own: what is kept and what is removed, for every kind of file in a service folder.</summary>
    public sealed class RetentionTests
    {
        private static readonly DateTime Now = new DateTime(2025, 6, 1, 12, 0, 0, DateTimeKind.Utc);

        private static StoredFile Archive(int day) => new StoredFile("svc", $"svc-h1-202505{day:00}T020000Z.tar.age", 100);

        private static StoredFile Verify(int day, string result)
        {
            var f = new StoredFile("svc", $"svc-h1-202505{day:00}T020000Z.verify", 20);
            f.Values.Add(new KeyValuePair<string, string>("result", result));
            return f;
        }

        [Fact]
        public void KeepsTheNewestAndRemovesOlderBackupsWithTheirSidecars()
        {
            var files = new List<StoredFile>();
            for (var d = 1; d <= 5; d++)
            {
                files.Add(Archive(d));
                files.Add(new StoredFile("svc", $"svc-h1-202505{d:00}T020000Z.meta", 10));
            }
            var plan = BackupCatalog.PlanRetention("svc", files, keep: 2, Now, _ => true);
            Assert.Equal(new[] { "svc-h1-20250503T020000Z", "svc-h1-20250502T020000Z", "svc-h1-20250501T020000Z" }, plan.RemovedBackups);
            Assert.Equal(6, plan.Files.Count);
            Assert.DoesNotContain(plan.Files, f => f.Contains("20250505") || f.Contains("20250504"));
        }

        [Fact]
        public void NeverRemovesTheLastGoodBackupEvenWhenNewerOnesFailed()
        {
            var files = new List<StoredFile> { Archive(1), Archive(2), Archive(3), Verify(2, "failed"), Verify(3, "failed"), Verify(1, "passed") };
            var plan = BackupCatalog.PlanRetention("svc", files, keep: 1, Now, _ => true);
            Assert.Equal(new[] { "svc-h1-20250502T020000Z" }, plan.RemovedBackups);
            Assert.DoesNotContain(plan.Files, f => f.Contains("20250501"));
        }

        [Fact]
        public void KeepsTheNewestVerifiedBackupWhenThirtyNewerOnesWereNeverTested()
        {
            var files = new List<StoredFile> { Archive(1), Verify(1, "passed") };
            for (var d = 2; d <= 31; d++) files.Add(Archive(d));
            var plan = BackupCatalog.PlanRetention("svc", files, keep: 3, Now, _ => true);
            Assert.DoesNotContain("svc-h1-20250501T020000Z", plan.RemovedBackups);
            Assert.DoesNotContain(plan.Files, f => f.Contains("20250501"));
            Assert.Equal(27, plan.RemovedBackups.Count);   // 30 untested, the newest 3 kept
        }

        [Fact]
        public void PlantedBackupsNeitherFillKeepNorGetRemoved()
        {
            // One real backup, 30 newer planted ones (no valid seal): the real one is kept, nothing planted is removed.
            var files = new List<StoredFile> { Archive(1) };
            for (var d = 2; d <= 31; d++) files.Add(Archive(d));
            var plan = BackupCatalog.PlanRetention("svc", files, keep: 3, Now, name => name == "svc-h1-20250501T020000Z");
            Assert.Empty(plan.RemovedBackups);
            Assert.Empty(plan.Files);
        }

        [Fact]
        public void APlantedVerifySidecarNeverMakesAPlantedBackupTheVerifiedOneToKeep()
        {
            // Real: day 1 (verified) and day 2 (untested). Planted: days 3-10, each with a forged 'passed' .verify.
            var files = new List<StoredFile> { Archive(1), Verify(1, "passed"), Archive(2) };
            for (var d = 3; d <= 10; d++)
            {
                files.Add(Archive(d));
                files.Add(Verify(d, "passed"));
            }
            var plan = BackupCatalog.PlanRetention("svc", files, keep: 1, Now, name => name.CompareTo("svc-h1-20250503") < 0);
            Assert.Empty(plan.RemovedBackups);
            Assert.DoesNotContain(plan.Files, f => f.Contains("20250501") || f.Contains("20250502"));
        }

        [Fact]
        public void KeepZeroStillKeepsOne()
        {
            var plan = BackupCatalog.PlanRetention("svc", new[] { Archive(1), Archive(2) }, keep: 0, Now, _ => true);
            Assert.Equal(new[] { "svc-h1-20250501T020000Z" }, plan.RemovedBackups);
        }

        [Fact]
        public void RemovesPartialsAndOrphansButNeverForeignFiles()
        {
            var files = new List<StoredFile>
            {
                Archive(1),
                new StoredFile("svc", "svc-h1-20250502T020000Z.tar.age.partial", 50),
                new StoredFile("svc", "svc-h1-20250502T020000Z.meta", 5),
                new StoredFile("svc", "README.txt", 5),
                new StoredFile("svc", "other-h1-20250501T020000Z.tar.age", 5),
            };
            var plan = BackupCatalog.PlanRetention("svc", files, keep: 5, Now, _ => true);
            Assert.Empty(plan.RemovedBackups);
            Assert.Equal(new[] { "svc-h1-20250502T020000Z.meta", "svc-h1-20250502T020000Z.tar.age.partial" }, plan.Files.OrderBy(f => f, StringComparer.Ordinal));
        }

        [Theory]
        [InlineData("svc", "svc-host-a-20250101T000000Z", "host-a")]
        [InlineData("svc-x", "svc-x-h-20250101T000000Z", "h")]
        public void ParsesNamesWithDashes(string service, string name, string host)
        {
            Assert.True(BackupName.TryParse(service, name, out var h, out var t));
            Assert.Equal(host, h);
            Assert.Equal(new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), t);
        }
    }
}
