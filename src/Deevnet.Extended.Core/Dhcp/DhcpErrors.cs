using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Dhcp
{
    /// <summary>
    /// A batch cannot be applied as asked: an address reserved for another MAC, an address outside every subnet of the
    /// server, or a clash with an entry the module does not own. Nothing of the batch was applied.
    /// Error id <c>ReservationConflict</c>.
    /// </summary>
    public sealed class ReservationConflictException : DeevException
    {
        public ReservationConflictException(IReadOnlyList<string> conflicts, string server)
            : base("ReservationConflict", DeevErrorKind.ResourceExists,
                $"{conflicts.Count} reservation conflict(s) on {server}; nothing was changed:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", conflicts),
                server)
        {
            Conflicts = conflicts;
            RecommendedAction = "Fix the addresses in the tier (or remove the clashing hand-made entry on the server yourself), then run again.";
        }

        /// <summary>One sentence per conflict.</summary>
        public IReadOnlyList<string> Conflicts { get; }
    }

    /// <summary>Stable error ids and factories of the DHCP area.</summary>
    public static class DhcpErrors
    {
        /// <summary>A reservation field failed validation (bad name, description, MAC, address).</summary>
        public const string ReservationInvalid = "ReservationInvalid";

        /// <summary>One batch names a MAC, an address or a name twice; nothing was applied.</summary>
        public const string ReservationDuplicate = "ReservationDuplicate";

        /// <summary>A host on a segment whose addressing is <c>static</c> gets no reservation.</summary>
        public const string StaticSegmentNoReservation = "StaticSegmentNoReservation";

        /// <summary>The tier has no <c>dhcp</c> section, or its kind is unknown.</summary>
        public const string DhcpNotConfigured = "DhcpNotConfigured";

        /// <summary>-Prune was asked for but the tier did not load whole.</summary>
        public const string PruneRefused = "PruneRefused";

        /// <summary>The server's own checker refused the new configuration; the old one is in force.</summary>
        public const string BackendValidationFailed = "BackendValidationFailed";

        /// <summary>The server did not take the new configuration; the previous one was restored.</summary>
        public const string BackendReloadFailed = "BackendReloadFailed";

        /// <summary>The server answered in a way the module does not understand (unreadable config, bad API answer).</summary>
        public const string BackendResponseInvalid = "BackendResponseInvalid";

        public static DeevException Invalid(string message, object? target) =>
            new DeevException(ReservationInvalid, DeevErrorKind.InvalidArgument, message, target);

        public static DeevException StaticSegment(string host, string segment) =>
            new DeevException(StaticSegmentNoReservation, DeevErrorKind.InvalidOperation,
                $"Host '{host}' sits on segment '{segment}', whose addressing is 'static': it is configured with a static address (cloud-init), not a DHCP reservation.",
                host)
            { RecommendedAction = $"Nothing to do for '{host}'; set 'addressing: reservation' on segment '{segment}' if it should use DHCP." };

        public static DeevException NotConfigured(string why) =>
            new DeevException(DhcpNotConfigured, DeevErrorKind.InvalidOperation, why, "dhcp");

        public static DeevException Response(string server, string what, Exception? inner = null) =>
            new DeevException(BackendResponseInvalid, DeevErrorKind.InvalidData, $"{server}: {what}", server, inner);

        public static DeevException Validation(string server, string detail) =>
            new DeevException(BackendValidationFailed, DeevErrorKind.InvalidData,
                $"{server} refused the new reservations: {detail.Trim()}. Nothing was changed; the previous configuration is still in force.", server);

        public static DeevException Reload(string server, string detail, bool restored) =>
            new DeevException(BackendReloadFailed, DeevErrorKind.InvalidOperation,
                $"{server} did not take the new reservations: {detail.Trim()}. " +
                (restored ? "The previous configuration was restored and reloaded; it is still in force." : "Restoring the previous configuration failed too: check the server now."),
                server);

        internal static string JoinLines(IEnumerable<string> lines) => string.Join("; ", lines.Where(l => !string.IsNullOrWhiteSpace(l)));
    }
}
