namespace Deevnet.Extended.Core.Backup
{
    /// <summary>The kind of a tar member, as the manifest writes it.</summary>
    public enum TarEntryType
    {
        File = 'f',
        Directory = 'd',
        Symlink = 'l',
        HardLink = 'h',
        CharDevice = 'c',
        BlockDevice = 'b',
        Fifo = 'p',
    }

    /// <summary>One member of an archive (or one line of a manifest): its metadata and, for files, its content hash.</summary>
    public sealed class TarEntry
    {
        public TarEntry(string path, TarEntryType type, int mode, long uid, long gid, string userName, string groupName,
            long modifiedSeconds, long size, string? sha256, string? linkTarget)
        {
            Path = path;
            Type = type;
            Mode = mode;
            Uid = uid;
            Gid = gid;
            UserName = userName;
            GroupName = groupName;
            ModifiedSeconds = modifiedSeconds;
            Size = size;
            Sha256 = sha256;
            LinkTarget = linkTarget;
        }

        /// <summary>Path relative to the root the paths were archived from, escaped by <see cref="PathText"/>, no trailing slash.</summary>
        public string Path { get; }
        public TarEntryType Type { get; }

        /// <summary>Permission bits including setuid/setgid/sticky (07777).</summary>
        public int Mode { get; }
        public long Uid { get; }
        public long Gid { get; }

        /// <summary>Owner name as archived (may be empty when the host had none).</summary>
        public string UserName { get; }
        public string GroupName { get; }

        /// <summary>Modification time, whole seconds since the Unix epoch.</summary>
        public long ModifiedSeconds { get; }

        /// <summary>Content bytes (files), 0 otherwise.</summary>
        public long Size { get; }

        /// <summary>Lowercase hex SHA-256 of the content, for regular files only.</summary>
        public string? Sha256 { get; }

        /// <summary>Target of a symlink or hard link, escaped like <see cref="Path"/>.</summary>
        public string? LinkTarget { get; }

        public override string ToString() => $"{(char)Type} {Path}";
    }
}
