using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Deevnet.Extended.Loading
{
    /// <summary>
    /// The script layer (module/Rebuild, module/Pester, which run the playbooks in module/Playbooks), loaded into a
    /// module of its own the first time a command needs it, once per runspace.
    /// <para>
    /// Why not a nested module in the manifest: loading it made every Import-Module about 250 ms slower, although most
    /// sessions and runbooks never rebuild anything. Its functions are reached only through the compiled
    /// Invoke-DeevRebuild and Get-DeevPlaybook, which are thin doors into it (<see cref="Run"/>).
    /// </para>
    /// </summary>
    internal static class ScriptLayer
    {
        private static readonly string Loader = Path.GetFullPath(Path.Combine(
            Path.GetDirectoryName(typeof(ScriptLayer).Assembly.Location) ?? ".", "..", "ScriptLayer.ps1"));

        // One script module per runspace: a module's session state belongs to the runspace that made it.
        private static readonly ConditionalWeakTable<Runspace, PSModuleInfo> Loaded = new ConditionalWeakTable<Runspace, PSModuleInfo>();

        // The parameters that belong to the outer cmdlet's own runtime; passed on, they would land in the wrong scope.
        private static readonly string[] OuterOnly = { "ErrorVariable", "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable" };

        // What the engine is binding for this record. A compiled cmdlet has no public access to its input object,
        // and Invoke-DeevRebuild must tell a piped host from a piped service (both bind -Name by property name).
        private static readonly PropertyInfo? PipelineObject =
            typeof(PSCmdlet).BaseType?.BaseType?.GetProperty("CurrentPipelineObject", BindingFlags.Instance | BindingFlags.NonPublic);

        // A text, not a shared ScriptBlock: invoking one in a module rebinds it, and runspaces may run side by side.
        private const string Forward =
            "param($command, $parameters, $output) & $command @parameters 2>&1 | ForEach-Object { " +
            "if ($_ -is [System.Management.Automation.ErrorRecord]) { $parameters.Caller.WriteError($_) } else { $output.Invoke($_) } }";

        /// <summary>The script module of this runspace, loaded now if it is not yet. Must run on the pipeline thread.</summary>
        internal static PSModuleInfo Get()
        {
            var runspace = Runspace.DefaultRunspace;
            lock (Loaded)
            {
                if (Loaded.TryGetValue(runspace, out var module)) return module;
                // An empty module that sees the global scope (the cmdlets), with the loader dot-sourced into its top
                // scope: the functions stay private to it.
                module = new PSModuleInfo(true);
                ScriptBlock.Create("param($module, $loader) . $module { . $args[0] } $loader").Invoke(module, Loader);
                Loaded.Add(runspace, module);
                return module;
            }
        }

        /// <summary>Forgets this runspace's script module, so the next import (Import-Module -Force) loads it afresh.</summary>
        internal static void Forget()
        {
            var runspace = Runspace.DefaultRunspace;
            if (runspace == null) return;
            lock (Loaded) Loaded.Remove(runspace);
        }

        /// <summary>The object the engine is binding for the current record, or null (no pipeline input, or a PowerShell without the member).</summary>
        internal static object? CurrentInput(PSCmdlet cmdlet) => PipelineObject?.GetValue(cmdlet);

        /// <summary>
        /// Runs the script layer's <paramref name="function"/> with the caller's bound parameters (its common parameters
        /// too, so -WhatIf, -Confirm, -Verbose and -ErrorAction act inside) plus <c>-Caller</c>, the compiled cmdlet,
        /// through which the script writes its output (through <paramref name="output"/> when given), warnings and errors
        /// and throws, so they are the caller's own.
        /// </summary>
        internal static void Run(PSCmdlet caller, string function, IDictionary? extra = null, Action<object>? output = null)
        {
            var parameters = new Hashtable(StringComparer.OrdinalIgnoreCase);
            foreach (var bound in caller.MyInvocation.BoundParameters)
                if (Array.IndexOf(OuterOnly, bound.Key) < 0) parameters[bound.Key] = bound.Value;
            if (extra != null) foreach (DictionaryEntry entry in extra) parameters[entry.Key] = entry.Value;
            parameters["Caller"] = caller;

            // Run inside the script module, where the name finds its function (outside, it is the cmdlet's). Each object
            // and each error of the commands the script calls goes out through the caller as it comes, so a long rebuild
            // streams its steps. (A steppable pipeline would stream by itself, but one made inside a script module runs
            // its function without the module's commands in reach.)
            Get().Invoke(ScriptBlock.Create(Forward), function, parameters, output ?? caller.WriteObject);
        }

        // The common parameters a caller running a function on someone else's behalf (Invoke-DeevPlan) passes on.
        private static readonly string[] Common = { "WhatIf", "Confirm", "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction" };

        /// <summary>
        /// Like <see cref="Run"/>, with <paramref name="parameters"/> instead of the caller's own (which belong to another
        /// command): of those, only the common parameters are passed on.
        /// </summary>
        internal static void RunWith(PSCmdlet caller, string function, IDictionary parameters, Action<object> output)
        {
            var all = new Hashtable(StringComparer.OrdinalIgnoreCase);
            foreach (var bound in caller.MyInvocation.BoundParameters)
                if (Array.IndexOf(Common, bound.Key) >= 0) all[bound.Key] = bound.Value;
            foreach (DictionaryEntry entry in parameters) all[entry.Key] = entry.Value;
            all["Caller"] = caller;
            Get().Invoke(ScriptBlock.Create(Forward), function, all, output);
        }
    }
}
