using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm.Proxmox;

namespace Deevnet.Extended.Core.Vm.Libvirt
{
    /// <summary>
    /// Management VMs on a libvirt host through <c>virsh -c &lt;uri&gt;</c> over the hypervisor's transport.
    /// Disks are files in <c>imageDir</c>: the OS disk a qcow2 overlay of the newest template image
    /// (<c>&lt;template&gt;*.qcow2</c>, version order), the data disk created only when no disk carries its serial,
    /// and a NoCloud seed ISO for cloud-init. The VMID is kept in the domain's metadata.
    /// </summary>
    public sealed class LibvirtBackend : IVmBackend
    {
        private const string Separator = "@@deev@@";
        private static readonly Regex UuidPattern = new Regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", RegexOptions.CultureInvariant);
        private static readonly TimeSpan DiskTimeout = TimeSpan.FromMinutes(10);

        private readonly Hypervisor _hypervisor;
        private readonly IHostTransport _transport;
        private readonly IOperationLog _log;
        private readonly string _uri;
        private readonly string _imageDir;
        private string? _domainType;

        public LibvirtBackend(Hypervisor hypervisor, IHostTransport transport, IOperationLog? log = null)
        {
            _hypervisor = hypervisor;
            _transport = transport;
            _log = log ?? NullOperationLog.Instance;
            _uri = hypervisor.Get("uri") ?? "qemu:///system";
            _imageDir = (hypervisor.Get("imageDir") ?? "/var/lib/libvirt/images").TrimEnd('/');
            if (!_imageDir.StartsWith("/", StringComparison.Ordinal))
                throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.InvalidData, $"{hypervisor.Section}.imageDir '{_imageDir}' is not an absolute path.", hypervisor.Section);
            _domainType = hypervisor.Get("domainType");
        }

        public string Name => _hypervisor.Name;

        public bool SeedsHostKey => true;

        /// <summary>How long a graceful shutdown may take before Stop gives up (Stop -Force powers off instead).</summary>
        public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromMinutes(3);

        private string Target => $"{_hypervisor.Name} ({_uri})";

        public async Task<IReadOnlyList<VmInfo>> ListAsync(CancellationToken cancellationToken) =>
            (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).Select(d => d.Info).ToList();

        public async Task<VmInfo?> GetAsync(int vmId, CancellationToken cancellationToken)
        {
            var found = (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.Info.VmId == vmId);
            return found == null ? null : await WithSizesAsync(found, cancellationToken).ConfigureAwait(false);
        }

        public async Task<VmInfo?> FindByNameAsync(string name, CancellationToken cancellationToken)
        {
            var found = (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.Info.Name == name);
            return found == null ? null : await WithSizesAsync(found, cancellationToken).ConfigureAwait(false);
        }

        public async Task<ChangePlan> PlanAsync(VmSpec spec, CancellationToken cancellationToken)
        {
            var existing = await OwnedAsync(spec, cancellationToken).ConfigureAwait(false);
            if (existing == null)
            {
                var template = await NewestTemplateAsync(cancellationToken).ConfigureAwait(false);
                return VmPlanning.ForNew(spec, Target, template, Desired(spec));
            }
            return VmPlanning.ForExisting(spec, existing.Info, Target, Desired(spec));
        }

