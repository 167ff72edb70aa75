using System;
using System.IO;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Backup;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>The tar reader against archives written by GNU tar itself, and the format of what it writes back.</summary>
    public sealed class TarPipeTests : IDisposable
    {
        private readonly BackupWorld _world = new BackupWorld(Path.GetTempPath());

        public void Dispose() => _world.Dispose();

        private byte[] Tar(string args) => Sh.RunRaw($"tar {args} --directory={Sh.Q(_world.Root)} -- data").Output;

        [Theory]
        [InlineData("--format=pax --create --file=-")]
        [InlineData("--format=gnu --create --file=-")]
        public void ListsEveryMemberWithTheSameMetadataAndHashesAsTheFileSystem(string args)
        {
            _world.CreateTree();
            using var pipe = new TarPipe(null, captureManifest: false, holdEnd: false);
            var bytes = Tar(args);
            // Feed in odd-sized pieces: block boundaries must not matter.
            for (var i = 0; i < bytes.Length; i += 777) pipe.Write(bytes, i, Math.Min(777, bytes.Length - i));
            Assert.True(pipe.Ended);

            var snapshot = BackupWorld.Snapshot(_world.Data);
            var entries = pipe.Entries.ToDictionary(e => e.Path.Substring("data".Length).TrimStart('/'));
            Assert.Equal(snapshot.Keys.OrderBy(k => k, StringComparer.Ordinal), entries.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var (name, line) in snapshot)
            {
                var e = entries[name];
                var fields = line.Split(' ');
                Assert.Equal(Convert.ToInt32(fields[1], 8), e.Mode);
                Assert.Equal(fields[2], $"{e.Uid}:{e.Gid}");
                Assert.Equal((long)Math.Floor(decimal.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture)), e.ModifiedSeconds);
                if (fields[0] == "f" && e.Type == TarEntryType.File) Assert.Contains("sha256=" + e.Sha256, line);
                if (fields[0] == "l") Assert.Equal(line.Substring(line.IndexOf(" -> ", StringComparison.Ordinal) + 4), e.LinkTarget);
            }
            Assert.Single(pipe.Entries, e => e.Type == TarEntryType.HardLink);
            Assert.Single(pipe.Entries, e => e.Type == TarEntryType.Fifo);
            Assert.Contains(entries.Keys, k => k.Contains("\\377\\376", StringComparison.Ordinal)); // the non-UTF-8 name survived as escapes
        }

        [Fact]
        public void AppendsAManifestThatGnuTarReadsAndListsLast()
        {
            _world.CreateTree();
            using var output = new MemoryStream();
            using var pipe = new TarPipe(output, captureManifest: false, holdEnd: true);
            var bytes = Tar("--format=pax --create --file=-");
            pipe.Write(bytes, 0, bytes.Length);
            var manifest = Encoding.UTF8.GetBytes("# deevnet-backup manifest 1\nhello\n");
            pipe.Finish(manifest, 1_700_000_000);
            Assert.Equal(0, output.Length % 10240);

            var file = Path.Combine(_world.Root, "check.tar");
            File.WriteAllBytes(file, output.ToArray());
            var list = Sh.Run($"tar --list --file={Sh.Q(file)}").TrimEnd('\n').Split('\n');
            Assert.Equal(TarPipe.ManifestName, list.Last());
            Assert.Equal("# deevnet-backup manifest 1\nhello\n", Sh.Run($"tar --extract --to-stdout --file={Sh.Q(file)} MANIFEST"));
            var verbose = System.Text.RegularExpressions.Regex.Replace(Sh.Run($"TZ=UTC tar --list --verbose --file={Sh.Q(file)} MANIFEST").Trim(), " +", " ");
            Assert.Equal("-r-------- root/root 34 2023-11-14 22:13 MANIFEST", verbose);
        }

        [Fact]
        public void CapturesTheManifestAndForwardsEverythingElse()
        {
            _world.CreateTree();
            using var archive = new MemoryStream();
            using (var writer = new TarPipe(archive, captureManifest: false, holdEnd: true))
            {
                var bytes = Tar("--format=pax --create --file=-");
                writer.Write(bytes, 0, bytes.Length);
                writer.Finish(Encoding.UTF8.GetBytes("manifest text\n"), 0);
            }
            using var forwarded = new MemoryStream();
            using var reader = new TarPipe(forwarded, captureManifest: true, holdEnd: false);
            reader.Write(archive.ToArray(), 0, (int)archive.Length);
            Assert.Equal("manifest text\n", Encoding.UTF8.GetString(reader.Manifest!));
            Assert.DoesNotContain(reader.Entries, e => e.Path == TarPipe.ManifestName);

            var file = Path.Combine(_world.Root, "forwarded.tar");
            File.WriteAllBytes(file, forwarded.ToArray());
            var list = Sh.Run($"tar --list --file={Sh.Q(file)}");
            Assert.DoesNotContain("MANIFEST", list);
            Assert.Contains("data/plain.txt", list);
        }

        [Fact]
        public void NamesTheMemberBeingReadWhenTheStreamStops()
        {
            Sh.Run($"mkdir -p {Sh.Q(_world.Data)} && head -c 100000 /dev/zero > {Sh.Q(Path.Combine(_world.Data, "cut here.bin"))}");
            var bytes = Tar("--format=pax --create --file=-");
            using var pipe = new TarPipe(null, false, false);
            pipe.Write(bytes, 0, 50_000);
            Assert.False(pipe.Ended);
            Assert.Equal("data/cut here.bin", pipe.CurrentPath);
        }

        [Fact]
        public void RejectsAHeaderWithABadChecksum()
        {
            Sh.Run($"mkdir -p {Sh.Q(_world.Data)} && echo x > {Sh.Q(Path.Combine(_world.Data, "a"))}");
            var bytes = Tar("--format=ustar --create --file=-");
            bytes[10] ^= 0x40;
            using var pipe = new TarPipe(null, false, false);
            var ex = Assert.Throws<InvalidDataException>(() => pipe.Write(bytes, 0, bytes.Length));
            Assert.Contains("checksum", ex.Message);
        }

        [Theory]
        [InlineData("plain")]
        [InlineData("with space")]
        [InlineData("back\\slash")]
        [InlineData("ünï 名前")]
        public void PathTextRoundTripsNames(string name)
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            Assert.Equal(bytes, PathText.ToBytes(PathText.FromBytes(bytes)));
        }

        [Fact]
        public void PathTextEscapesControlsAndInvalidBytesOnOneLine()
        {
            var bytes = new byte[] { (byte)'a', (byte)'\n', (byte)'\t', 0xff, (byte)'\\' };
            var text = PathText.FromBytes(bytes);
            Assert.Equal("a\\012\\011\\377\\\\", text);
            Assert.Equal(bytes, PathText.ToBytes(text));
        }

        [Fact]
        public void ManifestRoundTripsAndRejectsADamagedLine()
        {
            var entries = new[]
            {
                new TarEntry("srv/a b", TarEntryType.File, 0x1a4, 1, 2, "us er", "gr:oup", 100, 5, new string('a', 64), null),
                new TarEntry("srv/l\\012x", TarEntryType.Symlink, 0x1ff, 0, 0, "", "", -5, 0, null, "a b\\011c"),
            };
            var m = new BackupManifest("svc", "host1", new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), new[] { "/srv" }, new[] { "tar (GNU tar) 1.34" }, entries);
            var back = BackupManifest.Parse(m.ToBytes(), "x");
            Assert.Equal("svc", back.Service);
            Assert.Equal(m.TimeUtc, back.TimeUtc);
            Assert.Equal(new[] { "/srv" }, back.Paths);
            Assert.Empty(ManifestCheck.Compare(entries, back.Entries, extrasAreProblems: true));

            var text = Encoding.UTF8.GetString(m.ToBytes()).Replace(" 5 srv/a b", " x srv/a b");
            var ex = Assert.Throws<BackupException>(() => BackupManifest.Parse(Encoding.UTF8.GetBytes(text), "x"));
            Assert.Equal("BackupManifestInvalid", ex.ErrorId);
            Assert.Contains("line 7", ex.Message);
        }
    }
}
