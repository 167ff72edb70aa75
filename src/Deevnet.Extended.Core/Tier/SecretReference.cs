using System;
using System.IO;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// Secrets are never values in a tier file: a key <c>&lt;name&gt;Env</c> names an environment variable,
    /// <c>&lt;name&gt;File</c> a file. This resolves them at the moment of use; callers must not log the result.
    /// </summary>
    public static class SecretReference
    {
        public static string? Resolve(BackendSpec spec, string name)
        {
            var env = spec.Get(name + "Env");
            if (env != null)
            {
                var value = Environment.GetEnvironmentVariable(env);
                if (string.IsNullOrEmpty(value))
                    throw new Errors.DeevException("SecretNotFound", Errors.DeevErrorKind.ObjectNotFound,
                        $"{spec.Section}.{name}Env names the environment variable '{env}', which is not set.", spec.Section);
                return value;
            }
            var file = spec.Get(name + "File");
            if (file != null)
            {
                try
                {
                    return File.ReadAllText(file).Trim();
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw new Errors.DeevException("SecretNotFound", Errors.DeevErrorKind.ObjectNotFound,
                        $"{spec.Section}.{name}File names '{file}', which cannot be read: {ex.Message}", spec.Section, ex);
                }
            }
            return null;
        }
    }
}
