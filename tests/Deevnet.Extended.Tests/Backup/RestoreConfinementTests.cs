using System.Collections.Generic;
using Deevnet.Extended.Core.Backup;
using Xunit;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>The member rules of a confined restore, one by one (the lab and local scenarios prove them end to end).</summary>
    public sealed class RestoreConfinementTests
    {
        private static TarEntry Member(string path, TarEntryType type = TarEntryType.File, int mode = 0x1a4, string? link = null, long size = 0) =>
            new TarEntry(path, type, mode, 0, 0, "root", "root", 0, size, null, link);

        private static RestoreConfinement Confined() => new RestoreConfinement(new[] { "srv/app", "etc/app.conf" });

        private static string Refusal(RestoreConfinement c, TarEntry e) => Assert.Throws<BackupException>(() => c.Admit(e)) is var ex && ex.ErrorId == "BackupMemberRefused" ? ex.Message : "wrong id " + ex.ErrorId;

        [Fact]
        public void AdmitsWhatTarWritesForTheDeclaredPaths()
        {
            var c = Confined();
            c.Admit(Member("srv/app", TarEntryType.Directory, 0x5fd | 0x400));   // setgid folder
            c.Admit(Member("srv/app/f", size: 3));
            c.Admit(Member("srv/app/h", TarEntryType.HardLink, link: "srv/app/f"));
            c.Admit(Member("srv/app/l", TarEntryType.Symlink, link: "f"));
            c.Admit(Member("srv/app/abs", TarEntryType.Symlink, link: "/srv/app/f"));
            c.Admit(Member("srv/app/d", TarEntryType.Directory, 0x3ff | 0x200));   // sticky
            c.Admit(Member("srv/app/d/up", TarEntryType.Symlink, link: "../f"));
            c.Admit(Member("srv/app/d/dangling", TarEntryType.Symlink, link: "no such file"));
            c.Admit(Member("srv/app/fifo", TarEntryType.Fifo));
            c.Admit(Member("etc/app.conf"));
        }

        [Theory]
        [InlineData("/srv/app/x", "not a plain relative path")]
        [InlineData("srv/app/../x", "not a plain relative path")]
        [InlineData("srv/app/./x", "not a plain relative path")]
        [InlineData("srv/other", "outside the service's declared backup paths")]
        [InlineData("srv/application", "outside the service's declared backup paths")]
        [InlineData("srv/app/missing-folder/x", "its folder did not come before it")]
        public void RefusesPathsOutsideTheDeclaredOnes(string path, string why)
        {
            var c = Confined();
            c.Admit(Member("srv/app", TarEntryType.Directory));
            Assert.Contains(why, Refusal(c, Member(path)));
        }

        [Fact]
        public void RefusesDevicesHardLinksOutSymlinksOutSetuidDuplicatesAndWritingThroughALink()
        {
            TarEntry[] refused =
            {
                Member("srv/app/dev", TarEntryType.CharDevice),
                Member("srv/app/blk", TarEntryType.BlockDevice),
                Member("srv/app/h", TarEntryType.HardLink, link: "etc/shadow"),
                Member("srv/app/h2", TarEntryType.HardLink, link: "srv/app/sub"),
                Member("srv/app/l", TarEntryType.Symlink, link: "../other"),
                Member("srv/app/l2", TarEntryType.Symlink, link: "/etc"),
                Member("srv/app/l3", TarEntryType.Symlink, link: "sub/../../x"),
                Member("srv/app/l4", TarEntryType.Symlink, link: ""),
                Member("srv/app/suid", mode: 0x9ed),
                Member("srv/app/sgid", mode: 0x5ed),
                Member("srv/app/f"),
                Member("srv/app/link/x"),
                Member("srv/app/sub", TarEntryType.Symlink, link: "f", size: 4),
            };
            foreach (var e in refused)
            {
                var c = Confined();
                c.Admit(Member("srv/app", TarEntryType.Directory));
                c.Admit(Member("srv/app/f"));
                c.Admit(Member("srv/app/sub", TarEntryType.Directory));
                c.Admit(Member("srv/app/link", TarEntryType.Symlink, link: "sub"));
                Assert.Throws<BackupException>(() => c.Admit(e));
            }
        }

        [Fact]
        public void NamesAMemberWithControlCharactersEscaped()
        {
            var c = Confined();
            var name = PathText.FromBytes(System.Text.Encoding.UTF8.GetBytes("srv/evil\n\u001b[31mname"));
            var message = Refusal(c, Member(name));
            Assert.True(message.IndexOf('\n') < 0 && message.IndexOf('\u001b') < 0, message);
            Assert.Contains("srv/evil\\012\\033[31mname", message);
        }

        [Fact]
        public void RefusesUnknownPaxKeywordsAndGlobalHeaders()
        {
            var c = Confined();
            c.AdmitHeaders("srv/app", new List<string> { "path", "mtime" }, false);
            Assert.Throws<BackupException>(() => c.AdmitHeaders("srv/app", new List<string> { "GNU.sparse.name" }, false));
            Assert.Throws<BackupException>(() => c.AdmitHeaders("srv/app", new List<string>(), true));
        }
    }
}
