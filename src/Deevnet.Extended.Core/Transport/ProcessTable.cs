using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>This machine's processes as Linux's /proc shows them: parent and session of each.</summary>
    internal static class ProcessTable
    {
        /// <summary>
        /// The process and its descendants that share its session, parents before children; null where /proc cannot
        /// be read. Descendants found through a child in another session are not included either: they left with it.
        /// </summary>
        public static List<int>? SameSessionDescendants(int root)
        {
            var table = Read();
            if (table == null || !table.TryGetValue(root, out var rootEntry)) return null;
            var children = new Dictionary<int, List<int>>();
            foreach (var entry in table)
            {
                if (!children.TryGetValue(entry.Value.Parent, out var list)) children[entry.Value.Parent] = list = new List<int>();
                list.Add(entry.Key);
            }
            var result = new List<int> { root };
            for (var i = 0; i < result.Count; i++)
            {
                if (!children.TryGetValue(result[i], out var kids)) continue;
                foreach (var kid in kids)
                {
                    if (table[kid].Session == rootEntry.Session) result.Add(kid);
                }
            }
            return result;
        }

        private static Dictionary<int, (int Parent, int Session)>? Read()
        {
            if (!Directory.Exists("/proc/self")) return null;
            var table = new Dictionary<int, (int, int)>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(dir, "stat"));
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    continue;   // gone meanwhile
                }
                // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses, so parse after the last ')'.
                var fields = stat.Substring(stat.LastIndexOf(')') + 1).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 3 && int.TryParse(fields[1], out var parent) && int.TryParse(fields[3], out var session)) table[pid] = (parent, session);
            }
            return table;
        }
    }
}
