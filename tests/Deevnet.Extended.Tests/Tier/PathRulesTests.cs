using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>The server-path rule: accepted and refused paths, and the same words from the loader.</summary>
    public class PathRulesTests
    {
        [Theory]
        [InlineData("/")]
        [InlineData("/srv/s1")]
        [InlineData("/var/lib/app/")]
        [InlineData("/a b/c")]
        [InlineData("/srv/.hidden/x..y")]
        public void Accepts(string path) => Assert.Null(PathRules.WhyNotAnAbsolutePath(path));

        [Theory]
        [InlineData("", "'' is not an absolute path (it must start with '/')")]
        [InlineData("srv/s1", "'srv/s1' is not an absolute path (it must start with '/')")]
        [InlineData("~/s1", "'~/s1' is not an absolute path (it must start with '/')")]
        [InlineData("/srv/../etc", "'/srv/../etc' has a '..' part; write the folder it means")]
        [InlineData("/srv/./s1", "'/srv/./s1' has a '.' part; write the folder it means")]
        [InlineData("/srv\n/etc", "'/srv\n/etc' holds a control character (newline, NUL, …); a path must be one line of plain text")]
        [InlineData("/srv\0x", "'/srv\0x' holds a control character (newline, NUL, …); a path must be one line of plain text")]
        [InlineData("/srv\u2028x", "'/srv\u2028x' holds a control character (newline, NUL, …); a path must be one line of plain text")]
        public void Refuses(string path, string why) => Assert.Equal(why, PathRules.WhyNotAnAbsolutePath(path));

        [Theory]
        [InlineData("paths: [/srv/s1]", "paths: [srv/s1]", "services.s1.backup.paths[0]: 'srv/s1' is not an absolute path (it must start with '/')")]
        [InlineData("paths: [/srv/s1]", "paths: [/srv/../etc]", "services.s1.backup.paths[0]: '/srv/../etc' has a '..' part; write the folder it means")]
        [InlineData("store: /srv/b", "store: \"ssh://root@10.1.99.5/srv/../b\"", "backup.store: '/srv/../b' has a '..' part; write the folder it means")]
        [InlineData("vmid: 207 }", "vmid: 207, disk: 8, dataDisk: { size: 4, mount: data } }", "hosts.h1.dataDisk.mount: 'data' is not an absolute path (it must start with '/')")]
        public void The_loader_refuses_with_the_rule(string find, string replace, string message) =>
            Assert.Equal(message, RuleTestSupport.LoaderMessage(find, replace));
    }
}
