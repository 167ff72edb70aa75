function Invoke-DeevRebuild {
    # The body of the compiled Invoke-DeevRebuild (Commands/InvokeDeevRebuildCommand.cs; its help is
    # docs/cmdlets/Invoke-DeevRebuild.md), which passes its bound parameters, the piped object and itself as -Caller:
    # warnings and errors go out through the caller, so they are the cmdlet's own (-WarningVariable, error ids).
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Service')]
    [OutputType('Deevnet.Extended.RebuildStepResult')]
    param(
        [Parameter(ParameterSetName = 'Service')]
        [string[]] $Service,

        [Parameter(ParameterSetName = 'Class')]
        [string[]] $Class,

        [Parameter(ParameterSetName = 'All')]
        [switch] $All,

        [string] $TierPath = $env:DEEV_TIER,

        [string[]] $PlaybookPath,

        [switch] $AcceptChangedHostKey,

        [switch] $Force,

        # The compiled cmdlet's; the journal is its business.
        [switch] $SkipJournal,

        # Set: emit what each service's rebuild would run (a RebuildPlanEntry) instead of running it; the cmdlet saves it.
        [string] $PlanPath,

        # From a saved plan (Invoke-DeevPlan): the backup, by Name and archive Sha256, the Restore step must use.
        $PinnedBackup,

        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet] $Caller,

        $PipelineObject
    )

    process {
        try {
            $tierFile = Resolve-RebuildTierPath $TierPath
            # A host binds as a host everywhere: Get-DeevMgmtHost x | Invoke-DeevRebuild rebuilds that host's services
            # (its Name also reached -Service by property name, but it names a host, not a service).
            if ($Caller.ParameterSetName -eq 'Service' -and $PipelineObject -and $PipelineObject.PSObject.TypeNames -contains 'Deevnet.Extended.Core.Tier.MgmtHostInfo') {
                $Service = @(Get-DeevService -TierPath $tierFile -HostName $PipelineObject.Name -ErrorAction Stop | ForEach-Object Name)
                if ($Service.Count -eq 0) { $Caller.WriteWarning("Host $($PipelineObject.Name) runs no service of the tier; nothing to rebuild."); return }
            }
            $targets = @(Select-RebuildService -TierPath $tierFile -Service $Service -Class $Class -All:$All)
        }
        catch {
            $Caller.ThrowTerminatingError((New-RebuildError $_ 'RebuildTargetInvalid' 'InvalidArgument' ($Service + $Class -join ', ')))
        }
        if ($targets.Count -eq 0) {
            $Caller.WriteWarning("No service of the tier '$tierFile' matches; nothing to rebuild.")
            return
        }
        $serviceNumber = 0
        foreach ($target in $targets) {
            $serviceNumber++
            $overall = @{ Id = 1; Activity = 'Rebuilding the extended services tier'; Status = "Service $serviceNumber/$($targets.Count): $($target.Name)"; PercentComplete = 100 * ($serviceNumber - 1) / $targets.Count }
            Write-Progress @overall
            Invoke-RebuildService -ServiceInfo $target -TierPath $tierFile -PlaybookPath $PlaybookPath -Force:$Force -AcceptChangedHostKey:$AcceptChangedHostKey -Caller $Caller -PlanOnly:([bool]$PlanPath) -PinnedBackup $PinnedBackup
        }
        Write-Progress -Id 1 -Activity 'Rebuilding the extended services tier' -Completed
    }
}

