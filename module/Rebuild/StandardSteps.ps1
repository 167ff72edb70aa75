# The steps every class shares, built from the module's cmdlets. Each one is scoped to the service's own host:
# it names that host (or its MAC, IP and FQDN) and nothing else, so a rebuild never reaches another host.
# A playbook picks them by name: Get-RebuildStandardStep Identity, DhcpReservation, DnsRecords, ...

function Get-RebuildStandardStep {
    <#
    .SYNOPSIS
        The shared rebuild steps, by name, for playbooks to compose.
    .DESCRIPTION
        Identity, DhcpReservation, DnsRecords, Vm, DataDisk, WaitForSsh, HostKey, Configure, Restore, Verify.
        -Description replaces the step's description (to say what it means for a class).
    #>
    [CmdletBinding()]
    [OutputType('Deevnet.Extended.RebuildStep')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateSet('Identity', 'DhcpReservation', 'DnsRecords', 'Vm', 'DataDisk', 'WaitForSsh', 'HostKey', 'Configure', 'Restore', 'Verify')]
        [string[]] $Name,
        [string] $Description
    )
    foreach ($stepName in $Name) {
        $step = & "Get-RebuildStep$stepName"
        if ($Description -and $Name.Count -eq 1) { $step.Description = $Description }
        $step
    }
}

function Get-RebuildStepIdentity {
    New-RebuildStep -Name Identity -Description 'The host has its VMID and the MAC derived from it (identity file beside the tier file).' `
        -Test { param($r) [bool]($r.VmId -and $r.MacAddress) } `
        -Invoke { param($r) New-DeevHostIdentity -Name $r.HostName -TierPath $r.TierPath | Out-Null; "VMID and MAC allocated for $($r.HostName)" } `
        -Plan { param($r) New-DeevHostIdentity -Name $r.HostName -TierPath $r.TierPath | Out-Null } `
        -Advice 'Check the VMID range in the tier (site.vmidRange) and that every hypervisor answers (Get-DeevMgmtVm).'
}

function Test-RebuildReservationSegment {
    # Hosts on static segments take their address from cloud-init: they have no reservation to make.
    param($r)
    "$($r.HostInfo.Addressing)" -eq 'Reservation'
}

function Get-RebuildStepDhcpReservation {
    New-RebuildStep -Name DhcpReservation -Description "The site's DHCP server reserves the host's address for its MAC (exactly one reservation)." `
        -Test {
            param($r)
            if (-not (Test-RebuildReservationSegment $r)) { return $true }
            $mine = @(Get-DeevDhcpReservation -ClientId $r.MacAddress -TierPath $r.TierPath)
            $onAddress = @(Get-DeevDhcpReservation -IPAddress $r.IPAddress -TierPath $r.TierPath)
            $mine.Count -eq 1 -and $mine[0].IPAddress -eq $r.IPAddress -and $onAddress.Count -eq 1
        } `
        -Invoke {
            param($r)
            Set-DeevDhcpReservation -ClientId $r.MacAddress -IPAddress $r.IPAddress -Name $r.HostName -Segment $r.Segment -TierPath $r.TierPath | Out-Null
            "reserved $($r.IPAddress) for $($r.MacAddress)"
        } `
        -Plan { param($r) if (Test-RebuildReservationSegment $r) { Set-DeevDhcpReservation -ClientId $r.MacAddress -IPAddress $r.IPAddress -Name $r.HostName -Segment $r.Segment -TierPath $r.TierPath | Out-Null } } `
        -Advice 'See the DHCP error above (Get-DeevDhcpReservation shows what the server holds; a reservation written by hand for this address must be removed by whoever wrote it).'
}

function Get-RebuildStepDnsRecords {
    New-RebuildStep -Name DnsRecords -Description "The host's A record (and PTR) and a CNAME for each of its service names are on the site's DNS server." `
        -Test { param($r) Test-RebuildDnsRecordSet $r } `
        -Invoke { param($r) Set-RebuildDnsRecordSet $r } `
        -Plan { param($r) Set-RebuildDnsRecordSet $r } `
        -Advice 'See the DNS error above; Get-DeevDnsRecord shows what the server holds.'
}

function Get-RebuildStepVm {
    New-RebuildStep -Name Vm -Description 'The management VM exists on its hypervisor with the host''s VMID, MAC and settings, and is running.' `
        -Test {
            param($r)
            $vm = @(Get-DeevMgmtVm -Name $r.HostName -TierPath $r.TierPath)
            $vm.Count -eq 1 -and $vm[0].State -eq 'running' -and $vm[0].MacAddress -eq $r.MacAddress
        } `
        -Invoke {
            param($r)
            # Waiting for the guest is a step of its own, so an interrupted boot resumes at the wait. A VM this creates
            # boots with a host key the module made and recorded as its first-boot key (-SeedHostKey).
            $vm = New-DeevMgmtVm -Name $r.HostName -TierPath $r.TierPath -NoWait -SeedHostKey
            "VM $($r.HostName) (VMID $($vm.VmId)): $($vm.Changes)"
        } `
        -Plan { param($r) New-DeevMgmtVm -Name $r.HostName -TierPath $r.TierPath -NoWait | Out-Null } `
        -Advice 'See the hypervisor error above (Get-DeevMgmtVm shows the VM as the hypervisor sees it).'
}

