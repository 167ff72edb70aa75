using System.Linq;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>The test tier with one value replaced, loaded: the one problem the loader reports.</summary>
    internal static class RuleTestSupport
    {
        public static string LoaderMessage(string find, string replace)
        {
            using var files = new TierTestFiles();
            var text = TierTestFiles.With(find, replace);
            var path = files.Write(text);
            var ex = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse(path, text));
            return Assert.Single(ex.Problems).Message;
        }
    }
}
