using System;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Vm
{
    /// <summary>
    /// The stable error ids of the VM area. Tests and scripts match on these ids, never on messages.
    /// </summary>
    public static class VmErrors
    {
        public const string ReservationMissing = "ReservationMissing";
        public const string VmIdConflict = "VmIdConflict";
        public const string VmNameConflict = "VmNameConflict";
        public const string VmVerificationFailed = "VmVerificationFailed";
        public const string VmNotFound = "VmNotFound";
        public const string VmNotInTier = "VmNotInTier";
        public const string VmTemplateNotFound = "VmTemplateNotFound";
        public const string VmTemplateNoCloudInit = "VmTemplateNoCloudInit";
        public const string VmTaskFailed = "VmTaskFailed";
        public const string VmBackendFailed = "VmBackendFailed";
        public const string VmWaitTimeout = "VmWaitTimeout";
        public const string VmHypervisorMissing = "VmHypervisorMissing";
        public const string VmIdentityMissing = "VmIdentityMissing";
        public const string VmIdentityMismatch = "VmIdentityMismatch";
        public const string TlsVerificationFailed = "TlsVerificationFailed";
        public const string HypervisorAuthFailed = "HypervisorAuthFailed";

        public static DeevException Create(string id, DeevErrorKind kind, string message, object? target = null, string? action = null, Exception? inner = null) =>
            new DeevException(id, kind, message, target, inner) { RecommendedAction = action };

        public static DeevException Verification(string vm, string setting, string expected, string? actual) =>
            Create(VmVerificationFailed, DeevErrorKind.InvalidData,
                $"VM {vm}: '{setting}' reads back as '{actual ?? "(not set)"}', expected '{expected}'. The hypervisor did not keep the value.",
                vm, "Look at the VM's configuration on the hypervisor; a pending change or a storage/permission problem is the usual cause.");

        public static DeevException BackendFailed(string hypervisor, string what, string detail, Exception? inner = null) =>
            Create(VmBackendFailed, DeevErrorKind.InvalidOperation, $"{hypervisor}: {what} failed: {detail}", hypervisor, null, inner);
    }
}
