using System.Collections.Generic;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Tests.Http
{
    /// <summary>Tier sections for REST clients built in tests, without a tier file.</summary>
    internal static class RestSpec
    {
        /// <summary>A section with <c>endpoint</c> and the given extra settings (e.g. <c>("tlsFingerprint", …)</c>).</summary>
        public static BackendSpec For(string endpoint, params (string Key, string Value)[] settings)
        {
            var all = new Dictionary<string, string> { ["endpoint"] = endpoint };
            foreach (var (key, value) in settings) all[key] = value;
            return new BackendSpec("dhcp", "opnsense", null, all, 1, 1);
        }
    }

    /// <summary>An operation log that keeps what it is told.</summary>
    internal sealed class ListLog : IOperationLog
    {
        public List<string> Warnings { get; } = new List<string>();
        public List<string> Verbose { get; } = new List<string>();
        void IOperationLog.Verbose(string message) => Verbose.Add(message);
        public void Warning(string message) => Warnings.Add(message);
    }
}
