function Invoke-DeevRebuild {
    <#
    .SYNOPSIS
        Rebuilds extended-tier services from nothing by running their class's playbook, resuming where a previous run stopped.

    .DESCRIPTION
        Picks the playbook of each service's class (module/Playbooks/<Class>.ps1, or a -PlaybookPath folder) and runs
        its steps in order: identity, DHCP reservation, DNS records, VM, wait for SSH, post-install configuration,
        restore of the newest good backup, verification with Test-DeevExtendedTier, plus the class's own steps.

        Every step first runs its Test, which looks at the real systems: a step that is already done and correct is
        reported as Skipped ("verified") and not run again. No state file is kept or trusted, so a second run after a
        failure or an interruption simply continues, and a rebuild never depends on an earlier one having finished.
        After a step runs, its Test runs again: a step is Done only when it is verified.

        A failed step stops the rebuild with a terminating error (id RebuildStepFailed) that names the service and
        the step and says what to do. -WhatIf prints every step it would take (steps already done are listed as
        Skipped) and passes -WhatIf down to the cmdlets the steps call, so their own plans are printed too.

        A rebuild stays on the service's host: the host must be on a non-tenant segment, and a step whose output is
        about another host stops the rebuild (RebuildScopeViolation). When the host also holds other services, the
        rebuild says so and asks for confirmation (ShouldContinue), unless -Force is given.

        A rebuilt VM's SSH host key is never learnt from the network it is about to receive its backup over: the VM
        step hands the new VM a host key the module made (New-DeevMgmtVm -SeedHostKey: ed25519, in the cloud-init
        seed; the private key is never written on this machine) and records its public key in the tier's known_hosts
        as a marked first-boot line. A host that offers any other key — neither the recorded one nor the one handed
        in — stops the rebuild with HostKeyMismatch before anything is restored or configured, and the error shows
        every fingerprint. The first-boot line is removed once the host offers its lasting key (an access host's
        restored key, or the seeded key made lasting for the other classes). Proxmox VMs cannot be seeded yet: there
        the operator checks the key on the console and passes -AcceptChangedHostKey.

        -All rebuilds the whole tier in dependency order: access first (so the recovery paths come back first), then
        automation, then observability, then any class a user added.

        Emits one object per step: Service, Class, HostName, Step, Status (Done, Skipped, Failed, WhatIf), Duration,
        Detail.

    .PARAMETER Service
        Names of the services to rebuild, as in the tier's services section. Binds from the pipeline by property
        name (Service, Name), so Get-DeevService output can be piped in.

    .PARAMETER Class
        Rebuild every service of these classes (observability, automation, access, or a class with its own playbook).

    .PARAMETER All
        Rebuild every service of the tier, in dependency order: access, automation, observability, others.

    .PARAMETER TierPath
        The tier file. Default: $env:DEEV_TIER. Alias: Tier.

    .PARAMETER PlaybookPath
        Folders searched for <Class>.ps1 before the module's own module/Playbooks folder: add a playbook for a new
        class, or replace a built-in one, without touching the module.

    .PARAMETER AcceptChangedHostKey
        Trust the key a rebuilt host offers although it is neither the recorded key nor the first-boot key handed in
        through its seed (for this rebuild only, as a first-boot key). Pass it only after comparing the fingerprint in
        the HostKeyMismatch error with the VM's own key on its console.

    .PARAMETER Force
        Do not ask for confirmation when the service's host also holds other services.

    .PARAMETER WhatIf
        Print every step the rebuild would take, and the plans of the cmdlets those steps call, without changing anything.

    .PARAMETER Confirm
        Ask before rebuilding each service (the default, since the rebuild's impact is High). Use -Confirm:$false in scripts.

    .EXAMPLE
        Invoke-DeevRebuild -Service grafana -WhatIf

        Lists every step of grafana's rebuild, which of them are already done, and what the rest would change.

    .EXAMPLE
        Invoke-DeevRebuild -Service grafana -Confirm:$false

        Rebuilds grafana on its host; run it again after a failure and it continues from the step that failed.

    .EXAMPLE
        Invoke-DeevRebuild -All -TierPath ./mobile.tier.yaml -Force -Confirm:$false | Format-Table

        Rebuilds the whole tier, access services first, without prompting.

    .EXAMPLE
        Invoke-DeevRebuild -Service jump -AcceptChangedHostKey -Confirm:$false

        Continues a rebuild that stopped with HostKeyMismatch, after the operator checked on the VM's console that the
        fingerprint in the error is the new VM's own key.

    .OUTPUTS
        Deevnet.Extended.RebuildStepResult
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Service')]
    [OutputType('Deevnet.Extended.RebuildStepResult')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Service', ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [ValidateNotNullOrEmpty()]
        [ArgumentCompleter([Deevnet.Extended.Completers.ServiceNameCompleter])]
        [string[]] $Service,

        [Parameter(Mandatory, ParameterSetName = 'Class')]
        [ValidateNotNullOrEmpty()]
        [ArgumentCompleter([Deevnet.Extended.Completers.ServiceClassCompleter])]
        [string[]] $Class,

        [Parameter(Mandatory, ParameterSetName = 'All')]
        [switch] $All,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('Tier')]
        [string] $TierPath = $env:DEEV_TIER,

        [string[]] $PlaybookPath,

        [switch] $AcceptChangedHostKey,

        [switch] $Force
    )

    process {
        try {
            $tierFile = Resolve-RebuildTierPath $TierPath
            # A host binds as a host everywhere: Get-DeevMgmtHost x | Invoke-DeevRebuild rebuilds that host's services
            # (its Name also reached -Service by property name, but it names a host, not a service).
            if ($PSCmdlet.ParameterSetName -eq 'Service' -and $_ -and $_.PSObject.TypeNames -contains 'Deevnet.Extended.Core.Tier.MgmtHostInfo') {
                $Service = @(Get-DeevService -TierPath $tierFile -HostName $_.Name -ErrorAction Stop | ForEach-Object Name)
                if ($Service.Count -eq 0) { Write-Warning "Host $($_.Name) runs no service of the tier; nothing to rebuild."; return }
            }
            $targets = @(Select-RebuildService -TierPath $tierFile -Service $Service -Class $Class -All:$All)
        }
        catch {
            $PSCmdlet.ThrowTerminatingError((New-RebuildError $_ 'RebuildTargetInvalid' 'InvalidArgument' ($Service + $Class -join ', ')))
        }
        if ($targets.Count -eq 0) {
            Write-Warning "No service of the tier '$tierFile' matches; nothing to rebuild."
            return
        }
        $serviceNumber = 0
        foreach ($target in $targets) {
            $serviceNumber++
            $overall = @{ Id = 1; Activity = 'Rebuilding the extended services tier'; Status = "Service $serviceNumber/$($targets.Count): $($target.Name)"; PercentComplete = 100 * ($serviceNumber - 1) / $targets.Count }
            Write-Progress @overall
            Invoke-RebuildService -ServiceInfo $target -TierPath $tierFile -PlaybookPath $PlaybookPath -Force:$Force -AcceptChangedHostKey:$AcceptChangedHostKey -Cmdlet $PSCmdlet
        }
        Write-Progress -Id 1 -Activity 'Rebuilding the extended services tier' -Completed
    }
}

