using System.Collections.Generic;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>The optional <c>isolation</c> section (issue 6): a vantage on a tenant segment and the ports to probe.</summary>
    internal sealed partial class TierReader
    {
        internal static readonly KeySchema IsolationSchema = new KeySchema(new[] { "vantage", "ports", "segment" }, new[] { "vantage" });

        private IsolationSettings? ReadIsolation(YamlFields? f)
        {
            if (f == null) return null;
            var before = _problems.Count;
            CheckKeys(f, IsolationSchema);
            var vantage = ViaValue(f, "vantage");
            var ports = new List<int>();
            foreach (var node in List(f, "ports") ?? new List<YamlDotNet.RepresentationModel.YamlNode>())
            {
                var port = IntOf(node, f.PathOf("ports"), 1, 65535);
                if (port.HasValue) ports.Add(port.Value);
            }
            var segment = Name(f, "segment");
            if (segment != null)
            {
                if (!_segments.TryGetValue(segment, out var s)) Problem(f["segment"]!, $"isolation.segment: unknown segment '{segment}'");
                else if (!s.IsTenant) Problem(f["segment"]!, $"isolation.segment: '{segment}' is not a tenant segment; the vantage must sit where tenants do");
            }
            if (_problems.Count > before || vantage == null) return null;
            return new IsolationSettings(vantage, ports.Count > 0 ? ports : new List<int> { 22 }, segment);
        }
    }
}
