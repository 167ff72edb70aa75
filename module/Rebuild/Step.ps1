# Steps and step results: the two shapes every playbook and every rebuild deals in.

function New-RebuildStep {
    <#
    .SYNOPSIS
        Makes one named playbook step. Used by the scripts in module/Playbooks.
    .DESCRIPTION
        Test answers "is this already done, and correct?" by looking at the real systems (never at a state file);
        Invoke does it. Both get the rebuild context ($Rebuild: Service, Class, HostName, IPAddress, MacAddress,
        Segment, Fqdn, TierPath, ...) as their only argument. After Invoke, Verify (default: Test again) must pass for
        the step to count as done. Plan is optional: under -WhatIf it runs instead of
        Invoke, with $WhatIfPreference set, so the cmdlets it calls print their own plans. Advice says what to do
        when the step fails.
    #>
    [CmdletBinding()]
    [OutputType('Deevnet.Extended.RebuildStep')]
    param(
        [Parameter(Mandatory)][ValidatePattern('^[A-Za-z][A-Za-z0-9]*$')][string] $Name,
        [Parameter(Mandatory)][string] $Description,
        [Parameter(Mandatory)][scriptblock] $Test,
        [Parameter(Mandatory)][scriptblock] $Invoke,
        [scriptblock] $Plan,
        [scriptblock] $Verify,
        [string] $Advice = 'Read the error above, fix its cause.'
    )
    [pscustomobject]@{
        PSTypeName  = 'Deevnet.Extended.RebuildStep'
        Name        = $Name
        Description = $Description
        Test        = $Test
        Invoke      = $Invoke
        Plan        = $Plan
        Verify      = $(if ($Verify) { $Verify } else { $Test })
        Advice      = $Advice
    }
}

function New-RebuildResult {
    # One line of Invoke-DeevRebuild's output: what happened to one step of one service.
    param($Context, $Step, [ValidateSet('Done', 'Skipped', 'Failed', 'WhatIf')][string] $Status, [timespan] $Duration, [string] $Detail)
    [pscustomobject]@{
        PSTypeName = 'Deevnet.Extended.RebuildStepResult'
        Service    = $Context.Service
        Class      = $Context.Class
        HostName   = $Context.HostName
        Step       = $Step.Name
        Status     = $Status
        Duration   = $Duration
        Detail     = $Detail
    }
}

function Test-RebuildStep {
    # Runs a step's Test (or, with -AfterInvoke, its Verify). Passed only when it returned something and nothing it returned is false; an error means
    # "not done" (a Test must not throw for a missing VM, but if it does, the step simply runs).
    param($Step, $Context, [switch] $AfterInvoke)
    try {
        $ErrorActionPreference = 'Stop'
        $values = @(& $(if ($AfterInvoke) { $Step.Verify } else { $Step.Test }) $Context)
        $passed = $values.Count -gt 0 -and @($values | Where-Object { -not $_ }).Count -eq 0
        [pscustomobject]@{ Passed = $passed; Detail = $(if ($passed) { 'verified: already done' } else { 'not done yet' }) }
    }
    catch {
        [pscustomobject]@{ Passed = $false; Detail = "not done yet (check said: $($_.Exception.Message))" }
    }
}

function Invoke-RebuildStepAction {
    # Runs a step's Invoke with every error terminating. Strings it outputs become the result's Detail; objects are
    # checked against the rebuild's scope (they must be about the service's own host) and otherwise dropped.
    param($Step, $Context)
    $ErrorActionPreference = 'Stop'
    $output = @(& $Step.Invoke $Context)
    Assert-RebuildScope -Context $Context -Object $output -Step $Step.Name
    (@($output | Where-Object { $_ -is [string] }) -join '; ')
}
