namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// What a VMID may be, for the tier's <c>hosts.*.vmid</c> and <c>site.vmidRange</c>, the identity file and the
    /// cmdlets' <c>-VmId</c>. Proxmox takes 100–999999999 (ids below 100 are reserved); the module derives a host's
    /// MAC from its VMID in 24 bits, so its ceiling is 16777215.
    /// </summary>
    public static class VmIdRules
    {
        public const int Min = 100;
        public const int Max = 0xFFFFFF;

        /// <summary>Why <paramref name="vmid"/> cannot be a VMID, or null when it can.</summary>
        public static string? WhyNotAVmId(long vmid) =>
            vmid >= Min && vmid <= Max ? null : $"{vmid} is not a VMID (a whole number {Min}–{Max})";

        /// <summary>As <see cref="WhyNotAVmId(long)"/> for text: a whole number first.</summary>
        public static string? WhyNotAVmId(string text) =>
            long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
                ? WhyNotAVmId(v)
                : $"'{text}' is not a VMID (a whole number {Min}–{Max})";
    }
}
