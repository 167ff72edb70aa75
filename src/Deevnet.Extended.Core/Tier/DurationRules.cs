using System;
using System.Globalization;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// One parser and the bounds for every duration: the tier's timeouts (<c>access.connectTimeout</c>,
    /// <c>commandTimeout</c>, a check's <c>timeout</c>), its retention ages (<c>backup.maxAge</c>) and the cmdlets'
    /// <c>-TimeoutSec</c>. Bounds keep a typo (<c>10d</c> for <c>10s</c>, <c>0s</c>) from hanging or disabling a run.
    /// </summary>
    public static class DurationRules
    {
        /// <summary>A lower and upper bound, both inclusive.</summary>
        public readonly record struct Bounds(TimeSpan Min, TimeSpan Max);

        /// <summary>How long one operation may wait: 100 ms to a day.</summary>
        public static readonly Bounds Timeout = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1));

        /// <summary>How old something may grow before it counts as stale: a minute to ten years.</summary>
        public static readonly Bounds Age = new(TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650));

        private const string Grammar = "a number with ms, s, m, h or d, e.g. 10s";

        /// <summary>Parses <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>36h</c>, <c>7d</c> (at most nine digits).</summary>
        public static bool TryParse(string text, out TimeSpan duration)
        {
            duration = default;
            var digits = 0;
            while (digits < text.Length && text[digits] >= '0' && text[digits] <= '9') digits++;
            if (digits == 0 || digits > 9) return false;
            var n = long.Parse(text.Substring(0, digits), CultureInfo.InvariantCulture);
            switch (text.Substring(digits))
            {
                case "ms": duration = TimeSpan.FromMilliseconds(n); return true;
                case "s": duration = TimeSpan.FromSeconds(n); return true;
                case "m": duration = TimeSpan.FromMinutes(n); return true;
                case "h": duration = TimeSpan.FromHours(n); return true;
                case "d": duration = TimeSpan.FromDays(n); return true;
                default: return false;
            }
        }

        /// <summary>Formats a duration in the tier's notation (largest exact unit).</summary>
        public static string Format(TimeSpan duration)
        {
            var ms = (long)duration.TotalMilliseconds;
            if (ms % 86400000 == 0 && ms != 0) return (ms / 86400000) + "d";
            if (ms % 3600000 == 0 && ms != 0) return (ms / 3600000) + "h";
            if (ms % 60000 == 0 && ms != 0) return (ms / 60000) + "m";
            if (ms % 1000 == 0) return (ms / 1000) + "s";
            return ms + "ms";
        }

        /// <summary>Why <paramref name="duration"/> is outside <paramref name="bounds"/>, or null when it is inside.</summary>
        public static string? WhyNot(TimeSpan duration, Bounds bounds) =>
            duration >= bounds.Min && duration <= bounds.Max ? null
                : $"{Format(duration)} is outside {Format(bounds.Min)}–{Format(bounds.Max)}";

        /// <summary>Why <paramref name="text"/> is not a duration inside <paramref name="bounds"/>, or null with the value.</summary>
        public static string? WhyNot(string text, Bounds bounds, out TimeSpan duration) =>
            TryParse(text, out duration) ? WhyNot(duration, bounds) : $"'{text}' is not a duration ({Grammar})";
    }
}
