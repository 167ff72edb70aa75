namespace Deevnet.Extended.Core.Plans
{
    /// <summary>The stable error ids of saved plans (docs/errors.md).</summary>
    public static class PlanErrors
    {
        public const string Stale = "PlanStale";
        public const string Invalid = "PlanInvalid";
        public const string WriteFailed = "PlanWriteFailed";
    }
}
