using System;
using System.Collections.Generic;
using System.Management.Automation;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;

namespace Deevnet.Extended
{
    /// <summary>
    /// What the five VM cmdlets share: one back end per hypervisor for the whole pipeline (over the invocation's pool),
    /// resolving a tier host to its identity, and the output object.
    /// </summary>
    public abstract class VmCmdlet : TierCmdlet
    {
        private readonly Dictionary<string, IVmBackend> _backends = new Dictionary<string, IVmBackend>(StringComparer.Ordinal);
        /// <summary>The back end of <paramref name="hypervisor"/>, made once per tier and hypervisor for the pipeline.</summary>
        protected IVmBackend BackendFor(SiteTier tier, Hypervisor hypervisor)
        {
            var key = tier.SourcePath + "\n" + hypervisor.Name;
            if (!_backends.TryGetValue(key, out var backend))
            {
                backend = VmBackendFactory.Create(tier, hypervisor, Pool, Log);
                _backends[key] = backend;
            }
            return backend;
        }

        /// <summary>The host's identity; <c>VmIdentityMissing</c> when its VMID is not allocated yet.</summary>
        protected static HostIdentity RequireIdentity(SiteTier tier, MgmtHost host)
        {
            var identity = new IdentityResolver(tier).Resolve(host);
            if (identity.VmId == null || identity.MacAddress == null)
                throw VmErrors.Create(VmErrors.VmIdentityMissing, DeevErrorKind.ObjectNotFound,
                    $"{host.Name} has no VMID yet, so it has no MAC and no VM.", host.Name,
                    $"Allocate it first: New-DeevHostIdentity -Name {host.Name} -TierPath '{tier.SourcePath}'");
            return identity;
        }

        /// <summary>The tier host named <paramref name="name"/>, or a non-terminating <c>HostNotFound</c> and null.</summary>
        protected MgmtHost? FindHost(SiteTier tier, string name)
        {
            var host = tier.FindHost(name);
            if (host == null)
                WriteError(NewError("HostNotFound", ErrorCategory.ObjectNotFound, $"The tier '{tier.SourcePath}' has no host '{name}'.", name));
            return host;
        }

        protected static MgmtVm Output(SiteTier tier, MgmtHost host, HostIdentity identity, VmInfo? vm, string? changes = null) =>
            new MgmtVm(host.Name, identity.VmId ?? 0, vm?.MacAddress ?? identity.MacAddress, identity.IPAddress, host.Segment, identity.Fqdn,
                tier.SourcePath, host.Hypervisor ?? "", vm, true, changes);

        /// <summary>
        /// Applies a VM change and appends it to the tier's change journal: the journal is proven writable before
        /// <paramref name="apply"/> runs (an unwritable one stops the change unless -SkipJournal), and the record says
        /// <c>applied</c> or <c>failed: &lt;error id&gt;</c>. A plan without changes is applied without a record.
        /// </summary>
        protected T ApplyJournaled<T>(SiteTier tier, ChangePlan plan, Func<T> apply)
        {
            var journal = plan.HasChanges ? OpenJournal(tier) : null;
            T result;
            try
            {
                result = apply();
            }
            catch (DeevException ex)
            {
                Record(journal, tier, plan, plan.Target, "failed: " + ex.ErrorId);
                throw;
            }
            Record(journal, tier, plan, plan.Target, "applied");
            return result;
        }

        private readonly Dictionary<string, VmStepBuilder> _vmSteps = new Dictionary<string, VmStepBuilder>(StringComparer.Ordinal);

        /// <summary>
        /// <c>-PlanPath</c>: prints the VM's plan lines as -WhatIf would and adds the VM to the hypervisor's <c>vm</c>
        /// step of the saved plan, with <paramref name="read"/> (the VM as it is, null when absent) as its fingerprint.
        /// </summary>
        protected void SaveVmPlan(SiteTier tier, IVmBackend backend, SavedVm vm, ChangePlan plan, VmInfo? read)
        {
            foreach (var line in plan.Changes) PlanLine(line.ToString(), show: true);
            PlanLine($"{vm.Name} (VMID {vm.VmId}) on {backend.Name}: {plan.Summary}", show: true);
            var key = tier.SourcePath + "\n" + backend.Name;
            if (!_vmSteps.TryGetValue(key, out var step)) _vmSteps[key] = step = new VmStepBuilder(backend.Name);
            step.Add(vm, plan.Changes, read);
            SavePlanStep(tier, step.ToStep());
        }

        /// <summary>A one-line plan for a VM's power state (unchanged when it is already there), keyed by VMID like New-DeevMgmtVm's plan.</summary>
        protected static ChangePlan StatePlan(IVmBackend backend, int vmId, string name, string before, string after) =>
            new ChangePlan(backend.Name, new[] { VmPlanSteps.StateLine(backend.Name, vmId, name, before, after) });

        /// <summary>Runs per-item work; a Core failure becomes a non-terminating error with its stable id.</summary>
        protected void PerItem(Action work)
        {
            try
            {
                work();
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                foreach (var backend in _backends.Values) backend.Dispose();
                _backends.Clear();
            }
            base.Dispose(disposing);
        }
    }
}
