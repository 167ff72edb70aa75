using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Tier
{
    internal sealed partial class TierReader
    {
        /// <summary>
        /// <c>journal: &lt;path&gt;</c> (a file on this machine, relative to the tier file) or
        /// <c>journal: ssh://user@host[:port]/path</c> (a file on a host, reached like the backup store).
        /// </summary>
        private JournalLocation? ReadJournal(YamlFields top)
        {
            var text = Scalar(top, "journal");
            if (text == null) return null;
            if (!text.StartsWith("ssh://", System.StringComparison.Ordinal)) return new JournalLocation(null, ResolveLocal(text));
            var slash = text.IndexOf('/', "ssh://".Length);
            if (slash < 0 || slash == text.Length - 1 || !Via.TryParse(text.Substring(0, slash), out var via, out _))
            {
                Problem(top["journal"]!, $"journal: '{text}' is neither a path nor ssh://user@host[:port]/path");
                return null;
            }
            var path = text.Substring(slash);
            if (PathRules.WhyNotAnAbsolutePath(path) is { } why)
            {
                Problem(top["journal"]!, $"journal: {why}");
                return null;
            }
            return new JournalLocation(via, path);
        }
    }
}
