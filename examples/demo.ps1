<#
.SYNOPSIS
    The module's main job on the built-in lab, as an operator would see it.
.DESCRIPTION
    Run through `dotnet pwsh ./build.ps1 Demo` (which builds the module first), as root on Debian (its Bootstrap
    step installs the lab's packages, build/lab-packages.txt). It starts the lab (tests/lab/lab.sh), works from
    examples/lab.tier.yaml as the lab serves it, and shows: identities, DHCP reservations and DNS records synced, management VMs created on lab
    libvirt, lab guests (network namespaces carrying each VM's MAC) taking their reserved addresses by real DHCP,
    small services answering in the guests, Test-DeevExtendedTier all green, one service broken on purpose and the
    check that catches it, and a timed rebuild drill. The DHCP change goes through a saved plan (save, review,
    apply), the drift report follows the syncs, and the demo ends by printing its change journal. It stops the lab at the end, also when a step fails.
#>
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$labSh = Join-Path $root 'tests/lab/lab.sh'

function Write-Step([string] $Text) { Write-Host ''; Write-Host "=== $Text" -ForegroundColor Cyan }
function Show {
    # Tables as wide as they need to be: without a terminal, PowerShell would wrap them at 80 columns.
    param([Parameter(ValueFromPipeline)] $InputObject, [switch] $List, [switch] $DefaultView)
    begin { $items = [System.Collections.Generic.List[object]]::new() }
    process { $items.Add($InputObject) }
    end {
        $formatted = if ($DefaultView) { $items } elseif ($List) { $items | Format-List } else { $items | Format-Table -AutoSize }
        $formatted | Out-String -Width 220 | Write-Host
    }
}
function Invoke-Lab { & bash $labSh @args; if ($LASTEXITCODE -ne 0) { throw "lab.sh $($args -join ' ') failed (exit code $LASTEXITCODE)." } }
function Read-LabEnv([string] $LabRoot) {
    $values = @{}
    foreach ($line in Get-Content (Join-Path $LabRoot 'lab.env')) {
        if ($line -match '^([A-Z0-9_]+)=(.*)$') { $values[$Matches[1]] = $Matches[2].Trim("'", '"') }
    }
    $values
}

# --- What the demo needs, said plainly before anything starts.
$missing = @()
if ((& id -u) -ne '0') { $missing += 'root (the lab creates network namespaces): run it as root' }
foreach ($tool in 'ip', 'sshd', 'dnsmasq', 'kea-dhcp4', 'unbound', 'named', 'pdns_server', 'libvirtd', 'virsh', 'qemu-img', 'age', 'busybox', 'socat', 'dig', 'genisoimage') {
    if (-not (Get-Command $tool -ErrorAction Ignore) -and -not (Test-Path "/usr/sbin/$tool")) { $missing += "the command '$tool'" }
}
if ($missing) {
    Write-Host 'The demo cannot run on this machine. Missing:' -ForegroundColor Red
    $missing | ForEach-Object { Write-Host "  - $_" }
    Write-Host "Run it as root: 'dotnet pwsh ./build.ps1 Bootstrap' installs the lab's Debian packages (build/lab-packages.txt)."
    exit 2
}

Import-Module (Join-Path $root 'Deevnet.Extended.psd1') -Force
$labRoot = if ($env:DEEV_LAB_ROOT) { $env:DEEV_LAB_ROOT } else { '/run/deevnet-lab' }
& bash $labSh status *> $null
$startedLab = $LASTEXITCODE -ne 0
if ($startedLab) { Write-Step 'Starting the lab (real sshd, dnsmasq, Kea, Unbound, BIND, PowerDNS, libvirtd in network namespaces)'; Invoke-Lab start }
try {
    $lab = Read-LabEnv $labRoot
    # The lab's tier plus a change journal: the demo works from its own copy, beside the lab's, so every change it
    # makes is recorded and printed at the end. The lab tier's identities, if an earlier run allocated them, carry over.
    $env:DEEV_TIER = Join-Path $labRoot 'demo.tier.yaml'
    $journal = Join-Path $labRoot 'demo-changes.jsonl'
    Remove-Item -LiteralPath $journal -ErrorAction Ignore
    $tierText = (Get-Content -Raw -LiteralPath $lab.DEEV_LAB_TIER).TrimEnd() + "`n`n# Added by the demo: every change is recorded here.`njournal: $journal`n"
    Set-Content -LiteralPath $env:DEEV_TIER -Value $tierText -NoNewline
    $labIdentity = [Deevnet.Extended.Core.Identity.IdentityFile]::PathFor($lab.DEEV_LAB_TIER)
    $demoIdentity = [Deevnet.Extended.Core.Identity.IdentityFile]::PathFor($env:DEEV_TIER)
    if ((Test-Path -LiteralPath $labIdentity) -and -not (Test-Path -LiteralPath $demoIdentity)) { Copy-Item -LiteralPath $labIdentity -Destination $demoIdentity }
    Write-Host "Tier file: $env:DEEV_TIER (the lab's, with journal: $journal)"

    Write-Step 'The tier'
    Get-DeevTier | Show -List

    Write-Step 'Identity: allocate VMIDs for hosts without one (written to the companion file, never to the tier file)'
    New-DeevHostIdentity | Show
    Get-DeevHostIdentity | Show

    Write-Step 'DHCP reservations on dnsmasq, over SSH with strict host keys: the plan saved for review, then applied exactly as reviewed'
    $plan = Join-Path $labRoot 'demo-dhcp.plan.json'
    Sync-DeevDhcpReservation -PlanPath $plan
    Write-Host "The saved plan, as a reviewer reads (and diffs) it in a pull request: $plan"
    Get-Content -LiteralPath $plan | Out-Host
    Write-Host 'Invoke-DeevPlan: re-reads the tier, the identity file and the server; applies the plan only if nothing moved (else PlanStale)'
    Invoke-DeevPlan -Path $plan -Confirm:$false | Show
    Get-DeevDhcpReservation | Show

    Write-Step 'DNS records (A, PTR, CNAME) on dnsmasq'
    Sync-DeevDnsRecord | Show
    Get-DeevDnsRecord | Show

    Write-Step 'Drift: what differs from the tier on each DHCP and DNS server now (entries others made are shown, never touched)'
    Compare-DeevTier | Show
    Write-Host ('Nothing drifted: {0}' -f (Compare-DeevTier -Quiet))

    Write-Step 'Management VMs on lab libvirt (test driver): Get-DeevMgmtHost | New-DeevMgmtVm'
    Get-DeevMgmtHost | New-DeevMgmtVm -NoWait | Show
    $vms = @(Get-DeevMgmtVm)
    $vms | Show

    Write-Step 'The VMs boot: a guest namespace per VM, with the MAC libvirt reports, asks for an address by real DHCP'
    $hosts = @(Get-DeevMgmtHost)
    foreach ($h in $hosts) {
        $vm = $vms | Where-Object Name -EQ $h.Name
        $mac = if ($vm) { $vm.MacAddress } else { $h.MacAddress }
        if ($h.Segment -eq 'management') {
            Invoke-Lab guest add $h.Name --mac $mac --segment management | Out-Null
            $leased = (& bash $labSh guest dhcp $h.Name | Select-Object -Last 1)
            $verdict = if ($leased -eq $h.IPAddress) { 'reserved address taken' } else { 'WRONG ADDRESS' }
            '{0,-15} {1}  DHCP lease {2,-14} tier {3,-14} {4}' -f $h.Name, $mac, $leased, $h.IPAddress, $verdict | Out-Host
        }
        else {
            Invoke-Lab guest add $h.Name --mac $mac --segment $h.Segment --ip "$($h.IPAddress)/24" | Out-Null
            '{0,-15} {1}  static          {2,-14} (segment {3} is static: cloud-init sets it)' -f $h.Name, $mac, $h.IPAddress, $h.Segment | Out-Host
        }
    }

    Write-Step 'Small services answer in the guests (busybox httpd, sshd) with their data under each host''s folder'
    $hostsDir = Join-Path $labRoot 'hosts'
    foreach ($h in $hosts) { Invoke-Lab guest ssh $h.Name | Out-Null }
    $metrics = Join-Path $hostsDir 'dv99obs001v01/srv/metrics'
    New-Item -ItemType Directory -Force -Path $metrics | Out-Null
    Set-Content (Join-Path $metrics 'health') 'ok'
    Set-Content (Join-Path $metrics 'series.db') ('metric{host="dv99obs001v01"} 42' * 100)
    Invoke-Lab guest http dv99obs001v01 8080 $metrics | Out-Null
    $runner = Join-Path $hostsDir 'dv99aut001v01/srv/runner'
    New-Item -ItemType Directory -Force -Path $runner | Out-Null
    Set-Content (Join-Path $runner 'registration.token.ref') 'runner registered as dv99aut001v01'
    Invoke-Lab guest http dv99aut001v01 8081 $runner | Out-Null
    New-Item -ItemType Directory -Force -Path (Join-Path $hostsDir 'dv99acc001v01/etc/ssh') | Out-Null
    $docs = Join-Path $hostsDir 'dv99web001v01/srv/docs'
    New-Item -ItemType Directory -Force -Path $docs | Out-Null
    Set-Content (Join-Path $docs 'health') 'ok'
    Invoke-Lab guest http dv99web001v01 8080 $docs | Out-Null
    Invoke-Lab guest list | Out-Host

    Write-Step 'Backups: each service''s data, archived on its host, encrypted with age to the tier''s recipient'
    Backup-DeevService | Show
    Get-DeevBackup | Show
    Test-DeevBackup metrics | Show

    if (Get-Command Test-DeevExtendedTier -ErrorAction Ignore) {
        Write-Step 'Test-DeevExtendedTier: every rule of the tier, checked now'
        Test-DeevExtendedTier | Show -DefaultView
        Test-DeevExtendedTier -Summary | Show -List

        Write-Step 'Breaking one service on purpose: metrics loses its health endpoint'
        Rename-Item (Join-Path $metrics 'health') 'health.broken'
        Test-DeevExtendedTier -Service metrics | Where-Object Status -NE 'Passed' | Show -DefaultView
        Rename-Item (Join-Path $metrics 'health.broken') 'health'
        Write-Host 'Restored: ' -NoNewline
        Write-Host ("metrics all green again: {0}" -f (Test-DeevExtendedTier -Service metrics -Quiet))
    }

    $drill = Join-Path $root 'examples/Invoke-RebuildDrill.ps1'
    if (Test-Path $drill) {
        Write-Step 'Rebuild drill: destroy one service completely and rebuild it from the tier and its backup'
        & $drill -TierPath $env:DEEV_TIER -Service metrics | Show
    }

    Write-Step "The change journal: what the demo changed, when, by whom, from which tier file ($journal)"
    Get-DeevChange | Select-Object Time, Operator, @{ n = 'Server'; e = { ($_.Server -split ' ')[0] } }, Kind, Action, Key, After, Result,
        @{ n = 'Plan'; e = { if ($_.PlanSha256) { $_.PlanSha256.Substring(0, 12) } } } | Show
}
finally {
    if ($startedLab) { Write-Step 'Stopping the lab'; & bash $labSh stop }
}
