<#
.SYNOPSIS
    One timed rebuild drill on the lab: back up a service with data, destroy it completely, rebuild it, check it.
.DESCRIPTION
    For build.ps1 Demo (the lab must be running; hold /tmp/deevnet-lab.lock). Prints the time from "destroyed"
    to "all checks green" (goal: under 60 s) and returns an object with the timings. In the lab, a running libvirt
    test-driver domain is "booted" by a guest namespace with the VM's MAC (see tests/Pester/RebuildLab.ps1).
.PARAMETER Service
    The service to drill: jump (access), runner (automation) or metrics (observability). Default: metrics.
.EXAMPLE
    dotnet pwsh -File examples/Invoke-RebuildDrill.ps1 -Service jump
#>
param([ValidateSet('jump', 'runner', 'metrics')][string] $Service = 'metrics')
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '..')
Import-Module (Join-Path $root 'Deevnet.Extended.psd1')
. (Join-Path $root 'tests/Pester/Lab.ps1')
. (Join-Path $root 'tests/Pester/RebuildLab.ps1')
if (-not (Get-LabEnvironment)) { throw 'The lab is not running: tests/lab/lab.sh start' }

$tier = New-RebuildDrillTier
$boot = Start-RebuildLabBoot -TierPath $tier
$firstBuild = New-RebuildFirstBuildPlaybooks -Folder (Join-Path ([IO.Path]::GetTempPath()) "deev-first-build-$PID")
try {
    Write-Host "=== Drill: $Service"
    Invoke-DeevRebuild -Service $Service -TierPath $tier -PlaybookPath $firstBuild -Force -Confirm:$false | Out-Null
    Write-RebuildDrillData -Service $Service -TierPath $tier
    $data = Get-RebuildDrillData -Service $Service -TierPath $tier
    Backup-DeevService -Service $Service -TierPath $tier -Confirm:$false | Out-Null
    Write-Host "Backed up $($data.Count) files; destroying $Service (VM, reservation, DNS records, data)..."
    Remove-RebuildDrillService -Service $Service -TierPath $tier

    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    Invoke-DeevRebuild -Service $Service -TierPath $tier -Force -Confirm:$false | Format-Table | Out-Host
    $green = Test-DeevExtendedTier -Service $Service -TierPath $tier -Quiet
    $watch.Stop()
    $after = Get-RebuildDrillData -Service $Service -TierPath $tier
    $same = $after.Count -eq $data.Count -and -not @($data.Keys | Where-Object { $after[$_] -ne $data[$_] })
    Write-Host ("Rebuild drill {0}: destroyed -> all checks {1} in {2:0.0} s (goal < 60 s); data back byte for byte: {3}" -f
        $Service, $(if ($green) { 'green' } else { 'NOT green' }), $watch.Elapsed.TotalSeconds, $same)
    [pscustomobject]@{ Service = $Service; Seconds = [math]::Round($watch.Elapsed.TotalSeconds, 1); ChecksGreen = $green; DataIdentical = $same }
    if (-not ($green -and $same)) { exit 1 }
}
finally {
    Stop-RebuildLabBoot $boot
    Remove-Item -Recurse -Force $firstBuild -ErrorAction Ignore
}
