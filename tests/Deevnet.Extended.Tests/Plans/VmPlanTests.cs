using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Tests.Vm;
using Xunit;

namespace Deevnet.Extended.Tests.Plans
{
    /// <summary>The <c>vm</c> step of a saved plan against the Proxmox double: no secret in it, a fingerprint that sees every move.</summary>
    public class VmPlanTests
    {
        private const string Host = "dv20obs001v01";

        private static SavedPlan Document(PlanStep step)
        {
            var plan = new SavedPlan
            {
                Command = "New-DeevMgmtVm",
                Tier = new PlanSource { Path = "/srv/t.tier.yaml", Sha256 = new string('a', 64) },
                Identity = new PlanSource { Path = "/srv/t.identity.yaml", Sha256 = new string('b', 64) },
            };
            plan.Add(step);
            return plan;
        }

        /// <summary>The step New-DeevMgmtVm -PlanPath saves for <paramref name="spec"/>, read from the double now.</summary>
        private static async Task<VmStepBuilder> StepFor(ProxmoxFixture f, VmSpec spec, bool seedHostKey = false)
        {
            using var backend = f.Backend();
            var plan = await backend.PlanAsync(spec, CancellationToken.None);
            var read = await backend.GetAsync(spec.VmId, CancellationToken.None);
            var step = new VmStepBuilder(backend.Name);
            step.Add(new SavedVm { Action = SavedVm.Build, Name = spec.Name, VmId = spec.VmId, SeedHostKey = seedHostKey ? true : null }, plan.Changes, read);
            return step;
        }

        [Fact]
        public async Task A_vm_plan_holds_no_host_key_api_token_or_password()
        {
            using var f = new ProxmoxFixture(snippets: true);
            var spec = f.Spec(Host);
            var key = GeneratedHostKey.NewEd25519(Host);
            spec.FirstBootHostKey = key;   // even a spec that carries a key must not leak it into the plan

            var json = Document((await StepFor(f, spec, seedHostKey: true)).ToStep()).ToJson();

            Assert.Contains("\"seedHostKey\": true", json);
            Assert.DoesNotMatch("\"[A-Z][A-Za-z]*\":", json);   // only the format's camelCase names, no C# property leaked
            Assert.Contains("\"key\": \"301\"", json);
            Assert.DoesNotContain(PveDouble.Secret, json);
            Assert.DoesNotContain(PveDouble.TokenId, json);
            Assert.DoesNotContain(key.PrivateKeyPem.Trim().Split('\n')[1], json);
            Assert.DoesNotContain(key.PublicKey.Base64, json);
            Assert.DoesNotContain("PRIVATE KEY", json);
            Assert.DoesNotContain("password", json, System.StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("token", json, System.StringComparison.OrdinalIgnoreCase);
        }

        [Fact]
        public async Task A_vm_step_round_trips_byte_identical_and_names_its_vms()
        {
            using var f = new ProxmoxFixture();
            var json = Document((await StepFor(f, f.Spec(Host))).ToStep()).ToJson();
            var again = Document((await StepFor(f, f.Spec(Host))).ToStep()).ToJson();
            Assert.Equal(json, again);

            var parsed = SavedPlan.Parse(json, "plan.json");
            Assert.Equal(json, parsed.ToJson());
            var step = Assert.Single(parsed.Steps);
            Assert.Equal(PlanStep.Vm, step.Service);
            Assert.Equal("pve1", step.Server);
            var vm = Assert.Single(step.Vms!);
            Assert.Equal((SavedVm.Build, Host, 301), (vm.Action, vm.Name, vm.VmId));
            Assert.Contains(step.Changes, c => c.Kind == VmPlanning.VmKind && c.Action == "Add" && c.Key == "301");
            Assert.Empty(step.Read.Entries);
        }

        [Fact]
        public async Task The_fingerprint_sees_a_vm_created_reconfigured_restarted_or_removed_by_someone_else()
        {
            using var f = new ProxmoxFixture();
            var spec = f.Spec(Host);
            var absent = (await StepFor(f, spec)).ToStep();

            using (var backend = f.Backend()) await backend.ApplyAsync(spec, null, CancellationToken.None);
            var created = (await StepFor(f, spec)).ToStep();
            Assert.Equal(new[] { $"{Host} (VMID 301) appeared" }, absent.Read.Differences(created.Read));
            Assert.NotEmpty(PlanSteps.Differences(absent.Changes, (await StepFor(f, spec)).Changes));
            Assert.Empty(created.Read.Differences((await StepFor(f, spec)).ToStep().Read));

            var memory = f.Pve.Vms[301]["memory"];
            f.Pve.Vms[301]["memory"] = "8192";   // by hand, in the PVE UI
            Assert.Equal(new[] { $"{Host} (VMID 301) changed" }, created.Read.Differences((await StepFor(f, spec)).ToStep().Read));
            f.Pve.Vms[301]["memory"] = memory;
            var reverted = (await StepFor(f, spec)).ToStep();
            Assert.Empty(created.Read.Differences(reverted.Read));

            f.Pve.Status[301] = "running";
            Assert.Equal(new[] { $"{Host} (VMID 301) changed" }, created.Read.Differences((await StepFor(f, spec)).ToStep().Read));

            using (var backend = f.Backend()) await backend.RemoveAsync(301, CancellationToken.None);
            Assert.Equal(new[] { $"{Host} (VMID 301) is gone" }, created.Read.Differences((await StepFor(f, spec)).ToStep().Read));
        }

        [Fact]
        public async Task A_removal_line_names_the_vm_as_it_was_read()
        {
            using var f = new ProxmoxFixture();
            var spec = f.Spec(Host);
            using var backend = f.Backend();
            await backend.ApplyAsync(spec, null, CancellationToken.None);
            var vm = (await backend.GetAsync(301, CancellationToken.None))!;
            var line = VmPlanSteps.RemoveLine(backend.Name, vm);
            Assert.Equal($"Remove VM 301: {Host} (stopped, {vm.MacAddress}) -> (none)", line.ToString());
            var step = new VmStepBuilder(backend.Name);
            step.Add(new SavedVm { Action = SavedVm.Remove, Name = Host, VmId = 301 }, new[] { line }, vm);
            Assert.Equal(new[] { "Remove" }, step.ToStep().Changes.Select(c => c.Action));
            Assert.Equal(new[] { $"{Host} (VMID 301)" }, step.ToStep().Read.Entries.Keys);
        }
    }
}