        public async Task<VmInfo> ApplyAsync(VmSpec spec, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var activity = $"VM {spec.Name}";
            var existing = await OwnedAsync(spec, cancellationToken).ConfigureAwait(false);
            var desired = Desired(spec);
            var layout = new DomainXml.Layout { Seed = SeedPath(spec), CloudInitSummary = CloudInitSeed.Summary(spec), DataSerial = spec.DataDisk?.Serial };
            IReadOnlyList<VmSetting> pending;
            if (existing == null)
            {
                var template = await NewestTemplateAsync(cancellationToken).ConfigureAwait(false);
                progress?.Report(new OperationProgress(activity, $"Creating the OS disk as an overlay of {template}", 10));
                layout.OsDisk = $"{_imageDir}/{spec.Name}.qcow2";
                layout.DomainType = await DomainTypeAsync(cancellationToken).ConfigureAwait(false);
                // An overlay left by an interrupted earlier run has this VM's name: it is this VM's disk, so it is kept.
                await RunAsync("creating the OS disk", ShellQuote.Line($"test -e {layout.OsDisk} || qemu-img create -q -f qcow2 -b {$"{_imageDir}/{template}.qcow2"} -F qcow2 {layout.OsDisk}"), cancellationToken, DiskTimeout).ConfigureAwait(false);
                pending = desired;
            }
            else
            {
                layout.Uuid = existing.Parsed.Uuid;
                layout.DomainType = existing.Parsed.Type;
                layout.OsDisk = existing.Parsed.Disks.FirstOrDefault(d => d.Device == "disk" && (d.Serial == null || d.Serial != spec.DataDisk?.Serial)).File
                    ?? throw VmErrors.BackendFailed(Target, "adoption", $"domain {spec.Name} has no OS disk");
                layout.DataDisk = spec.DataDisk == null ? null : existing.Parsed.Disks.FirstOrDefault(d => d.Serial == spec.DataDisk.Serial).File;
                pending = VmPlanning.Pending(existing.Info, desired);
            }

            if (spec.DataDisk != null && layout.DataDisk == null)
            {
                progress?.Report(new OperationProgress(activity, $"Creating the {spec.DataDisk.SizeGb}G data disk", 30));
                layout.DataDisk = $"{_imageDir}/{spec.Name}-data.qcow2";
                await RunAsync("creating the data disk", ShellQuote.Line($"test -e {layout.DataDisk} || qemu-img create -q -f qcow2 {layout.DataDisk} {spec.DataDisk.SizeGb}G"), cancellationToken, DiskTimeout).ConfigureAwait(false);
            }
            if (pending.Any(s => s.Key == "cloud-init" || s.Key == "seed"))
            {
                progress?.Report(new OperationProgress(activity, "Writing the cloud-init seed", 45));
                await WriteSeedAsync(spec, layout.Seed, cancellationToken).ConfigureAwait(false);
            }
            if (pending.Any(s => s.Key != "autostart" && s.Key != "osdisk"))
            {
                progress?.Report(new OperationProgress(activity, existing == null ? "Defining the domain" : "Updating the domain definition", 60));
                await DefineAsync(DomainXml.Build(spec, layout), cancellationToken).ConfigureAwait(false);
            }

            var vm = await GetAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                ?? throw VmErrors.BackendFailed(Target, "define", $"domain {spec.Name} with VMID {spec.VmId} is not there after defining it");
            if (spec.DiskGb != null && !desired.First(s => s.Key == "osdisk").Matches(VmPlanning.Actual(vm, "osdisk")))
            {
                progress?.Report(new OperationProgress(activity, $"Growing the OS disk to {spec.DiskGb}G", 75));
                var line = vm.Running
                    ? Virsh("blockresize", spec.Name, "vda", spec.DiskGb + "G")
                    : ShellQuote.Line($"qemu-img resize -q {layout.OsDisk} {spec.DiskGb.Value}G");
                await RunAsync("growing the OS disk", line, cancellationToken, DiskTimeout).ConfigureAwait(false);
            }
            if (vm.StartOnBoot != spec.StartOnBoot)
                await RunAsync("setting autostart", spec.StartOnBoot ? Virsh("autostart", spec.Name) : Virsh("autostart", "--disable", spec.Name), cancellationToken).ConfigureAwait(false);

            progress?.Report(new OperationProgress(activity, "Reading the configuration back", 90));
            var readBack = await GetAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                ?? throw VmErrors.BackendFailed(Target, "read-back", $"domain {spec.Name} vanished");
            VmPlanning.Verify(spec, readBack, desired);
            return readBack;
        }

