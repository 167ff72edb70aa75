using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// Picks the newest template by name: the part after the prefix compared as a version, number by number
    /// (<c>fedora-server-44-1.10</c> is newer than <c>fedora-server-44-1.9</c>). Never by VMID or date.
    /// </summary>
    public static class TemplateOrder
    {
        private static readonly Regex Parts = new Regex(@"\d+|[^\d]+", RegexOptions.CultureInvariant);

        public static string? Newest(IEnumerable<string> names, string prefix) =>
            names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
                 .OrderBy(n => n.Substring(prefix.Length), Comparer<string>.Create(CompareVersions))
                 .LastOrDefault();

        public static int CompareVersions(string a, string b)
        {
            var x = Parts.Matches(a).Cast<Match>().Select(m => m.Value).ToArray();
            var y = Parts.Matches(b).Cast<Match>().Select(m => m.Value).ToArray();
            for (var i = 0; i < Math.Min(x.Length, y.Length); i++)
            {
                var c = ComparePart(x[i], y[i]);
                if (c != 0) return c;
            }
            return x.Length.CompareTo(y.Length);
        }

        private static int ComparePart(string a, string b)
        {
            var an = char.IsDigit(a[0]);
            var bn = char.IsDigit(b[0]);
            if (an && bn)
            {
                var ta = a.TrimStart('0');
                var tb = b.TrimStart('0');
                return ta.Length != tb.Length ? ta.Length.CompareTo(tb.Length) : string.CompareOrdinal(ta, tb);
            }
            return string.CompareOrdinal(a, b);
        }
    }
}
