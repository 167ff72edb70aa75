# Pester assertion for Test-DeevExtendedTier results:  Test-DeevExtendedTier | Should -PassDeevTier
#
# Dot-sourced by module/Deevnet.Extended.psm1. It registers the operator only when Pester 5+ is loaded (as it is
# inside Invoke-Pester, where test files import this module); importing the module without Pester adds nothing.

function Test-DeevTierAssertion {
    <#
    .SYNOPSIS
        Should operator: passes when the piped check results (or a -Summary object) contain no Failed check.
    .DESCRIPTION
        Fails with every failed check listed (group, check, target, detail). An empty input fails too: a
        verification that checked nothing has proved nothing. Warnings and skips do not fail it.
        With -Not it passes when at least one check failed (for tests that break a service on purpose).
    #>
    param($ActualValue, [switch] $Negate, [string] $Because)

    $items = @($ActualValue | Where-Object { $null -ne $_ })
    $results = @(foreach ($item in $items) {
            if ($item.PSObject.Properties['Failures'] -and $item.PSObject.Properties['Total']) { $item.Failures } else { $item }
        })
    $total = ($items | ForEach-Object { if ($_.PSObject.Properties['Total']) { $_.Total } else { 1 } } | Measure-Object -Sum).Sum
    $failed = @($results | Where-Object { "$($_.Status)" -eq 'Failed' })
    $because = if ($Because) { " because $($Because.TrimEnd('.'))" } else { '' }

    if (-not $Negate) {
        if ($total -eq 0) {
            return [pscustomobject]@{ Succeeded = $false; FailureMessage = "Expected tier check results to pass$because, but there were none (nothing was checked)." }
        }
        if ($failed.Count -eq 0) { return [pscustomobject]@{ Succeeded = $true; FailureMessage = $null } }
        $lines = foreach ($r in $failed) {
            $group = if ($r.Service) { "service $($r.Service)" } else { "host $($r.Host)" }
            "  - $group / $($r.Check) $($r.Target): $($r.Detail)"
        }
        $message = "Expected tier checks to pass$because, but $($failed.Count) of $total failed:`n" + ($lines -join "`n")
        return [pscustomobject]@{ Succeeded = $false; FailureMessage = $message }
    }
    if ($failed.Count -gt 0) { return [pscustomobject]@{ Succeeded = $true; FailureMessage = $null } }
    [pscustomobject]@{ Succeeded = $false; FailureMessage = "Expected at least one tier check to fail$because, but all $total passed, warned or were skipped." }
}

# Get-Module, not Get-Command: looking up a command that is not loaded makes PowerShell search every module on
# PSModulePath, which would slow down every import of this module outside Pester.
if (Get-Module -Name Pester) {
    try {
        Add-ShouldOperator -Name PassDeevTier -Test ${function:Test-DeevTierAssertion} -SupportsArrayInput -ErrorAction Stop
    }
    catch {
        # Already registered by an earlier import in this session (same definition): nothing to do.
        if ("$_" -notmatch 'already') { throw }
    }
}