        public async Task StartAsync(int vmId, CancellationToken cancellationToken)
        {
            var vm = await RequireAsync(vmId, cancellationToken).ConfigureAwait(false);
            if (!vm.Running) await RunAsync("start", Virsh("start", vm.Name), cancellationToken).ConfigureAwait(false);
        }

        public async Task StopAsync(int vmId, bool force, CancellationToken cancellationToken)
        {
            var vm = await RequireAsync(vmId, cancellationToken).ConfigureAwait(false);
            if (!vm.Running) return;
            await RunAsync(force ? "power off" : "shutdown", Virsh(force ? "destroy" : "shutdown", vm.Name), cancellationToken).ConfigureAwait(false);
            if (force) return;
            var deadline = DateTime.UtcNow + ShutdownTimeout;
            while ((await RunAsync("domstate", Virsh("domstate", vm.Name), cancellationToken).ConfigureAwait(false)).Trim() != "shut off")
            {
                if (DateTime.UtcNow > deadline)
                    throw VmErrors.Create(VmErrors.VmWaitTimeout, DeevErrorKind.OperationTimeout,
                        $"{vm.Name} did not shut down within {ShutdownTimeout.TotalSeconds:0} s.", vm.Name, "Use -Force to power it off.");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }

        public async Task RemoveAsync(int vmId, CancellationToken cancellationToken)
        {
            var found = (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.Info.VmId == vmId)
                ?? throw VmErrors.Create(VmErrors.VmNotFound, DeevErrorKind.ObjectNotFound, $"{Target} has no VM {vmId}.", vmId);
            var name = found.Info.Name;
            if (found.Info.Running) await RunAsync("power off", Virsh("destroy", name), cancellationToken).ConfigureAwait(false);
            await RunAsync("undefine", Virsh("undefine", name), cancellationToken).ConfigureAwait(false);
            // Only files the module made for this VM (imageDir/<name>.qcow2, -data.qcow2, -seed.iso) are deleted; a disk
            // somewhere else was put there by someone else and stays.
            var own = found.Parsed.Disks.Select(d => d.File).Where(f => f != null && IsOwnFile(name, f!)).Select(f => f!).ToList();
            if (own.Count > 0) await RunAsync("deleting disks", ShellQuote.Line($"rm -f -- {own}"), cancellationToken).ConfigureAwait(false);
        }

        public void Dispose()
        {
            // The transport belongs to the pool that handed it out.
        }

        internal IReadOnlyList<VmSetting> Desired(VmSpec spec)
        {
            var s = new List<VmSetting>
            {
                new VmSetting("vcpu", spec.Cores.ToString(CultureInfo.InvariantCulture)),
                new VmSetting("memory", spec.MemoryMb.ToString(CultureInfo.InvariantCulture)),
                new VmSetting("interface", Interface(spec.MacAddress, spec.Bridge, spec.Vlan)),
                new VmSetting("autostart", spec.StartOnBoot ? "1" : "0"),
                new VmSetting("cloud-init", CloudInitSeed.Summary(spec)),
                new VmSetting("seed", SeedPath(spec)),
            };
            if (spec.Startup != null) s.Add(new VmSetting("startup", DomainXml.Startup(spec.Startup)));
            if (spec.DataDisk != null)
                s.Add(new VmSetting("datadisk", $"{spec.DataDisk.SizeGb}G serial={spec.DataDisk.Serial}", a => a != null && a.EndsWith(" serial=" + spec.DataDisk.Serial, StringComparison.Ordinal)));
            if (spec.DiskGb != null)
                s.Add(new VmSetting("osdisk", $">= {spec.DiskGb}G", a => a != null && ProxmoxConfig.ParseSize(a.Split(' ').ElementAtOrDefault(1)) >= (long)spec.DiskGb.Value << 30));
            return s;
        }

        private static string Interface(string? mac, string? bridge, int? vlan) => $"mac={mac} bridge={bridge}" + (vlan != null ? " vlan=" + vlan : "");

        private string SeedPath(VmSpec spec) => $"{_imageDir}/{spec.Name}-seed.iso";

        private bool IsOwnFile(string name, string file) =>
            file == $"{_imageDir}/{name}.qcow2" || file == $"{_imageDir}/{name}-data.qcow2" || file == $"{_imageDir}/{name}-seed.iso";

        private sealed class Domain
        {
            public Domain(DomainXml.Parsed parsed, VmInfo info)
            {
                Parsed = parsed;
                Info = info;
            }

            public DomainXml.Parsed Parsed { get; }
            public VmInfo Info { get; }
        }

        private async Task<Domain?> OwnedAsync(VmSpec spec, CancellationToken ct)
        {
            var all = await ReadAllAsync(ct).ConfigureAwait(false);
            var byId = all.FirstOrDefault(d => d.Info.VmId == spec.VmId);
            var byName = all.FirstOrDefault(d => d.Info.Name == spec.Name);
            VmPlanning.CheckOwnership(spec, byId?.Info, byName?.Info, Target);
            if (byId == null) return null;
            return new Domain(byId.Parsed, await WithSizesAsync(byId, ct).ConfigureAwait(false));
        }

        /// <summary>Every domain, read in two virsh calls (UUIDs and states, then all definitions).</summary>
        private async Task<List<Domain>> ReadAllAsync(CancellationToken ct)
        {
            var lists = Split(await RunAsync("listing domains",
                Virsh($"list --all --uuid; echo {Separator}; list --all --autostart --uuid; echo {Separator}; list --state-running --uuid"), ct).ConfigureAwait(false));
            if (lists.Count != 3) throw VmErrors.BackendFailed(Target, "listing domains", "virsh printed an unexpected answer");
            var all = Uuids(lists[0]);
            var autostart = new HashSet<string>(Uuids(lists[1]));
            var running = new HashSet<string>(Uuids(lists[2]));
            if (all.Count == 0) return new List<Domain>();
            var batch = await _transport.RunAsync(Virsh(string.Join($"; echo {Separator}; ", all.Select(u => "dumpxml --inactive " + u))), ct).ConfigureAwait(false);
            var xmls = batch.Succeeded ? Split(batch.StandardOutput) : await ReadOneByOneAsync(all, ct).ConfigureAwait(false);
            var result = new List<Domain>();
            foreach (var xml in xmls.Where(x => x.Trim().Length > 0))
            {
                var p = DomainXml.Parse(xml);
                result.Add(new Domain(p, ToInfo(p, autostart.Contains(p.Uuid), running.Contains(p.Uuid), null)));
            }
            return result;
        }

        /// <summary>
        /// The definitions one virsh call each: the fallback when the batch failed, because a domain listed a moment ago
        /// may have been undefined since by someone else. One that no longer exists is skipped (it is not there to
        /// own or to clash with); any other failure is the back end's.
        /// </summary>
        private async Task<List<string>> ReadOneByOneAsync(IEnumerable<string> uuids, CancellationToken ct)
        {
            var xmls = new List<string>();
            foreach (var uuid in uuids)
            {
                var one = await _transport.RunAsync(Virsh("dumpxml", "--inactive", uuid), ct).ConfigureAwait(false);
                if (one.Succeeded) xmls.Add(one.StandardOutput);
                else if (!one.StandardError.Contains("failed to get domain", StringComparison.Ordinal))
                    throw VmErrors.BackendFailed(Target, "reading domain definitions", $"exit {one.ExitStatus}: {one.StandardError.Trim()}");
            }
            return xmls;
        }

        private VmInfo ToInfo(DomainXml.Parsed p, bool autostart, bool running, IReadOnlyDictionary<string, long>? sizes)
        {
            var disks = p.Disks.Where(d => d.Device == "disk")
                .Select(d => new VmDisk(d.Target, d.File != null && sizes != null && sizes.TryGetValue(d.File, out var n) ? n : 0, d.Serial, d.File)).ToList();
            var settings = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["vcpu"] = p.Cores.ToString(CultureInfo.InvariantCulture),
                ["memory"] = p.MemoryMb.ToString(CultureInfo.InvariantCulture),
                ["interface"] = Interface(p.Mac, p.Bridge, p.Vlan),
                ["autostart"] = autostart ? "1" : "0",
            };
            if (p.CloudInit != null) settings["cloud-init"] = p.CloudInit;
            if (p.Startup != null) settings["startup"] = p.Startup;
            var seed = p.Disks.FirstOrDefault(d => d.Device == "cdrom").File;
            if (seed != null) settings["seed"] = seed;
            var os = disks.FirstOrDefault(d => d.Serial == null) ?? disks.FirstOrDefault();
            if (os != null && sizes != null) settings["osdisk"] = $"{os.Slot} {os.SizeBytes >> 20}M";
            var data = disks.FirstOrDefault(d => d.Serial != null && d != os);
            if (data != null) settings["datadisk"] = $"{data.Slot} {data.SizeBytes >> 20}M serial={data.Serial}";
            return new VmInfo(p.Name, p.VmId ?? 0, _hypervisor.Name, _uri, p.Mac, p.Bridge, p.Vlan, running ? "running" : "stopped",
                autostart, p.Startup != null ? ProxmoxConfig.StartupOrder(p.Startup) : null, p.Cores, p.MemoryMb, disks, false, settings);
        }

