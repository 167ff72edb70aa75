using System;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Runs work that blocks for a stream's whole length (a synchronous pump, a producer paced by a full pipe) on a
    /// dedicated thread. On the thread pool such work starves it: it starts with one thread per core (two here), and
    /// every continuation — an SSH handshake, a timeout, a cancellation — then waits seconds for a thread to be added.
    /// </summary>
    internal static class OwnThread
    {
        public static Task Run(Action work) =>
            Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }
}
