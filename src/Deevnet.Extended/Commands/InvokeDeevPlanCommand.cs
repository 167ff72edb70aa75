using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Journal;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Loading;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Applies a plan saved with <c>-PlanPath</c>, exactly as saved. First, for every step, it re-reads what the plan
    /// was computed from (the tier file, the identity file, each server's owned entries) and computes what the saved
    /// entries would change now; if anything moved, or the lines would differ, the whole plan is refused with
    /// <c>PlanStale</c> naming what moved, before any server is touched. Then each step is applied as one transaction
    /// and journalled with the plan's SHA-256. VM steps are re-read per VM (name, MAC, state, configuration digest);
    /// restore and rebuild steps re-read their pinned backup (still there, authenticated, same digests).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "DeevPlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DhcpReservationChange), typeof(DnsSyncResult), typeof(HostIdentity), typeof(MgmtVm), typeof(RestoreResult))]
    public sealed class InvokeDeevPlanCommand : TierCmdlet
    {
        /// <summary>The plan file (from <c>-PlanPath</c>).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PlanPath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>Limit of one DNS server operation, in seconds (default 10).</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 10;

        /// <summary>The age private key file for restore steps. Default: the tier's backup.identityFile. (A plan never holds a key or its path.)</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? IdentityFile { get; set; }

        /// <summary>Change without a record in the tier's change journal (said as a warning); without it, an unwritable journal stops the change.</summary>
        [Parameter]
        public SwitchParameter SkipJournal { get; set; }

        protected override bool JournalSkipped => SkipJournal.IsPresent;

        protected override void ProcessRecord()
        {
            var path = GetUnresolvedProviderPathFromPSPath(Path);
            var disposables = new List<IDisposable>();
            try
            {
                var (plan, sha256) = PlanFile.Read(path);
                if (MyInvocation.BoundParameters.ContainsKey(nameof(TierPath)) && ResolveTierPath() != plan.Tier.Path)
                    throw SavedPlan.Invalid(path, $"it was computed from the tier '{plan.Tier.Path}', not from -TierPath '{ResolveTierPath()}'");
                var moved = new List<string>();
                if (ChangeJournal.HashOf(plan.Tier.Path) != plan.Tier.Sha256) moved.Add($"the tier file {plan.Tier.Path} changed");
                if (ChangeJournal.HashOf(plan.Identity.Path) != plan.Identity.Sha256) moved.Add($"the identity file {plan.Identity.Path} changed");
                if (moved.Count > 0) throw Stale(path, moved);

                var tier = TierLoader.Load(plan.Tier.Path);
                var prepared = plan.Steps.Select(step => Prepare(tier, step, path, moved, disposables)).ToList();
                if (moved.Count > 0) throw Stale(path, moved);

                foreach (var step in prepared.Where(p => p.Changes.HasChanges))
                {
                    if (!ShouldProcess(Describe(step.Server, step.Changes), Describe(step.Server, step.Changes), $"Apply the plan {path} on {step.Server}"))
                        continue;
                    var journal = OpenJournal(tier);
                    if (step.ApplyAndRecord != null)
                    {
                        step.ApplyAndRecord(journal, sha256);
                        continue;
                    }
                    object[] results;
                    try
                    {
                        results = step.Apply();
                    }
                    catch (DeevException ex)
                    {
                        Record(journal, tier, step.Changes, step.Server, "failed: " + ex.ErrorId, sha256);
                        WriteDeevError(ex);
                        continue;
                    }
                    Record(journal, tier, step.Changes, step.Server, step.Outcome, sha256);
                    WriteObject(results, true);
                }
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
            finally
            {
                foreach (var d in disposables) d.Dispose();
                ClosePool();
            }
        }

        /// <summary>
        /// Reads the step's server, compares it with the plan, and computes the change the saved entries make now. What
        /// moved is added to <paramref name="moved"/>; the step is returned ready to apply either way.
        /// </summary>
        private PreparedStep Prepare(SiteTier tier, PlanStep step, string path, List<string> moved, List<IDisposable> disposables)
        {
            try
            {
                switch (step.Service)
                {
                    case PlanStep.Dhcp:
                    {
                        var backend = DhcpBackendFactory.Create(tier, Pool, Log);
                        var batch = PlanSteps.DhcpBatchOf(step);
                        var now = RunAsync(token => backend.PlanAsync(batch, token));
                        Compare(step, backend.Server, PlanSteps.DhcpFingerprint(now.Existing), now.Plan, moved);
                        var names = (step.SetReservations ?? new List<SavedReservation>()).ToDictionary(r => r.ClientId, r => r.Name);
                        return new PreparedStep(backend.Server, now.Plan, () =>
                        {
                            var applied = RunAsync(token => backend.ApplyAsync(batch, token));
                            return applied.Plan.Changes.Where(c => c.Action != ChangeAction.Unchanged)
                                .Select(c => (object)new DhcpReservationChange(c, true, names.TryGetValue(c.Key, out var n) ? n : null)).ToArray();
                        });
                    }
                    case PlanStep.Dns:
                    {
                        var backend = DnsBackendFactory.Create(tier, Pool, Log, TimeSpan.FromSeconds(TimeoutSec));
                        disposables.Add(backend);
                        var now = RunAsync(token => backend.PlanAsync(PlanSteps.DnsBatchOf(step), token));
                        Compare(step, backend.Server, PlanSteps.DnsFingerprint(now.Current.Owned), now.Changes, moved);
                        return new PreparedStep(backend.Server, now.Changes, () =>
                        {
                            var watch = Stopwatch.StartNew();
                            var applied = RunAsync(token => backend.ApplyAsync(now, token));
                            return new object[] { new DnsSyncResult(backend.Server, now.Changes, true, applied.Restarted, watch.Elapsed, now.Skipped.Count) };
                        });
                    }
                    case PlanStep.Identity:
                    {
                        var resolver = new IdentityResolver(tier);
                        var allocation = resolver.PlanAllocation(step.Allocate ?? new List<string>(), prune: step.Remove?.Count > 0);
                        var changes = PlanSteps.IdentityChanges(allocation);
                        Compare(step, allocation.CompanionPath, step.Read, changes, moved);
                        return new PreparedStep(allocation.CompanionPath, changes, () =>
                        {
                            IdentityResolver.Apply(allocation);
                            var after = new IdentityResolver(tier);
                            return allocation.Added.Select(a => (object)after.Resolve(tier.FindHost(a.HostName)!)).ToArray();
                        });
                    }
                    case PlanStep.Vm:
                        return PrepareVms(tier, step, path, moved, disposables);
                    case PlanStep.Restore:
                        return PrepareRestore(tier, step, path, moved);
                    case PlanStep.Rebuild:
                        return PrepareRebuild(tier, step, path, moved);
                    default:
                        throw SavedPlan.Invalid(path, $"it has a step for the unknown service '{step.Service}'");
                }
            }
            catch (DeevException ex) when (ex is ReservationConflictException || ex.ErrorId == DnsErrors.RecordConflict || IsVmMove(ex))
            {
                // An entry someone else made since the plan was saved now clashes with it: that is what moved.
                moved.Add($"{step.Server}: {ex.Message}");
                return new PreparedStep(step.Server, new ChangePlan(step.Server, Array.Empty<PlannedChange>()), Array.Empty<object>);
            }
            catch (Exception ex) when (ex is FormatException || ex is ArgumentException)
            {
                throw SavedPlan.Invalid(path, $"the {step.Service} step for {step.Server} holds an entry that cannot be read ({ex.Message})");
            }
        }

        /// <summary>
        /// A <c>vm</c> step: re-reads each saved VM, plans it again from the tier (whose hash is unchanged, so the spec is
        /// the one planned) and compares. Applying builds (create or correct, then start, without waiting) or removes
        /// exactly the saved VMs, or starts or stops them; a first-boot host key asked for is made now, never read from the file.
        /// </summary>
        private PreparedStep PrepareVms(SiteTier tier, PlanStep step, string path, List<string> moved, List<IDisposable> disposables)
        {
            var hypervisor = tier.FindHypervisor(step.Server) ?? throw SavedPlan.Invalid(path, $"its vm step names the hypervisor '{step.Server}', which the tier does not have");
            var backend = VmBackendFactory.Create(tier, hypervisor, Pool, Log);
            disposables.Add(backend);
            var now = new VmStepBuilder(backend.Name);
            var applies = new List<Func<object?>>();
            foreach (var saved in step.Vms ?? new List<SavedVm>())
            {
                var read = RunAsync(ct => backend.GetAsync(saved.VmId, ct));
                try
                {
                    if (saved.Action == SavedVm.Build) applies.Add(PrepareBuild(tier, backend, saved, read, now));
                    else if (saved.Action == SavedVm.Remove) applies.Add(PrepareRemove(backend, saved, read, now));
                    else if (saved.Action == SavedVm.Start || saved.Action == SavedVm.Stop) applies.Add(PreparePower(backend, saved, read, now));
                    else throw SavedPlan.Invalid(path, $"its vm step has the unknown action '{saved.Action}' for {saved.Name}");
                }
                catch (DeevException ex) when (IsVmMove(ex))
                {
                    moved.Add($"{backend.Name}: {VmPlanSteps.EntryKey(saved.Name, saved.VmId)}: {ex.Message}");
                    now.Add(saved, Array.Empty<PlannedChange>(), read);
                }
            }
            Compare(step, backend.Name, now.Read, now.Changes, moved);
            return new PreparedStep(backend.Name, now.Changes, () => applies.Select(apply => apply()).Where(o => o != null).Select(o => o!).ToArray());
        }

        private Func<object?> PrepareBuild(SiteTier tier, IVmBackend backend, SavedVm saved, VmInfo? read, VmStepBuilder now)
        {
            var host = tier.FindHost(saved.Name) ?? throw VmErrors.Create(VmErrors.VmNotInTier, DeevErrorKind.InvalidData,
                $"The plan builds {saved.Name}, which is not a host of the tier {tier.SourcePath}.", saved.Name);
            var identity = new IdentityResolver(tier).Resolve(host);
            if (identity.VmId != saved.VmId || identity.MacAddress == null)
                throw VmErrors.Create(VmErrors.VmIdentityMismatch, DeevErrorKind.InvalidData,
                    $"{saved.Name}'s identity is VMID {identity.VmId}, not the plan's {saved.VmId}.", saved.Name);
            var spec = VmSpec.FromTier(tier, host, saved.VmId, identity.MacAddress);
            var reservations = spec.CloudInit.Dhcp && tier.Dhcp != null ? new VmReservationCheck(DhcpBackendFactory.Create(tier, Pool, Log), tier.SourcePath) : null;
            var provisioner = new VmProvisioner(backend, reservations);
            var plan = RunAsync(ct => provisioner.PlanAsync(spec, ct));
            now.Add(saved, plan.Changes, read);
            return () =>
            {
                if (saved.SeedHostKey == true) spec.FirstBootHostKey = FirstBootHostKey.Prepare(tier, host, backend, plan);
                var options = new VmBuildOptions { Wait = false, Restart = saved.Restart == true };
                var vm = RunAsync(ct => provisioner.BuildAsync(spec, plan, options, null, ct));
                if (vm.RestartRequired)
                    WriteWarning($"{saved.Name}: {string.Join(", ", vm.RestartPending)} take effect only after a restart; run New-DeevMgmtVm -Restart to reboot it.");
                return new MgmtVm(host.Name, saved.VmId, vm.MacAddress ?? identity.MacAddress, identity.IPAddress, host.Segment, identity.Fqdn,
                    tier.SourcePath, backend.Name, vm, true, VmProvisioner.Describe(plan));
            };
        }

        private Func<object?> PrepareRemove(IVmBackend backend, SavedVm saved, VmInfo? read, VmStepBuilder now)
        {
            // Only the VM the plan read, under its name: anything else there now differs from the fingerprint.
            var removes = read != null && read.Name == saved.Name && !read.IsTemplate;
            now.Add(saved, removes ? new[] { VmPlanSteps.RemoveLine(backend.Name, read!) } : Array.Empty<PlannedChange>(), read);
            return () =>
            {
                if (removes) RunAsync(ct => backend.RemoveAsync(saved.VmId, ct));
                return null;
            };
        }

        private Func<object?> PreparePower(IVmBackend backend, SavedVm saved, VmInfo? read, VmStepBuilder now)
        {
            var line = read != null && read.Name == saved.Name && !read.IsTemplate
                ? VmPlanSteps.StateLine(backend.Name, saved.VmId, saved.Name, read.State, saved.Action == SavedVm.Start ? "running" : "stopped")
                : null;
            now.Add(saved, line != null ? new[] { line } : Array.Empty<PlannedChange>(), read);
            return () =>
            {
                if (line?.Action == ChangeAction.Change)
                {
                    if (saved.Action == SavedVm.Start) RunAsync(ct => backend.StartAsync(saved.VmId, ct));
                    else RunAsync(ct => backend.StopAsync(saved.VmId, saved.Force == true, ct));
                }
                return null;
            };
        }

        /// <summary>
        /// A <c>restore</c> step: the pinned backup must still be in the store, authenticated, with the digests the plan
        /// pinned; the restore's lines are computed again and must be the saved ones. Applying restores exactly that
        /// backup (the restore checks the streamed bytes against the same seal), with the tier's age key.
        /// </summary>
        private PreparedStep PrepareRestore(SiteTier tier, PlanStep step, string path, List<string> moved)
        {
            var saved = step.RestoreOf ?? throw SavedPlan.Invalid(path, $"its restore step for {step.Server} says nothing about what to restore");
            var service = tier.Services.FirstOrDefault(s => s.Name == saved.Service) ?? throw SavedPlan.Invalid(path, $"it restores '{saved.Service}', which is not a service of the tier");
            var restorer = new BackupRestorer(tier, via => Pool.Get(via, tier.Access), Log, Progress);
            var backup = FindPinned(restorer.Catalog, saved.Service, saved.Backup, step.Server, moved);
            if (backup == null) return Nothing(step.Server);
            var target = new RestoreTarget(step.Server, saved.Root, saved.RunCommands);
            var changes = restorer.Plan(service, backup, target);
            Compare(step, changes.Target, step.Read, changes, moved);
            var prepared = new PreparedStep(changes.Target, changes, () => Array.Empty<object>());
            prepared.Restore = () =>
            {
                var key = IdentityFile != null ? GetUnresolvedProviderPathFromPSPath(IdentityFile) : null;
                var result = RunAsync(token => restorer.RestoreAsync(service, backup, target, token, key));
                prepared.Outcome = RestoreDeevServiceCommand.Outcome(result);
                foreach (var problem in RestoreDeevServiceCommand.Problems(result, service.Name)) WriteError(problem);
                return new object[] { result };
            };
            return prepared;
        }

        /// <summary>
        /// A <c>rebuild</c> step: the playbook file, the host's identity and the pinned backup must be as saved. Applying
        /// runs the class's playbook (script layer) with that backup pinned for its Restore step, and journals the rebuild
        /// as Invoke-DeevRebuild does, with the plan's SHA-256. Trusting a changed host key is never saved: a plan cannot
        /// carry -AcceptChangedHostKey.
        /// </summary>
        private PreparedStep PrepareRebuild(SiteTier tier, PlanStep step, string path, List<string> moved)
        {
            var saved = step.RebuildOf ?? throw SavedPlan.Invalid(path, $"its rebuild step for {step.Server} says nothing about what to rebuild");
            var service = tier.Services.FirstOrDefault(s => s.Name == saved.Service) ?? throw SavedPlan.Invalid(path, $"it rebuilds '{saved.Service}', which is not a service of the tier");
            var host = tier.FindHost(service.Host) ?? throw SavedPlan.Invalid(path, $"the host of '{saved.Service}' is not in the tier");
            var identity = new IdentityResolver(tier).Resolve(host);
            var now = new SavedHost { Name = host.Name, VmId = identity.VmId, MacAddress = identity.MacAddress, IPAddress = identity.IPAddress };
            moved.AddRange(RestorePlanSteps.Differences(saved.Host, now).Select(d => $"{step.Server}: {d}"));
            if (ChangeJournal.HashOf(saved.Playbook.Path) != saved.Playbook.Sha256) moved.Add($"{step.Server}: the playbook {saved.Playbook.Path} changed");
            if (saved.Backup != null)
                FindPinned(new BackupCatalog(tier, via => Pool.Get(via, tier.Access)), saved.Service, saved.Backup, step.Server, moved);
            else if (tier.Backup != null && !service.Backup.IsNone && service.Backup.Paths.Count > 0)
            {
                // Saved when the service had no good backup: one that appeared since was never reviewed.
                var appeared = RunAsync(token => new BackupCatalog(tier, via => Pool.Get(via, tier.Access)).NewestGoodAsync(service.Name, token));
                if (appeared != null) moved.Add($"{step.Server}: the backup {appeared.BackupName} appeared; the plan has no backup to restore");
            }
            var changes = new ChangePlan(step.Server, RestorePlanSteps.RebuildLines(saved, step.Changes.Select(c => c.After ?? "").ToList()).ToList());
            var prepared = new PreparedStep(step.Server, changes, () => Array.Empty<object>());
            prepared.ApplyAndRecord = (journal, sha256) => RunRebuild(tier, saved, journal, sha256);
            return prepared;
        }

        /// <summary>Runs the saved rebuild through the script layer, journalling it once, with the plan's hash, however it ends.</summary>
        private void RunRebuild(SiteTier tier, SavedRebuild saved, ChangeJournal? journal, string sha256)
        {
            var tally = new RebuildTally(saved.Service, saved.Host.Name);
            var parameters = new Hashtable
            {
                ["Service"] = new[] { saved.Service },
                ["TierPath"] = tier.SourcePath,
                ["Force"] = new SwitchParameter(saved.Force == true),
                ["PinnedBackup"] = saved.Backup == null ? null : new Hashtable { ["Name"] = saved.Backup.Name, ["Sha256"] = saved.Backup.ArchiveSha256 },
            };
            if (saved.PlaybookPath != null) parameters["PlaybookPath"] = saved.PlaybookPath.ToArray();
            try
            {
                ScriptLayer.RunWith(this, "Invoke-DeevRebuild", parameters, output =>
                {
                    var result = PSObject.AsPSObject(output);
                    tally.Add(result.Properties["Status"]?.Value as string, result.Properties["Step"]?.Value as string);
                    WriteObject(output);
                });
            }
            finally
            {
                if (!Stopping && tally.IsChange) Record(journal, tier, tally.ToChangePlan(), tally.HostName, tally.Result, sha256);
            }
        }

        /// <summary>The pinned backup as the store has it now, or null (what moved is added to <paramref name="moved"/>).</summary>
        private BackupInfo? FindPinned(BackupCatalog catalog, string service, SavedBackup pinned, string server, List<string> moved)
        {
            var all = RunAsync(token => catalog.ListAsync(service, token));
            var now = all.FirstOrDefault(b => b.BackupName == pinned.Name);
            var differences = RestorePlanSteps.Differences(pinned, now);
            moved.AddRange(differences.Select(d => $"{server}: {d}"));
            return differences.Count == 0 ? now : null;
        }

        private static PreparedStep Nothing(string server) => new PreparedStep(server, new ChangePlan(server, Array.Empty<PlannedChange>()), Array.Empty<object>);

        /// <summary>A VM refusal that means the hypervisor or the DHCP server moved since the plan was saved.</summary>
        private static bool IsVmMove(DeevException ex) =>
            ex.ErrorId == VmErrors.VmIdConflict || ex.ErrorId == VmErrors.VmNameConflict || ex.ErrorId == VmErrors.ReservationMissing;

        private static void Compare(PlanStep step, string server, PlanFingerprint now, ChangePlan changes, List<string> moved)
        {
            if (server != step.Server)
            {
                moved.Add($"the tier's {step.Service} server is now {server}, not {step.Server}");
                return;
            }
            moved.AddRange(step.Read.Differences(now).Select(d => $"{server}: {d}"));
            moved.AddRange(PlanSteps.Differences(step.Changes, changes).Select(d => $"{server}: {d}"));
        }

        private static DeevException Stale(string path, IReadOnlyList<string> moved) =>
            new DeevException(PlanErrors.Stale, DeevErrorKind.InvalidOperation,
                $"The plan '{path}' is stale; nothing was changed. Since it was saved:{Environment.NewLine}  " +
                string.Join(Environment.NewLine + "  ", moved.Distinct()), path)
            {
                RecommendedAction = "Save the plan again with -PlanPath, review it, and apply the new one.",
            };

        /// <summary>One step checked and ready: the changes it makes now (equal to the saved ones) and how to make them.</summary>
        private sealed class PreparedStep
        {
            private readonly Func<object[]> _apply;

            public PreparedStep(string server, ChangePlan changes, Func<object[]> apply)
            {
                Server = server;
                Changes = changes;
                _apply = apply;
            }

            public string Server { get; }
            public ChangePlan Changes { get; }
            public object[] Apply() => Restore != null ? Restore() : _apply();

            /// <summary>A restore's apply, which also sets <see cref="Outcome"/> from what the restore verified.</summary>
            public Func<object[]>? Restore { get; set; }

            /// <summary>What the journal records for an apply that did not throw.</summary>
            public string Outcome { get; set; } = "applied";

            /// <summary>A step that journals itself (a rebuild: one record per service, written however it ends).</summary>
            public Action<ChangeJournal?, string>? ApplyAndRecord { get; set; }
        }
    }
}