        /// <summary>The VM with its disks' virtual sizes (qemu-img info; unreadable files count as 0).</summary>
        private async Task<VmInfo> WithSizesAsync(Domain d, CancellationToken ct)
        {
            var files = d.Parsed.Disks.Where(x => x.Device == "disk" && x.File != null).Select(x => x.File!).ToList();
            var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
            if (files.Count > 0)
            {
                var line = string.Join("; ", files.Select(f => ShellQuote.Line($"qemu-img info -U --output=json {f} 2>/dev/null || echo '{{}}'; echo {Separator}").Text));
                var parts = Split(await RunAsync("reading disk sizes", line, ct).ConfigureAwait(false));
                for (var i = 0; i < files.Count && i < parts.Count; i++)
                {
                    try
                    {
                        sizes[files[i]] = JsonNode.Parse(parts[i].Trim())?["virtual-size"] is JsonValue size && size.TryGetValue<long>(out var n) ? n : 0;
                    }
                    catch (JsonException)
                    {
                        sizes[files[i]] = 0;
                    }
                }
            }
            return ToInfo(d.Parsed, d.Info.StartOnBoot, d.Info.Running, sizes);
        }

        private async Task<VmInfo> RequireAsync(int vmId, CancellationToken ct) =>
            await GetAsync(vmId, ct).ConfigureAwait(false)
            ?? throw VmErrors.Create(VmErrors.VmNotFound, DeevErrorKind.ObjectNotFound, $"{Target} has no VM {vmId}.", vmId);

