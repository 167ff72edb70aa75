using System;
using System.Linq;

namespace Deevnet.Extended.Tests.Repeat
{
    /// <summary>
    /// The test assembly's own entry point (`dotnet test` does not use it; it loads the assembly into its test host).
    /// `dotnet Deevnet.Extended.Tests.dll --repeat 20 --filter "Backup|Transport"` runs the matching tests 20 times
    /// in this one process; `build.ps1 Test -Repeat N` and `build.ps1 Soak -Repeat N` call it.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            var count = Option(args, "--repeat");
            var filter = Option(args, "--filter");
            if (count == null || !int.TryParse(count, out var n) || n < 1 || n > 1000 || string.IsNullOrWhiteSpace(filter))
            {
                Console.Error.WriteLine("usage: dotnet Deevnet.Extended.Tests.dll --repeat <1..1000> --filter <name part>[|<name part>...]");
                return 2;
            }
            var filters = filter.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return RepeatRunner.Run(n, filters);
        }

        private static string? Option(string[] args, string name)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        }
    }
}
