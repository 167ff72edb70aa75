using System;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace Deevnet.Extended.Tests.Lab
{
    /// <summary>
    /// The running lab (tests/lab/lab.sh), read from <c>$DEEV_LAB_ROOT/lab.env</c> (default root /run/deevnet-lab).
    /// Integration tests take their servers from here. When the lab is not running, <see cref="Current"/> is null and
    /// <see cref="LabFactAttribute"/> skips the test loudly outside CI and lets it fail inside CI.
    /// </summary>
    public sealed class LabEnvironment
    {
        private readonly IReadOnlyDictionary<string, string> _values;

        private LabEnvironment(string root, IReadOnlyDictionary<string, string> values)
        {
            Root = root;
            _values = values;
        }

        /// <summary>The lab's root folder.</summary>
        public string Root { get; }

        /// <summary>A value from lab.env, e.g. <c>DEEV_LAB_TIER</c>; throws naming the key when the lab did not write it.</summary>
        public string this[string key] => _values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"The lab's lab.env has no {key}.");

        /// <summary>The lab server's sshd as the module reaches it: its via and the options (key, known_hosts) to log in with.</summary>
        public (Core.Transport.Via Via, Core.Transport.SshTransportOptions Options) Ssh() =>
            (Core.Transport.Via.Ssh(this["DEEV_LAB_SSH_USER"], this["DEEV_LAB_SSH_HOST"], int.Parse(this["DEEV_LAB_SSH_PORT"])),
             new Core.Transport.SshTransportOptions { KeyFile = this["DEEV_LAB_SSH_KEY"], KnownHostsPath = this["DEEV_LAB_KNOWN_HOSTS"] });

        public bool Has(string key) => _values.ContainsKey(key);

        public static string RootPath => Environment.GetEnvironmentVariable("DEEV_LAB_ROOT") is { Length: > 0 } r ? r : "/run/deevnet-lab";

        /// <summary>
        /// The running lab, or null when none is running. Re-read when lab.env changes (a lab stopped and started again
        /// while a test host lives has new keys); no test restarts the shared lab (StopTests uses a private one).
        /// </summary>
        public static LabEnvironment? Current
        {
            get
            {
                var file = new FileInfo(Path.Combine(RootPath, "lab.env"));
                var stamp = file.Exists ? (file.LastWriteTimeUtc.Ticks, file.Length) : (0L, -1L);
                lock (Gate)
                {
                    if (_cached == null || _cachedStamp != stamp)
                    {
                        _cached = new Lazy<LabEnvironment?>(Load);
                        _cachedStamp = stamp;
                    }
                    return _cached.Value;
                }
            }
        }

        /// <summary>The running lab; fails the test with the reason when there is none.</summary>
        public static LabEnvironment Require() => Current ?? throw new Xunit.Sdk.XunitException(WhyNotRunning());

        /// <summary>Why there is no lab: the reason lab.sh recorded, or that it was never started.</summary>
        public static string WhyNotRunning()
        {
            var errorFile = Path.Combine(RootPath, "lab.error");
            var reason = File.Exists(errorFile) ? File.ReadAllText(errorFile).Trim() : $"no {Path.Combine(RootPath, "lab.env")}: start it with 'tests/lab/lab.sh start' (as root)";
            return "The lab is not running: " + reason;
        }

        private static readonly object Gate = new object();
        private static Lazy<LabEnvironment?>? _cached;
        private static (long, long) _cachedStamp;

        private static LabEnvironment? Load()
        {
            var file = Path.Combine(RootPath, "lab.env");
            if (!File.Exists(file)) return null;
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var raw in File.ReadAllLines(file))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith("#", StringComparison.Ordinal)) continue;
                if (line.StartsWith("export ", StringComparison.Ordinal)) line = line.Substring(7);
                var eq = line.IndexOf('=');
                if (eq <= 0) continue;
                var value = line.Substring(eq + 1);
                if (value.Length >= 2 && (value[0] == '\'' || value[0] == '"') && value[value.Length - 1] == value[0]) value = value.Substring(1, value.Length - 2);
                values[line.Substring(0, eq)] = value;
            }
            return new LabEnvironment(RootPath, values);
        }
    }

    /// <summary>
    /// A test that needs the running lab. Outside CI without a lab it is skipped with the reason (never passed);
    /// with CI=true it runs and fails via <see cref="LabEnvironment.Require"/>, so a broken lab turns CI red.
    /// </summary>
    public sealed class LabFactAttribute : FactAttribute
    {
        public LabFactAttribute()
        {
            if (LabEnvironment.Current == null && !IsCi) Skip = "LAB NOT RUNNING – " + LabEnvironment.WhyNotRunning();
        }

        internal static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The <see cref="TheoryAttribute"/> twin of <see cref="LabFactAttribute"/>.</summary>
    public sealed class LabTheoryAttribute : TheoryAttribute
    {
        public LabTheoryAttribute()
        {
            if (LabEnvironment.Current == null && !LabFactAttribute.IsCi) Skip = "LAB NOT RUNNING – " + LabEnvironment.WhyNotRunning();
        }
    }
}
