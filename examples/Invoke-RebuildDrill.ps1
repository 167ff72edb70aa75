<#
.SYNOPSIS
    One timed rebuild drill on the lab: back up a service with data, destroy it completely, rebuild it, check it.
.DESCRIPTION
    For build.ps1 Demo (the lab must be running; hold /tmp/deevnet-lab.lock). If the service already runs (as after
    the demo), its data is backed up as it is; otherwise it is built first and given data. Then it is destroyed (VM,
    guest, files, reservation, DNS records) and rebuilt with Invoke-DeevRebuild. Prints the time from "destroyed" to
    "all checks green" (goal: under 60 s) and returns an object with the timings; fails when the checks are not green
    or the data is not back byte for byte. In the lab, a running libvirt test-driver domain is "booted" by a guest
    namespace with the VM's MAC (see tests/Pester/RebuildLab.ps1).
.PARAMETER TierPath
    The tier the running lab serves (the demo passes $env:DEEV_TIER); the drill works on a copy of it with the
    configure commands a real tier has, and the same host identities. Default: the repository's examples/lab.tier.yaml.
.PARAMETER Service
    The service to drill: jump (access), runner (automation) or metrics (observability). Default: metrics.
.EXAMPLE
    dotnet pwsh -File examples/Invoke-RebuildDrill.ps1 -Service jump
#>
param([string] $TierPath, [ValidateSet('jump', 'runner', 'metrics')][string] $Service = 'metrics')
$ErrorActionPreference = 'Stop'
Set-StrictMode -Off   # the lab helpers are written without strict mode (the demo sets it)
$root = Resolve-Path (Join-Path $PSScriptRoot '..')
if (-not (Get-Module Deevnet.Extended)) { Import-Module (Join-Path $root 'Deevnet.Extended.psd1') }
. (Join-Path $root 'tests/Pester/Lab.ps1')
. (Join-Path $root 'tests/Pester/RebuildLab.ps1')
if (-not (Get-LabEnvironment)) { throw 'The lab is not running: tests/lab/lab.sh start' }

$tier = New-RebuildDrillTier -From $TierPath
$firstBuild = New-RebuildFirstBuildPlaybooks -Folder (Join-Path ([IO.Path]::GetTempPath()) "deev-first-build-$PID")
$boot = $null
$previousTimeout = $env:DEEV_REBUILD_BOOT_TIMEOUT
$env:DEEV_REBUILD_BOOT_TIMEOUT = '60'
try {
    Write-Host "=== Drill: $Service"
    if (-not (Test-DeevExtendedTier -Service $Service -TierPath $tier -Quiet)) {
        Write-Host "$Service does not run yet: building it first and giving it data."
        $boot = Start-RebuildLabBoot -TierPath $tier
        Invoke-DeevRebuild -Service $Service -TierPath $tier -PlaybookPath $firstBuild -Force -Confirm:$false | Out-Null
    }
    if ((Get-RebuildDrillData -Service $Service -TierPath $tier).Count -lt 2) { Write-RebuildDrillData -Service $Service -TierPath $tier }
    $data = Get-RebuildDrillData -Service $Service -TierPath $tier
    $backup = Backup-DeevService -Service $Service -TierPath $tier -Confirm:$false
    Write-Host "Backed up $($data.Count) files as $($backup.BackupName); destroying $Service (VM, guest, data, reservation, DNS records)..."
    Remove-RebuildDrillService -Service $Service -TierPath $tier
    # The boot stand-in starts after the destruction, so the demo's guest is deleted once, by the drill.
    if (-not $boot) { $boot = Start-RebuildLabBoot -TierPath $tier }

    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    Invoke-DeevRebuild -Service $Service -TierPath $tier -Force -Confirm:$false |
        Format-Table Step, Status, @{ n = 'Seconds'; e = { '{0,6:0.0}' -f $_.Duration.TotalSeconds } }, Detail -AutoSize | Out-String -Width 200 | Out-Host
    $green = Test-DeevExtendedTier -Service $Service -TierPath $tier -Quiet
    $watch.Stop()
    $after = Get-RebuildDrillData -Service $Service -TierPath $tier
    $same = $after.Count -eq $data.Count -and -not @($data.Keys | Where-Object { $after[$_] -ne $data[$_] })
    Write-Host ("Rebuild drill {0}: destroyed -> all checks {1} in {2:0.0} s (goal < 60 s); {3} files back byte for byte: {4}" -f
        $Service, $(if ($green) { 'green' } else { 'NOT green' }), $watch.Elapsed.TotalSeconds, $data.Count, $same)
    [pscustomobject]@{ Service = $Service; Seconds = [math]::Round($watch.Elapsed.TotalSeconds, 1); ChecksGreen = $green; DataIdentical = $same }
    if (-not ($green -and $same)) { throw "The rebuild drill of $Service failed: checks green $green, data identical $same." }
}
finally {
    Stop-RebuildLabBoot $boot
    Remove-Item -Recurse -Force $firstBuild -ErrorAction Ignore
    $env:DEEV_REBUILD_BOOT_TIMEOUT = $previousTimeout
}