        private async Task<string> NewestTemplateAsync(CancellationToken ct)
        {
            var listing = await RunAsync("listing templates", ShellQuote.Line($"ls -1 -- {_imageDir}"), ct).ConfigureAwait(false);
            var names = listing.Split('\n').Select(l => l.Trim()).Where(l => l.EndsWith(".qcow2", StringComparison.Ordinal)).Select(l => l.Substring(0, l.Length - 6));
            return TemplateOrder.Newest(names, _hypervisor.Template)
                ?? throw VmErrors.Create(VmErrors.VmTemplateNotFound, DeevErrorKind.ObjectNotFound,
                    $"{Target} has no template image {_imageDir}/{_hypervisor.Template}*.qcow2.", _hypervisor.Name,
                    "Put the template image into imageDir or fix the hypervisor's 'template' prefix in the tier file.");
        }

        /// <summary>The tier's <c>domainType</c>, else the best the connection offers: kvm, then qemu, then test.</summary>
        private async Task<string> DomainTypeAsync(CancellationToken ct)
        {
            if (_domainType != null) return _domainType;
            var caps = await RunAsync("reading capabilities", Virsh("capabilities"), ct).ConfigureAwait(false);
            _domainType = new[] { "kvm", "qemu", "test" }.FirstOrDefault(t => caps.Contains($"<domain type='{t}'") || caps.Contains($"<domain type=\"{t}\""))
                ?? throw VmErrors.BackendFailed(Target, "reading capabilities", "the connection offers neither kvm, qemu nor test domains; set domainType");
            _log.Verbose($"{Target}: defining domains of type '{_domainType}'.");
            return _domainType;
        }

