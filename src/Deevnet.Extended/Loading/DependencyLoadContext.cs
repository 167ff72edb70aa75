using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Threading;
using System.Management.Automation;

namespace Deevnet.Extended.Loading
{
    /// <summary>
    /// Keeps the module's dependencies (Core, YamlDotNet, SSH.NET, BouncyCastle, DnsClient) out of the session's default
    /// load context, so a session that already loaded another version of one of them (powershell-yaml brings its own
    /// YamlDotNet, Posh-SSH its own SSH.NET) can still import this module, and this module cannot break theirs.
    /// <para>
    /// The pattern PowerShell's documentation gives for binary modules: this assembly (the cmdlets) loads in the
    /// default context and references only Core and PowerShell. The dependencies live in <c>module/bin/deps</c>, where
    /// the default context never looks; when it cannot find Core, <see cref="Register"/>'s handler hands it the Core
    /// loaded here, and everything Core needs is then resolved by this context from that folder first.
    /// </para>
    /// </summary>
    internal sealed class DependencyLoadContext : AssemblyLoadContext
    {
        private const string CoreName = "Deevnet.Extended.Core";
        private static readonly string Folder = Path.Combine(Path.GetDirectoryName(typeof(DependencyLoadContext).Assembly.Location) ?? ".", "deps");
        private static readonly DependencyLoadContext Instance = new DependencyLoadContext();

        private DependencyLoadContext() : base("Deevnet.Extended dependencies") { }

        private static int _registered;

        /// <summary>
        /// Hooks the default context once. Called by PowerShell at import (<see cref="ModuleImport"/>), because
        /// Get-Command reads the cmdlets' attributes (which name Core types) by reflection alone, and reflection never
        /// runs a module initializer; and by the module initializer, for a host that loads this assembly otherwise.
        /// </summary>
#pragma warning disable CA2255 // a module initializer in a library is exactly what an isolated binary module needs
        [ModuleInitializer]
        internal static void Register()
        {
            // Only outside tests and tools that put every assembly in one folder (the xunit run) is there a deps folder.
            if (!Directory.Exists(Folder) || Interlocked.Exchange(ref _registered, 1) == 1) return;
            Default.Resolving += (_, name) => name.Name == CoreName ? Instance.LoadFromAssemblyName(name) : null;
        }
#pragma warning restore CA2255

        /// <summary>Core as the cmdlets will see it: from this context when the module runs isolated, else null.</summary>
        internal static Assembly? LoadCore() =>
            Directory.Exists(Folder) ? Instance.LoadFromAssemblyName(new AssemblyName(CoreName)) : null;

        /// <summary>A dependency from the deps folder; anything else (the framework, PowerShell) from the default context.</summary>
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var path = Path.Combine(Folder, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }

    /// <summary>
    /// PowerShell calls <see cref="OnImport"/> when the module is imported, before any command is looked at, and
    /// <see cref="OnRemove"/> when it is removed.
    /// <para>
    /// PowerShell resolves a type literal (<c>[Deevnet.Extended.Core.Checks.CheckResult]</c>) only among assemblies of the
    /// default load context, so Core's public types would be out of reach of scripts and Pester tests. Each is therefore
    /// registered as a type accelerator under its own full name: a literal resolves to the very type the cmdlets use.
    /// </para>
    /// </summary>
    public sealed class ModuleImport : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly List<string> Accelerators = new List<string>();

        public void OnImport()
        {
            DependencyLoadContext.Register();
            // Should -PassDeevTier is registered by the script layer, which is otherwise loaded on first use only:
            // inside a Pester run (Pester's assembly is loaded) it is loaded now, so the operator exists before any test.
            if (AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Pester")) ScriptLayer.Get();
            var core = DependencyLoadContext.LoadCore();
            if (core == null) return;
            var table = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");
            var add = table?.GetMethod("Add", new[] { typeof(string), typeof(Type) });
            if (add == null) return;   // a PowerShell without the table: literals stay unavailable, cmdlets still work
            lock (Accelerators)
            {
                foreach (var type in core.GetExportedTypes().Where(t => t.FullName != null && !t.IsGenericTypeDefinition))
                {
                    add.Invoke(null, new object[] { type.FullName!, type });
                    Accelerators.Add(type.FullName!);
                }
            }
        }

        public void OnRemove(PSModuleInfo module)
        {
            ScriptLayer.Forget();
            var remove = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators")?.GetMethod("Remove", new[] { typeof(string) });
            lock (Accelerators)
            {
                if (remove != null) foreach (var name in Accelerators) remove.Invoke(null, new object[] { name });
                Accelerators.Clear();
            }
        }
    }
}
