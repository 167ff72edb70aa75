using System;
using System.Collections;
using System.Management.Automation;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended
{
    /// <summary>
    /// A parameter checked by one of the Core rules (<see cref="NameRules"/>, <see cref="VmIdRules"/>,
    /// <see cref="PathRules"/>, <see cref="DurationRules"/>) while PowerShell binds it, from the command line or the
    /// pipeline: the refusal carries the rule's own words, which the tier loader uses with a line:col where PowerShell
    /// names the parameter. Arrays are checked element by element; null is left to the parameter's other attributes.
    /// </summary>
    public abstract class RuleAttribute : ValidateArgumentsAttribute
    {
        /// <summary>Why <paramref name="value"/> breaks the rule, or null.</summary>
        protected abstract string? WhyNot(object value);

        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var values = arguments is IEnumerable list && arguments is not string ? list : new[] { arguments };
            foreach (var item in values)
            {
                var value = item is PSObject ps ? ps.BaseObject : item;
                if (value == null) continue;
                if (WhyNot(value) is { } why) throw new ValidationMetadataException(SafeText.Printable(why) + ".");
            }
        }
    }

    /// <summary>A host, service, segment or hypervisor name (<see cref="NameRules"/>); case folds, as DNS does.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateDeevNameAttribute : RuleAttribute
    {
        /// <param name="what">What the name names, for the message: <c>host name</c>, <c>service name</c>, …</param>
        public ValidateDeevNameAttribute(string what = "name") => What = what;

        public string What { get; }

        /// <summary>The parameter takes wildcard patterns (<c>* ? [ ]</c>) over names.</summary>
        public bool Wildcards { get; set; }

        protected override string? WhyNot(object value)
        {
            var text = value.ToString() ?? "";
            var folded = text.ToLowerInvariant();
            var broken = Wildcards ? NameRules.WhyNotANamePattern(folded, What) : NameRules.WhyNotAName(folded, What);
            return broken == null ? null : Wildcards ? NameRules.WhyNotANamePattern(text, What) : NameRules.WhyNotAName(text, What);
        }
    }

    /// <summary>A VMID (<see cref="VmIdRules"/>).</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateDeevVmIdAttribute : RuleAttribute
    {
        protected override string? WhyNot(object value) => VmIdRules.WhyNotAVmId(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A plain absolute path on a server (<see cref="PathRules"/>).</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateDeevPathAttribute : RuleAttribute
    {
        protected override string? WhyNot(object value) => PathRules.WhyNotAnAbsolutePath(value.ToString() ?? "");
    }

    /// <summary>A <c>-TimeoutSec</c> inside <see cref="DurationRules.Timeout"/>, the bounds of the tier's timeouts.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateDeevTimeoutAttribute : RuleAttribute
    {
        protected override string? WhyNot(object value) =>
            DurationRules.WhyNot(TimeSpan.FromSeconds(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)), DurationRules.Timeout);
    }
}
