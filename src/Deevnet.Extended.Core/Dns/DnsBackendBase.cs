using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>What every back end shares: planning through <see cref="DnsPlanner"/>, timing, and the rule that a
    /// plan with nothing to do touches nothing.</summary>
    public abstract class DnsBackendBase : IDnsBackend
    {
        protected DnsBackendBase(DnsBackendSettings settings)
        {
            Settings = settings;
        }

        protected DnsBackendSettings Settings { get; }
        protected IOperationLog Log => Settings.Log;
        public abstract string Kind { get; }
        public abstract string Server { get; }
        public string Zone => Settings.Zone;

        public abstract Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken);

        public virtual async Task<DnsPlan> PlanAsync(DnsBatch batch, CancellationToken cancellationToken)
        {
            foreach (var r in batch.Upserts.Concat(batch.Removals))
            {
                if (r.Type != DnsRecordType.PTR && !DnsRecord.IsInZone(r.Name, Zone))
                    throw DnsRecord.Invalid($"{r.Name} is outside the zone {Zone} that {Server} holds for the module.", r.Name);
            }
            var names = batch.Upserts.Concat(batch.Removals).Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();
            var current = await ReadAsync(names, cancellationToken).ConfigureAwait(false);
            var plan = DnsPlanner.Plan(Server, current, batch, CanHold);
            foreach (var s in plan.Skipped)
                Log.Verbose($"{Server}: skipping {s.Name} {s.Type}: the server has no zone for it.");
            return plan;
        }

        public async Task<DnsApplyResult> ApplyAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            if (!plan.HasChanges) return new DnsApplyResult(plan.Changes, false, watch.Elapsed);
            var restarted = await CommitAsync(plan, cancellationToken).ConfigureAwait(false);
            Log.Verbose($"{Server}: applied {plan.Changes.Summary} in {watch.Elapsed.TotalMilliseconds:0} ms.");
            return new DnsApplyResult(plan.Changes, restarted, watch.Elapsed);
        }

        /// <summary>Writes the plan as one transaction; returns true when the server had to restart.</summary>
        protected abstract Task<bool> CommitAsync(DnsPlan plan, CancellationToken cancellationToken);

        /// <summary>Whether this server can hold the record (PTRs need a served reverse zone).</summary>
        protected virtual bool CanHold(DnsRecord record) => true;

        public virtual void Dispose()
        {
        }

        /// <summary>Runs a command through the transport; a non-zero exit becomes <paramref name="errorId"/> with its stderr.</summary>
        protected async Task<CommandResult> RunCheckedAsync(IHostTransport transport, string commandLine, string what, string errorId,
            CancellationToken cancellationToken, string? input = null)
        {
            var result = await transport.RunAsync(commandLine, cancellationToken, input, Settings.Timeout).ConfigureAwait(false);
            if (!result.Succeeded)
                throw new DeevException(errorId, KindOf(errorId), $"{Server}: {what} failed (exit {result.ExitStatus}): {Trim(result.StandardError + " " + result.StandardOutput)}", Server);
            return result;
        }

        /// <summary>A module-owned file's content (null when missing); a failure to read it is <c>DnsServerUnreachable</c>.</summary>
        protected async Task<string?> ReadFileAsync(IHostTransport transport, string path, CancellationToken cancellationToken)
        {
            try
            {
                return await ManagedFile.ReadAsync(transport, path, cancellationToken).ConfigureAwait(false);
            }
            catch (DeevException ex) when (ex.ErrorId == "RemoteCommandFailed")
            {
                throw new DeevException(DnsErrors.ServerUnreachable, DeevErrorKind.ConnectionError, $"{Server}: cannot read {path}: {ex.Message}", Server, ex);
            }
        }

        /// <summary>The file transaction's limits for this server; <paramref name="alsoLock"/>: the daemon's pid file, shared with its DHCP writer.</summary>
        protected ManagedFileOptions FileOptions(string? alsoLock = null, string? rollbackReload = null) => new ManagedFileOptions
        {
            LockWait = TimeSpan.FromSeconds(30),
            CommandTimeout = Settings.Timeout + Settings.Timeout,
            AlsoLock = alsoLock == null ? Array.Empty<string>() : new[] { alsoLock },
            RollbackReloadCommand = rollbackReload,
        };

        /// <summary>Keys of owned records (name, type, value) for comparing what a plan was made from with what is there now.</summary>
        protected static HashSet<string> OwnedKeys(IEnumerable<DnsRecord> records) =>
            new HashSet<string>(records.Select(r => r.Key + " " + r.Value), StringComparer.Ordinal);

        protected static DeevErrorKind KindOf(string errorId) =>
            errorId == DnsErrors.ServerUnreachable ? DeevErrorKind.ConnectionError :
            errorId == DnsErrors.ValidationFailed || errorId == DnsErrors.UpdateRejected ? DeevErrorKind.InvalidData :
            errorId == DnsErrors.ConcurrentChange ? DeevErrorKind.ResourceUnavailable : DeevErrorKind.WriteError;

        protected static string Trim(string text)
        {
            var t = text.Trim().Replace('\n', ' ');
            return t.Length > 600 ? t.Substring(0, 600) + "…" : t;
        }

        /// <summary>Changes of a plan, for messages.</summary>
        protected static int CountChanges(DnsPlan plan) => plan.Changes.Changes.Count(c => c.Action != ChangeAction.Unchanged);
    }
}
