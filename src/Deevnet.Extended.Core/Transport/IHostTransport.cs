using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// A way to run commands and move bytes on one machine: <see cref="LocalTransport"/> or the SSH transport.
    /// Back ends are written against this interface only, so every back end works locally and over SSH.
    /// A transport is reused for every command of a pipeline and disposed at its end.
    /// </summary>
    public interface IHostTransport : IDisposable
    {
        /// <summary>Where commands run, as the tier names it.</summary>
        Via Via { get; }

        /// <summary>
        /// Runs <paramref name="commandLine"/> with <c>/bin/sh</c> on the machine. Build the line with
        /// <see cref="ShellQuote"/>: the transport does not quote. A non-zero exit status is a result, not an exception;
        /// a timeout is a <see cref="TransportException"/> with id <c>CommandTimeout</c>.
        /// </summary>
        Task<CommandResult> RunAsync(string commandLine, CancellationToken cancellationToken, string? standardInput = null, TimeSpan? timeout = null);

        /// <summary>
        /// Runs <paramref name="commandLine"/> and copies its standard output into <paramref name="standardOutput"/>
        /// as it arrives (for archives and other large outputs); stderr is collected and returned.
        /// </summary>
        Task<CommandResult> RunAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null);

        /// <summary>
        /// As the stream overload of <c>RunAsync</c>, for bulk data (archives): the command's output is flow-controlled,
        /// so however slowly <paramref name="standardOutput"/> takes it, only a bounded amount is ever held in memory, and
        /// a stalled transfer cannot stall other commands (over SSH it has a connection of its own).
        /// </summary>
        Task<CommandResult> StreamAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null) =>
            RunAsync(commandLine, standardOutput, cancellationToken, standardInput, timeout);
    }

    /// <summary>What a command did: exit status, standard output and standard error.</summary>
    public sealed class CommandResult
    {
        public CommandResult(int exitStatus, string standardOutput, string standardError, TimeSpan duration)
        {
            ExitStatus = exitStatus;
            StandardOutput = standardOutput;
            StandardError = standardError;
            Duration = duration;
        }

        public int ExitStatus { get; }
        public string StandardOutput { get; }
        public string StandardError { get; }
        public TimeSpan Duration { get; }
        public bool Succeeded => ExitStatus == 0;
    }
}
