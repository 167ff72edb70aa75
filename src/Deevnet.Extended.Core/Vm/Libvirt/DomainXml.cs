using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;

namespace Deevnet.Extended.Core.Vm.Libvirt
{
    /// <summary>
    /// The libvirt domain XML of a management VM, and reading one back. The VMID, startup order and a summary of the
    /// cloud-init data live in the module's own metadata element, since libvirt has no such fields.
    /// </summary>
    internal static class DomainXml
    {
        public static readonly XNamespace Deev = "https://deevnet.net/xmlns/vm/1";

        /// <summary>What goes into a domain definition.</summary>
        public sealed class Layout
        {
            public string DomainType = "kvm";
            public string? Uuid;
            public string OsDisk = "";
            public string? DataDisk;
            public string? DataSerial;
            public string Seed = "";
            public string CloudInitSummary = "";
        }

        public static string Build(VmSpec spec, Layout layout)
        {
            var devices = new XElement("devices",
                Disk("disk", "qcow2", layout.OsDisk, "vda", "virtio", null),
                layout.DataDisk != null ? Disk("disk", "qcow2", layout.DataDisk, "vdb", "virtio", layout.DataSerial) : null,
                Disk("cdrom", "raw", layout.Seed, "sda", "sata", null),
                new XElement("interface", new XAttribute("type", "bridge"),
                    new XElement("mac", new XAttribute("address", spec.MacAddress)),
                    new XElement("source", new XAttribute("bridge", spec.Bridge)),
                    spec.Vlan != null ? new XElement("vlan", new XElement("tag", new XAttribute("id", spec.Vlan.Value))) : null,
                    new XElement("model", new XAttribute("type", "virtio"))),
                new XElement("channel", new XAttribute("type", "unix"),
                    new XElement("target", new XAttribute("type", "virtio"), new XAttribute("name", "org.qemu.guest_agent.0"))),
                new XElement("serial", new XAttribute("type", "pty")),
                new XElement("console", new XAttribute("type", "pty")));
            var domain = new XElement("domain", new XAttribute("type", layout.DomainType),
                new XElement("name", spec.Name),
                layout.Uuid != null ? new XElement("uuid", layout.Uuid) : null,
                new XElement("description", $"Deevnet management VM {spec.Fqdn} (VMID {spec.VmId}); managed by Deevnet.Extended from the tier file."),
                new XElement("metadata", new XElement(Deev + "vm", new XAttribute(XNamespace.Xmlns + "deev", Deev),
                    new XElement(Deev + "vmid", spec.VmId),
                    new XElement(Deev + "segment", spec.Segment),
                    spec.Startup != null ? new XElement(Deev + "startup", Startup(spec.Startup)) : null,
                    new XElement(Deev + "cloudinit", layout.CloudInitSummary))),
                new XElement("memory", new XAttribute("unit", "MiB"), spec.MemoryMb),
                new XElement("vcpu", spec.Cores),
                new XElement("os", new XElement("type", new XAttribute("arch", "x86_64"), "hvm"), new XElement("boot", new XAttribute("dev", "hd"))),
                new XElement("features", new XElement("acpi"), new XElement("apic")),
                new XElement("on_poweroff", "destroy"),
                new XElement("on_reboot", "restart"),
                new XElement("on_crash", "destroy"),
                devices);
            return domain.ToString();
        }

        public static string Startup(Tier.StartupOrder s) =>
            "order=" + s.Order + (s.Up != null ? ",up=" + s.Up : "") + (s.Down != null ? ",down=" + s.Down : "");

        private static XElement? Disk(string device, string format, string file, string target, string bus, string? serial) =>
            new XElement("disk", new XAttribute("type", "file"), new XAttribute("device", device),
                new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", format)),
                new XElement("source", new XAttribute("file", file)),
                new XElement("target", new XAttribute("dev", target), new XAttribute("bus", bus)),
                serial != null ? new XElement("serial", serial) : null,
                device == "cdrom" ? new XElement("readonly") : null);

        /// <summary>A domain as read from <c>virsh dumpxml --inactive</c>.</summary>
        public sealed class Parsed
        {
            public string Name = "";
            public string Uuid = "";
            public string Type = "";
            public int? VmId;
            public int Cores;
            public int MemoryMb;
            public string? Mac;
            public string? Bridge;
            public int? Vlan;
            public string? Startup;
            public string? CloudInit;
            public List<(string Device, string Target, string? File, string? Serial)> Disks = new List<(string, string, string?, string?)>();
        }

        public static Parsed Parse(string xml)
        {
            var d = XElement.Parse(xml);
            var p = new Parsed
            {
                Name = (string?)d.Element("name") ?? "",
                Uuid = (string?)d.Element("uuid") ?? "",
                Type = (string?)d.Attribute("type") ?? "",
                Cores = int.TryParse((string?)d.Element("vcpu"), out var c) ? c : 0,
                MemoryMb = (int)(ToKiB(d.Element("memory")) / 1024),
            };
            var meta = d.Element("metadata")?.Element(Deev + "vm");
            if (meta != null)
            {
                p.VmId = int.TryParse((string?)meta.Element(Deev + "vmid"), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : (int?)null;
                p.Startup = (string?)meta.Element(Deev + "startup");
                p.CloudInit = (string?)meta.Element(Deev + "cloudinit");
            }
            var nic = d.Element("devices")?.Elements("interface").FirstOrDefault();
            if (nic != null)
            {
                p.Mac = ((string?)nic.Element("mac")?.Attribute("address"))?.ToLowerInvariant();
                p.Bridge = (string?)nic.Element("source")?.Attribute("bridge") ?? (string?)nic.Element("source")?.Attribute("network");
                p.Vlan = int.TryParse((string?)nic.Element("vlan")?.Element("tag")?.Attribute("id"), out var v) ? v : (int?)null;
            }
            foreach (var disk in d.Element("devices")?.Elements("disk") ?? Enumerable.Empty<XElement>())
            {
                p.Disks.Add(((string?)disk.Attribute("device") ?? "disk", (string?)disk.Element("target")?.Attribute("dev") ?? "",
                    (string?)disk.Element("source")?.Attribute("file"), (string?)disk.Element("serial")));
            }
            return p;
        }

        private static long ToKiB(XElement? memory)
        {
            if (memory == null || !long.TryParse(memory.Value, out var n)) return 0;
            switch (((string?)memory.Attribute("unit") ?? "KiB").ToLowerInvariant())
            {
                case "b": case "bytes": return n / 1024;
                case "mib": case "m": return n * 1024;
                case "gib": case "g": return n * 1024 * 1024;
                default: return n;
            }
        }
    }
}
