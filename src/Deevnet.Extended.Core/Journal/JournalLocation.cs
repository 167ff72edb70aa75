using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Journal
{
    /// <summary>Where the tier's change journal is (<c>journal:</c>): a local file, or a file on a host reached over SSH.</summary>
    public sealed class JournalLocation
    {
        public JournalLocation(Via? via, string path)
        {
            Via = via;
            Path = path;
        }

        /// <summary>The host that keeps the journal; null for a file on this machine.</summary>
        public Via? Via { get; }

        /// <summary>The journal file (absolute).</summary>
        public string Path { get; }

        public override string ToString() => Via == null ? Path : $"{Via}{Path}";
    }
}
