using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>Reading PVE's property strings (<c>virtio=BC:24:…,bridge=vmbr0,tag=99</c>, <c>local-lvm:vm-201-disk-0,size=32G</c>).</summary>
    internal static class ProxmoxConfig
    {
        private static readonly Regex DiskKey = new Regex(@"^(scsi|virtio|sata|ide)\d+$", RegexOptions.CultureInvariant);
        private static readonly Regex NicModels = new Regex("^(virtio|e1000|e1000e|rtl8139|vmxnet3)$", RegexOptions.CultureInvariant);

        /// <summary>Splits <c>a=1,b=2,volume</c> into pairs; a part without '=' gets the key "".</summary>
        public static Dictionary<string, string> Properties(string? text)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            if (string.IsNullOrEmpty(text)) return d;
            foreach (var part in text!.Split(','))
            {
                var eq = part.IndexOf('=');
                if (eq < 0) d[""] = part;
                else d[part.Substring(0, eq)] = part.Substring(eq + 1);
            }
            return d;
        }

        /// <summary>The NIC's MAC (lowercase), bridge and VLAN tag from <c>net0</c>.</summary>
        public static (string? Mac, string? Bridge, int? Vlan) Nic(string? net0)
        {
            var p = Properties(net0);
            var model = p.Keys.FirstOrDefault(k => NicModels.IsMatch(k));
            var mac = model != null ? p[model].ToLowerInvariant() : p.TryGetValue("macaddr", out var m) ? m.ToLowerInvariant() : null;
            int? tag = p.TryGetValue("tag", out var t) && int.TryParse(t, out var v) ? v : (int?)null;
            return (mac, p.TryGetValue("bridge", out var b) ? b : null, tag);
        }

        /// <summary>Whether two net0 values mean the same NIC: same model, MAC (any case), bridge and tag.</summary>
        public static bool SameNic(string desired, string? actual)
        {
            if (actual == null) return false;
            var a = Properties(desired);
            var b = Properties(actual);
            return a.All(kv => b.TryGetValue(kv.Key, out var v) && string.Equals(v, kv.Value, StringComparison.OrdinalIgnoreCase))
                && !b.ContainsKey("tag") == !a.ContainsKey("tag");
        }

        // qemu-server src/PVE/QemuServer/Drive.pm drive_is_cloudinit: the volume is named [vm-N-]cloudinit[.format].
        private static readonly Regex CloudInitVolume = new Regex(@"[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|qcow2|vmdk))?$", RegexOptions.CultureInvariant);
        private static readonly Regex AnyDriveKey = new Regex(@"^(scsi|virtio|sata|ide)\d+$", RegexOptions.CultureInvariant);

        /// <summary>Whether config entry <paramref name="key"/>=<paramref name="value"/> is a cloud-init drive.</summary>
        public static bool IsCloudInitDrive(string key, string? value) =>
            AnyDriveKey.IsMatch(key) && Properties(value).TryGetValue("", out var volume) && CloudInitVolume.IsMatch(volume);

        private static readonly Regex BootTimeKey = new Regex(@"^(ipconfig\d+|net\d+|ciuser|cipassword|citype|cicustom|sshkeys|nameserver|searchdomain)$", RegexOptions.CultureInvariant);

        /// <summary>Whether a running guest sees a new value of <paramref name="key"/> only after a restart (cloud-init, NIC).</summary>
        public static bool ReadAtBoot(string key) => BootTimeKey.IsMatch(key);

        /// <summary>Bytes from PVE sizes such as <c>32G</c>, <c>512M</c>, <c>1T</c> (plain numbers are bytes).</summary>
        public static long ParseSize(string? text)
        {
            if (string.IsNullOrEmpty(text)) return 0;
            var unit = char.ToUpperInvariant(text![text.Length - 1]);
            var factor = unit switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 1L };
            var number = factor == 1 ? text : text.Substring(0, text.Length - 1);
            return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? (long)(n * factor) : 0;
        }

        /// <summary>The VM's disks (not CD-ROMs, not the cloud-init drive).</summary>
        public static List<VmDisk> Disks(IReadOnlyDictionary<string, string> config)
        {
            var disks = new List<VmDisk>();
            foreach (var kv in config.Where(kv => DiskKey.IsMatch(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var p = Properties(kv.Value);
                var volume = p.TryGetValue("", out var vol) ? vol : null;
                if (volume == null || volume == "none" || (p.TryGetValue("media", out var media) && media == "cdrom") || volume.Contains("cloudinit")) continue;
                disks.Add(new VmDisk(kv.Key, ParseSize(p.TryGetValue("size", out var s) ? s : null), p.TryGetValue("serial", out var serial) ? serial : null, volume));
            }
            return disks;
        }

        /// <summary>The boot disk: first disk in <c>boot: order=…</c>, else <c>bootdisk</c>, else the first disk.</summary>
        public static string? OsDiskSlot(IReadOnlyDictionary<string, string> config, IReadOnlyList<VmDisk> disks)
        {
            if (config.TryGetValue("boot", out var boot))
            {
                var order = Properties(boot).TryGetValue("order", out var o) ? o : null;
                var first = order?.Split(';').FirstOrDefault(d => disks.Any(x => x.Slot == d));
                if (first != null) return first;
            }
            if (config.TryGetValue("bootdisk", out var bd) && disks.Any(d => d.Slot == bd)) return bd;
            return disks.FirstOrDefault()?.Slot;
        }

        public static int? StartupOrder(string? startup) =>
            Properties(startup).TryGetValue("order", out var o) && int.TryParse(o, out var n) ? n : (int?)null;
    }
}