        private Task<string> DefineAsync(string xml, CancellationToken ct) =>
            RunAsync("defining the domain", $"f=$(mktemp) && cat >\"$f\" && {Virsh("define", "--validate")} \"$f\"; rc=$?; rm -f \"$f\"; exit $rc", ct, null, xml);

        private Task<string> WriteSeedAsync(VmSpec spec, string iso, CancellationToken ct)
        {
            // The user-data goes in on stdin, not on the command line: it may hold the VM's first-boot host key, which
            // must not show in the hypervisor's process list or in a verbose log; umask 077 keeps the seed root's.
            string B64(string text) => Convert.ToBase64String(new UTF8Encoding(false).GetBytes(text));
            var line = new StringBuilder("umask 077 && d=$(mktemp -d) && cat >\"$d/user-data\" && ")
                .Append($"printf %s {B64(CloudInitSeed.MetaData(spec))} | base64 -d >\"$d/meta-data\" && ")
                .Append($"printf %s {B64(CloudInitSeed.NetworkConfig(spec))} | base64 -d >\"$d/network-config\" && ")
                .Append("if command -v genisoimage >/dev/null 2>&1; then t=genisoimage; elif command -v mkisofs >/dev/null 2>&1; then t=mkisofs; ")
                .Append("elif command -v xorriso >/dev/null 2>&1; then t='xorriso -as mkisofs'; ")
                .Append("else echo 'none of genisoimage, mkisofs or xorriso is installed on the hypervisor' >&2; rm -rf \"$d\"; exit 127; fi; ")
                .Append($"$t -quiet -output {Q(iso + ".partial")} -volid cidata -joliet -rock \"$d/user-data\" \"$d/meta-data\" \"$d/network-config\" && mv -f {Q(iso + ".partial")} {Q(iso)}; ")
                .Append("rc=$?; rm -rf \"$d\"; exit $rc");
            return RunAsync("writing the cloud-init seed", line.ToString(), ct, null, CloudInitSeed.UserData(spec));
        }

        private string Virsh(params string[] args) => ShellQuote.Join(new[] { "virsh", "-q", "-c", _uri }.Concat(args));

        private static string Q(string value) => ShellQuote.Quote(value);

        private async Task<string> RunAsync(string what, string commandLine, CancellationToken ct, TimeSpan? timeout = null, string? input = null)
        {
            var result = await _transport.RunAsync(commandLine, ct, input, timeout).ConfigureAwait(false);
            if (!result.Succeeded)
                throw VmErrors.BackendFailed(Target, what, $"exit {result.ExitStatus}: {result.StandardError.Trim()}");
            return result.StandardOutput;
        }

        /// <summary>Splits multi-command output at the separator virsh's <c>echo</c> printed (with -q it ends no line).</summary>
        private static List<string> Split(string output) => output.Split(new[] { Separator }, StringSplitOptions.None).ToList();

        private static List<string> Uuids(string text) =>
            text.Split('\n').Select(l => l.Trim()).Where(l => UuidPattern.IsMatch(l)).ToList();
    }
}