function Invoke-RebuildService {
    # One service: context, scope checks, confirmation, then its playbook's steps in order.
    param($ServiceInfo, [string] $TierPath, [string[]] $PlaybookPath, [switch] $Force, [switch] $AcceptChangedHostKey, [System.Management.Automation.PSCmdlet] $Caller,
        [switch] $PlanOnly, $PinnedBackup)
    $whatIf = [bool]$WhatIfPreference
    try {
        $context = New-RebuildContext -ServiceInfo $ServiceInfo -TierPath $TierPath -WhatIf $whatIf -AcceptChangedHostKey $AcceptChangedHostKey -PinnedBackup $PinnedBackup
        Assert-RebuildTarget $context
        $playbook = Find-RebuildPlaybook -Class $context.Class -PlaybookPath $PlaybookPath
    }
    catch {
        $id = if ($_.FullyQualifiedErrorId -match '^(PlaybookNotFound|RebuildScopeViolation)') { $Matches[1] } else { 'RebuildTargetInvalid' }
        $Caller.ThrowTerminatingError((New-RebuildError $_ $id $_.CategoryInfo.Category $ServiceInfo.Name))
    }
    $target = "service '$($context.Service)' ($($context.Class)) on host $($context.HostName)"
    $steps = @($playbook.Steps)
    if ($PlanOnly) {
        # -PlanPath: what would run, for the cmdlet to save; no step is tested or run, nothing is asked.
        [pscustomobject]@{
            PSTypeName = 'Deevnet.Extended.RebuildPlanEntry'
            Service = $context.Service; Class = $context.Class; HostName = $context.HostName; IPAddress = $context.IPAddress
            MacAddress = $context.MacAddress; VmId = $context.VmId; PlaybookFile = $playbook.Path
            Steps = @($steps | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Description = $_.Description } })
        }
        return
    }

    if ($context.OtherServices.Count -gt 0) {
        $shared = "Host $($context.HostName) also holds $($context.OtherServices -join ', '): rebuilding '$($context.Service)' rebuilds that host, and those services go down and come back with it."
        $Caller.WriteWarning($shared)
        if (-not $whatIf -and -not $Force) {
            $confirmed = $false
            try { $confirmed = $Caller.ShouldContinue("$shared Continue?", "Rebuild shared host $($context.HostName)") }
            catch { Write-Verbose "Cannot ask for confirmation here ($($_.Exception.Message))." }
            if (-not $confirmed) {
                $exception = [System.OperationCanceledException]::new("Not rebuilding '$($context.Service)': its host $($context.HostName) also holds $($context.OtherServices -join ', ') and the rebuild was not confirmed.")
                $record = [System.Management.Automation.ErrorRecord]::new($exception, 'RebuildSharedHostNotConfirmed', 'OperationStopped', $context.Service)
                $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($exception.Message)
                $record.ErrorDetails.RecommendedAction = 'Confirm when asked, or pass -Force once you accept that the other services on the host are rebuilt too.'
                $Caller.WriteError($record)
                return
            }
        }
    }

    # One confirmation per service (the real target); under -WhatIf this prints the service line, then each step's.
    $approved = $Caller.ShouldProcess($target, "Rebuild with the $($playbook.Class) playbook ($($steps.Count) steps)")
    if (-not $approved -and -not $whatIf) { return }

    $number = 0
    foreach ($step in $steps) {
        $number++
        $label = "Step $number/$($steps.Count) $($step.Name)"
        Write-Progress -Id 2 -ParentId 1 -Activity "Rebuilding $target" -Status "$label`: $($step.Description)" -CurrentOperation 'checking whether it is done' -PercentComplete (100 * ($number - 1) / $steps.Count)
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $check = Test-RebuildStep $step $context
        if ($check.Passed) {
            New-RebuildResult $context $step 'Skipped' $watch.Elapsed $check.Detail
            continue
        }
        if ($whatIf) {
            $Caller.ShouldProcess($target, "$label`: $($step.Description)") | Out-Null
            $detail = 'would run'
            if ($step.Plan) {
                # The cmdlets the plan calls see $WhatIfPreference and print their own "What if" lines.
                try { $planned = @(& $step.Plan $context | Where-Object { $_ -is [string] }) -join '; '; if ($planned) { $detail = "would run: $planned" } }
                catch { $detail = "would run (no detailed plan before the earlier steps ran: $($_.Exception.Message))" }
            }
            New-RebuildResult $context $step 'WhatIf' $watch.Elapsed $detail
            continue
        }
        Write-Progress -Id 2 -ParentId 1 -Activity "Rebuilding $target" -Status "$label`: $($step.Description)" -CurrentOperation 'running' -PercentComplete (100 * ($number - 1) / $steps.Count)
        Write-Verbose "$($context.Service): $label`: $($step.Description)"
        $failure = $null
        try {
            $detail = Invoke-RebuildStepAction $step $context
            Update-RebuildContext $context   # a step may have allocated identity the next ones need
            $verify = Test-RebuildStep $step $context -AfterInvoke
            if (-not $verify.Passed) { $failure = "it ran, but its check still fails: $($verify.Detail)" }
        }
        catch {
            $failure = $_
        }
        if ($null -eq $failure) {
            New-RebuildResult $context $step 'Done' $watch.Elapsed $(if ($detail) { $detail } else { 'done and verified' })
            continue
        }
        $reason = if ($failure -is [System.Management.Automation.ErrorRecord]) { $failure.Exception.Message } else { [string]$failure }
        New-RebuildResult $context $step 'Failed' $watch.Elapsed $reason
        Write-Progress -Id 2 -ParentId 1 -Activity "Rebuilding $target" -Completed
        $message = "Rebuild of '$($context.Service)' stopped at $label ($($step.Description)): $reason"
        $exception = [System.InvalidOperationException]::new($message, $(if ($failure -is [System.Management.Automation.ErrorRecord]) { $failure.Exception }))
        # A scope violation and a host key the rebuild must not trust keep their own ids: scripts handle them apart.
        $id = if ($failure -is [System.Management.Automation.ErrorRecord] -and $failure.FullyQualifiedErrorId -match '^(RebuildScopeViolation|HostKeyMismatch)') { $Matches[1] } else { 'RebuildStepFailed' }
        $record = [System.Management.Automation.ErrorRecord]::new($exception, $id, $(if ($id -eq 'HostKeyMismatch') { 'SecurityError' } else { 'OperationStopped' }), $context.Service)
        $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($message)
        $record.ErrorDetails.RecommendedAction = "$($step.Advice) Then run Invoke-DeevRebuild -Service $($context.Service) again: the steps already done are verified and skipped."
        $Caller.ThrowTerminatingError($record)
    }
    Write-Progress -Id 2 -ParentId 1 -Activity "Rebuilding $target" -Completed
}

function New-RebuildError {
    # An ErrorRecord with a stable id from whatever was caught, keeping the original message and exception.
    param($Caught, [string] $Id, $Category, $Target)
    $exception = if ($Caught -is [System.Management.Automation.ErrorRecord]) { $Caught.Exception } else { [System.Exception]::new([string]$Caught) }
    $record = [System.Management.Automation.ErrorRecord]::new($exception, $Id, $Category, $Target)
    if ($Caught -is [System.Management.Automation.ErrorRecord] -and $Caught.ErrorDetails) { $record.ErrorDetails = $Caught.ErrorDetails }
    $record
}
