using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// What a restore may write, decided from the tier (the service's declared backup paths), never from the archive:
    /// checks every member as it streams, before the host sees it (<see cref="TarPipe"/> calls <see cref="Admit"/>
    /// ahead of forwarding the member). Refuses (<c>BackupMemberRefused</c>) a member that is
    /// <list type="bullet">
    /// <item>not a plain relative path under a declared path (absolute, <c>..</c>, <c>.</c>, empty component, or elsewhere);</item>
    /// <item>a second member of the same path, or one whose folder did not come earlier in the archive as a folder
    /// (so nothing is ever written through a symlink, and every parent on the way is one the archive made);</item>
    /// <item>a device node; a hard link to anything but a regular file this archive already delivered (what tar writes
    /// for a second name of one file); a symlink whose target leaves the declared paths;</item>
    /// <item>setuid anywhere, or setgid on anything but a folder (where it means "new files get the folder's group");</item>
    /// <item>a non-file with content, or a pax keyword this module does not understand (tar on the host could read
    /// the stream differently than this check did).</item>
    /// </list>
    /// FIFOs are admitted: they carry no data and reach nothing outside; refusing them would make a backup of a tree
    /// holding one unrestorable.
    /// </summary>
    public sealed class RestoreConfinement
    {
        private const int SetUid = 0x800;
        private const int SetGid = 0x400;

        /// <summary>pax keywords GNU tar writes for our archives; any other could change how tar on the host reads a member.</summary>
        internal static readonly HashSet<string> KnownPaxKeys = new HashSet<string>(StringComparer.Ordinal)
        {
            "path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime",
        };

        private readonly IReadOnlyList<string> _roots;
        private readonly Dictionary<string, TarEntryType> _seen = new Dictionary<string, TarEntryType>(StringComparer.Ordinal);

        /// <param name="relativePaths">The declared paths as tar member paths (<see cref="BackupScripts.RelativePaths"/>), not "/".</param>
        public RestoreConfinement(IReadOnlyList<string> relativePaths)
        {
            _roots = relativePaths.Select(p => PathText.FromBytes(Encoding.UTF8.GetBytes(p))).ToList();
        }

        /// <summary>Refuses a member whose headers hold what tar on the host might read differently: a global header or an unknown pax keyword.</summary>
        public void AdmitHeaders(string path, IEnumerable<string> paxKeys, bool global)
        {
            if (global) Refuse(path, "the archive has a global (pax 'g') header, which this module's backups never hold");
            var unknown = paxKeys.FirstOrDefault(k => !KnownPaxKeys.Contains(k));
            if (unknown != null) Refuse(path, $"it has the pax keyword '{Safe(PathText.FromBytes(Encoding.UTF8.GetBytes(unknown)))}', which this module's backups never hold");
        }

        /// <summary>Throws <c>BackupMemberRefused</c> unless the member may be written.</summary>
        public void Admit(TarEntry member)
        {
            var path = member.Path;
            if (!IsPlain(path)) Refuse(path, "it is not a plain relative path (absolute, '..', '.' or an empty part)");
            var root = _roots.FirstOrDefault(r => path == r || path.StartsWith(r + "/", StringComparison.Ordinal));
            if (root == null) Refuse(path, "it is outside the service's declared backup paths");
            if (_seen.ContainsKey(path)) Refuse(path, "the archive holds it twice");
            if (path != root && (!_seen.TryGetValue(Parent(path), out var parent) || parent != TarEntryType.Directory))
                Refuse(path, "its folder did not come before it in the archive as a folder");
            if ((member.Mode & SetUid) != 0 || ((member.Mode & SetGid) != 0 && member.Type != TarEntryType.Directory))
                Refuse(path, "it is setuid or setgid (only folders may be setgid)");
            if (member.Type != TarEntryType.File && member.Size != 0) Refuse(path, $"a {member.Type} member carries {member.Size} bytes of content");
            switch (member.Type)
            {
                case TarEntryType.CharDevice:
                case TarEntryType.BlockDevice:
                    Refuse(path, "it is a device node");
                    break;
                case TarEntryType.HardLink:
                    if (member.LinkTarget == null || !_seen.TryGetValue(member.LinkTarget, out var target) || target != TarEntryType.File)
                        Refuse(path, $"it is a hard link to '{Safe(member.LinkTarget)}', not to a file earlier in this archive");
                    break;
                case TarEntryType.Symlink:
                    var resolved = Resolve(Parent(path), member.LinkTarget ?? "");
                    if (resolved == null || !_roots.Any(r => resolved == r || resolved.StartsWith(r + "/", StringComparison.Ordinal)))
                        Refuse(path, $"it is a symlink to '{Safe(member.LinkTarget)}', outside the service's declared backup paths");
                    break;
            }
            _seen[path] = member.Type;
        }

        /// <summary>
        /// Where a symlink at <paramref name="folder"/> pointing to <paramref name="target"/> leads, relative to "/",
        /// or null when that cannot be told from the text alone. Only leading <c>..</c> are accepted: they climb the
        /// link's own folders, which the archive made as real folders; a <c>..</c> after a name could climb out of
        /// wherever another symlink led.
        /// </summary>
        internal static string? Resolve(string folder, string target)
        {
            if (target.Length == 0) return null;
            var absolute = target.StartsWith("/", StringComparison.Ordinal);
            var parts = new List<string>(absolute || folder.Length == 0 ? Array.Empty<string>() : folder.Split('/'));
            var climbing = !absolute;
            foreach (var part in target.Split('/'))
            {
                if (part.Length == 0 || part == ".") continue;
                if (part == "..")
                {
                    if (!climbing || parts.Count == 0) return null;
                    parts.RemoveAt(parts.Count - 1);
                    continue;
                }
                climbing = false;
                parts.Add(part);
            }
            return string.Join("/", parts);
        }

        private static bool IsPlain(string path) =>
            path.Length > 0 && path.Split('/').All(p => p.Length > 0 && p != "." && p != "..");

        private static string Parent(string path)
        {
            var slash = path.LastIndexOf('/');
            return slash < 0 ? "" : path.Substring(0, slash);
        }

        /// <summary>A member name for a message: escaped already (<see cref="PathText"/>: no control characters), and bounded.</summary>
        internal static string Safe(string? text)
        {
            if (text == null) return "";
            return text.Length <= 200 ? text : text.Substring(0, 200) + "…";
        }

        private static void Refuse(string path, string why) =>
            throw new BackupException("BackupMemberRefused", DeevErrorKind.SecurityError,
                $"The archive member '{Safe(path)}' was refused, so nothing was restored: {why}.", Safe(path))
            { RecommendedAction = "The backup is not one this service could have written; restore another backup and find out who wrote this one." };
    }
}