function Invoke-RebuildService {
    # One service: context, scope checks, confirmation, then its playbook's steps in order.
    param($ServiceInfo, [string] $TierPath, [string[]] $PlaybookPath, [switch] $Force, [switch] $AcceptChangedHostKey, [System.Management.Automation.PSCmdlet] $Cmdlet)
    $whatIf = [bool]$WhatIfPreference
    try {
        $context = New-RebuildContext -ServiceInfo $ServiceInfo -TierPath $TierPath -WhatIf $whatIf -AcceptChangedHostKey $AcceptChangedHostKey
        Assert-RebuildTarget $context
        $playbook = Find-RebuildPlaybook -Class $context.Class -PlaybookPath $PlaybookPath
    }
    catch {
        $id = if ($_.FullyQualifiedErrorId -match '^(PlaybookNotFound|RebuildScopeViolation)') { $Matches[1] } else { 'RebuildTargetInvalid' }
        $Cmdlet.ThrowTerminatingError((New-RebuildError $_ $id $_.CategoryInfo.Category $ServiceInfo.Name))
    }
    $target = "service '$($context.Service)' ($($context.Class)) on host $($context.HostName)"
    $steps = @($playbook.Steps)

    if ($context.OtherServices.Count -gt 0) {
        $shared = "Host $($context.HostName) also holds $($context.OtherServices -join ', '): rebuilding '$($context.Service)' rebuilds that host, and those services go down and come back with it."
        Write-Warning $shared
        if (-not $whatIf -and -not $Force) {
            $confirmed = $false
            try { $confirmed = $Cmdlet.ShouldContinue("$shared Continue?", "Rebuild shared host $($context.HostName)") }
            catch { Write-Verbose "Cannot ask for confirmation here ($($_.Exception.Message))." }
            if (-not $confirmed) {
                $exception = [System.OperationCanceledException]::new("Not rebuilding '$($context.Service)': its host $($context.HostName) also holds $($context.OtherServices -join ', ') and the rebuild was not confirmed.")
                $record = [System.Management.Automation.ErrorRecord]::new($exception, 'RebuildSharedHostNotConfirmed', 'OperationStopped', $context.Service)
                $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($exception.Message)
                $record.ErrorDetails.RecommendedAction = 'Confirm when asked, or pass -Force once you accept that the other services on the host are rebuilt too.'
                $Cmdlet.WriteError($record)
                return
            }
        }
    }

    # One confirmation per service (the real target); under -WhatIf this prints the service line, then each step's.
    $approved = $Cmdlet.ShouldProcess($target, "Rebuild with the $($playbook.Class) playbook ($($steps.Count) steps)")
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
            $Cmdlet.ShouldProcess($target, "$label`: $($step.Description)") | Out-Null
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
        $Cmdlet.ThrowTerminatingError($record)
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