function Get-RebuildStepDataDisk {
    New-RebuildStep -Name DataDisk -Description 'The VM has its data disk (found by serial), the size the tier asks for.' `
        -Test {
            param($r)
            $disk = $r.HostInfo.Host.DataDisk
            if (-not $disk) { return $true }
            $vm = Get-DeevMgmtVm -Name $r.HostName -TierPath $r.TierPath | Select-Object -First 1
            $found = if ($vm -and $vm.Vm) { $vm.Vm.FindDiskBySerial($disk.Serial) }
            [bool]($found -and $found.SizeGb -ge $disk.SizeGb)
        } `
        -Invoke { param($r) New-DeevMgmtVm -Name $r.HostName -TierPath $r.TierPath -NoWait | Out-Null; "data disk $($r.HostInfo.Host.DataDisk.Serial) present" } `
        -Advice 'Check the hypervisor''s storage (hypervisors.<name>.storage / imageDir) has room for the data disk.'
}

function Get-RebuildStepWaitForSsh {
    New-RebuildStep -Name WaitForSsh -Description 'The booted VM answers on SSH at its reserved address.' `
        -Test { param($r) Test-RebuildHostAnswers $r } `
        -Invoke {
            param($r)
            Wait-RebuildHost $r -TimeoutSec $(if ($env:DEEV_REBUILD_BOOT_TIMEOUT) { [int]$env:DEEV_REBUILD_BOOT_TIMEOUT } else { 600 })
            "$($r.HostName) answers on SSH"
        } `
        -Advice 'Look at the VM''s console: did it boot, and did it take its reserved address (Get-DeevDhcpReservation)? DEEV_REBUILD_BOOT_TIMEOUT sets the wait in seconds (default 600).'
}

function Get-RebuildStepHostKey {
    New-RebuildStep -Name HostKey -Description 'The module trusts the host''s SSH key: the new VM offers the key the rebuild handed in through its seed, now recorded as its lasting key; any other key stops the rebuild.' `
        -Test {
            param($r)
            $report = Get-RebuildHostKey $r
            $report.Status.ToString() -eq 'Known' -and -not $report.IsFirstBootKey -and $report.FirstBootFingerprints.Count -eq 0
        } `
        -Invoke {
            param($r)
            $report = Assert-RebuildHostKeyTrusted $r (Get-RebuildHostKey $r)
            # The key came over a trusted channel (the seed) or the operator's explicit word: it becomes the host's
            # lasting key, replacing the destroyed VM's, and the temporary first-boot line goes.
            if ($report.IsFirstBootKey) { Get-RebuildHostKey $r -Add -Force | Out-Null }
            Remove-DeevHostKey -HostName $r.HostName -TierPath $r.TierPath -FirstBoot -Confirm:$false -ErrorAction Stop
            "trusting $($report.KeyType) $($report.Fingerprint) as the host's key"
        } `
        -Advice 'If the VM was built without a seeded key, check its key on its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and run Invoke-DeevRebuild again with -AcceptChangedHostKey.'
}

function Get-RebuildStepConfigure {
    New-RebuildStep -Name Configure -Description 'The tier''s post-install configuration for the service runs on the builder (configure commands; skipped when the service already passes its checks).' `
        -Test {
            param($r)
            if ($r.Configure.Count -eq 0) { return $true }
            # Configuration is proven by its effect: the service's declared checks pass.
            Test-RebuildServiceChecks $r
        } `
        -Invoke {
            param($r)
            foreach ($command in $r.Configure) { Invoke-RebuildConfigureCommand -Context $r -Command $command }
            "$($r.Configure.Count) configure command(s) ran"
        } `
        -Verify {
            # Every command exited 0 (Invoke throws otherwise). The checks may still need the restored data, so
            # proving the service answers is left to Verify; on a later run the checks are what skip this step.
            param($r) $true
        } `
        -Plan { param($r) foreach ($command in $r.Configure) { "configure: $command" } } `
        -Advice 'The configure command''s output is shown above; fix the command or what it needs, and keep it idempotent (it runs again until the service answers).'
}

function Get-RebuildStepRestore {
    New-RebuildStep -Name Restore -Description 'The newest good backup of the service is restored on the host and matches its manifest byte for byte.' `
        -Test { param($r) Test-RebuildRestored $r } `
        -Invoke { param($r) Restore-RebuildNewestBackup $r } `
        -Plan { param($r) Restore-RebuildNewestBackup $r } `
        -Advice 'Get-DeevBackup -Service <service> lists the backups and Test-DeevBackup checks them; a service without a good backup cannot be restored.'
}

function Get-RebuildStepVerify {
    New-RebuildStep -Name Verify -Description 'Test-DeevExtendedTier passes for the service: every declared and derived check is green.' `
        -Test { param($r) Test-RebuildServiceChecks $r } `
        -Invoke { param($r) Wait-RebuildServiceChecks $r -TimeoutSec 60 } `
        -Advice 'Test-DeevExtendedTier -Service <service> shows which checks fail and why.'
}

function Test-RebuildServiceChecks {
    param($r)
    [bool](Test-DeevExtendedTier -Service $r.Service -TierPath $r.TierPath -Quiet)
}

function Wait-RebuildServiceChecks {
    # Services take a moment to come up after configuration or a restore: retry the checks for a while, then report
    # the ones still failing.
    param($r, [int] $TimeoutSec = 60)
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        $results = @(Test-DeevExtendedTier -Service $r.Service -TierPath $r.TierPath)
        $failed = @($results | Where-Object { $_.Status.ToString() -eq 'Failed' })
        if ($failed.Count -eq 0) { return "$($results.Count) checks passed" }
        if ($watch.Elapsed.TotalSeconds -ge $TimeoutSec) {
            throw "$($failed.Count) of $($results.Count) checks of '$($r.Service)' still fail after $TimeoutSec s: " + (($failed | ForEach-Object { "$($_.Check) $($_.Target): $($_.Detail)" }) -join '; ')
        }
        Start-Sleep -Milliseconds 500
    }
}
