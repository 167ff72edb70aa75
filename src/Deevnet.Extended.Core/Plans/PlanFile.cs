using System;
using System.IO;
using System.Text;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Plans
{
    /// <summary>Reads and writes plan files: written whole or not at all, read with the hash of the exact bytes.</summary>
    public static class PlanFile
    {
        /// <summary>Writes <paramref name="text"/> through a temporary file and a rename, so a reader never sees half a plan.</summary>
        public static void Write(string path, string text)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            var temp = Path.Combine(folder, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
            try
            {
                File.WriteAllText(temp, text, new UTF8Encoding(false));
                File.Move(temp, path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                try { File.Delete(temp); } catch (Exception cleanup) when (cleanup is IOException || cleanup is UnauthorizedAccessException) { }
                throw new DeevException(PlanErrors.WriteFailed, DeevErrorKind.WriteError, $"The plan '{path}' cannot be written ({ex.Message}); nothing was changed.", path, ex)
                {
                    RecommendedAction = "Give -PlanPath a file in a folder that exists and that you may write.",
                };
            }
        }

        /// <summary>The plan in <paramref name="path"/> and the SHA-256 of its bytes; <c>PlanInvalid</c> when it cannot be read or is no plan.</summary>
        public static (SavedPlan Plan, string Sha256) Read(string path)
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw SavedPlan.Invalid(path, $"it cannot be read ({ex.Message})");
            }
            return (SavedPlan.Parse(new UTF8Encoding(false).GetString(bytes), path), SavedPlan.HashOf(bytes));
        }
    }
}
