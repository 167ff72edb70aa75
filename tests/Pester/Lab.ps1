# Helpers for Pester tests that use the lab (tests/lab/lab.sh). Dot-source it:
#   BeforeDiscovery { . (Join-Path $PSScriptRoot 'Lab.ps1'); $script:LabUp = Assert-LabRunning }
#   Describe 'DHCP on dnsmasq' -Skip:(-not $LabUp) { ... }
# With CI=true a missing lab is an error (Assert-LabRunning throws), never a silent skip.

function Get-LabRoot {
    if ($env:DEEV_LAB_ROOT) { $env:DEEV_LAB_ROOT } else { '/run/deevnet-lab' }
}

# The running lab's lab.env as a hashtable (DEEV_LAB_* keys), or $null when no lab is running.
function Get-LabEnvironment {
    $file = Join-Path (Get-LabRoot) 'lab.env'
    if (-not (Test-Path -LiteralPath $file)) { return $null }
    $values = @{}
    foreach ($raw in Get-Content -LiteralPath $file) {
        $line = $raw.Trim()
        if ($line -eq '' -or $line.StartsWith('#')) { continue }
        if ($line.StartsWith('export ')) { $line = $line.Substring(7) }
        $eq = $line.IndexOf('=')
        if ($eq -le 0) { continue }
        $value = $line.Substring($eq + 1)
        if ($value.Length -ge 2 -and ($value[0] -eq "'" -or $value[0] -eq '"') -and $value[-1] -eq $value[0]) {
            $value = $value.Substring(1, $value.Length - 2)
        }
        $values[$line.Substring(0, $eq)] = $value
    }
    $values
}

# Why no lab is running: the reason lab.sh start recorded, or that it was never started.
function Get-LabNotRunningReason {
    $errorFile = Join-Path (Get-LabRoot) 'lab.error'
    if (Test-Path -LiteralPath $errorFile) { (Get-Content -LiteralPath $errorFile -Raw).Trim() }
    else { "no $(Join-Path (Get-LabRoot) 'lab.env'): start it with 'tests/lab/lab.sh start' (as root)" }
}

# $true when the lab runs. Without it: throws the reason when CI=true, else warns and returns $false (for -Skip).
function Assert-LabRunning {
    if ($null -ne (Get-LabEnvironment)) { return $true }
    $reason = 'The lab is not running: ' + (Get-LabNotRunningReason)
    if ($env:CI -eq 'true') { throw $reason }
    Write-Warning "LAB NOT RUNNING - $reason"
    $false
}

# Runs lab.sh with the given arguments; returns its stdout lines, throws with its stderr when it fails.
function Invoke-LabSh {
    param([Parameter(Mandatory, Position = 0)][string[]] $ArgumentList)
    $lab = Get-LabEnvironment
    if ($null -eq $lab) { throw 'The lab is not running: ' + (Get-LabNotRunningReason) }
    $errFile = [IO.Path]::GetTempFileName()
    try {
        $out = & $lab.DEEV_LAB_LAB_SH @ArgumentList 2>$errFile
        if ($LASTEXITCODE -ne 0) {
            throw "lab.sh $($ArgumentList -join ' ') failed (exit $LASTEXITCODE): $((Get-Content -LiteralPath $errFile -Raw))".Trim()
        }
        $out
    }
    finally { Remove-Item -LiteralPath $errFile -ErrorAction SilentlyContinue }
}

# lab.sh guest <Action> <Name> <ArgumentList...>: add, dhcp, ssh, http, exec, del, list. Pass arguments that start
# with '-' through -ArgumentList as an array (Invoke-LabGuest exec g1 -ArgumentList ip, '-4', 'addr').
function Invoke-LabGuest {
    param(
        [Parameter(Mandatory, Position = 0)][ValidateSet('add', 'dhcp', 'ssh', 'http', 'exec', 'del', 'list')][string] $Action,
        [Parameter(Position = 1)][string] $Name,
        [Parameter(Position = 2)][string[]] $ArgumentList = @()
    )
    $a = @('guest', $Action)
    if ($Name) { $a += $Name }
    if ($Action -eq 'exec') { $a += '--' }
    Invoke-LabSh -ArgumentList ($a + $ArgumentList)
}

# Runs a command inside the guest's namespace; returns its output, throws when it fails.
function Invoke-LabGuestCommand {
    param([Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][string[]] $Command)
    Invoke-LabGuest exec $Name -ArgumentList $Command
}

# A guest namespace with the given MAC on a segment; returns an object describing it.
function New-LabGuest {
    param(
        [Parameter(Mandatory)][string] $Name,
        [Parameter(Mandatory)][Alias('Mac')][string] $MacAddress,
        [ValidateSet('management', 'platform', 'tenant-a')][string] $Segment = 'management',
        [ValidateSet('dnsmasq', 'kea')][string] $Server = 'dnsmasq',
        [string] $IPAddress
    )
    $a = @('--mac', $MacAddress, '--segment', $Segment, '--server', $Server)
    if ($IPAddress) { $a += @('--ip', $IPAddress) }
    Invoke-LabGuest add $Name -ArgumentList $a | Out-Null
    [pscustomobject]@{ Name = $Name; Namespace = "dlg-$Name"; MacAddress = $MacAddress; Segment = $Segment; Server = $Server }
}

# Leases an address by DHCP (busybox udhcpc) and returns it; throws without a lease.
function Invoke-LabGuestDhcp { param([Parameter(Mandatory, ValueFromPipelineByPropertyName)][string] $Name) process { Invoke-LabGuest dhcp $Name } }

# Starts sshd in the guest (host key recorded in the lab's known_hosts) and returns its address.
function Start-LabGuestSsh { param([Parameter(Mandatory, ValueFromPipelineByPropertyName)][string] $Name) process { Invoke-LabGuest ssh $Name } }

# Serves a folder over HTTP from the guest (busybox httpd).
function Start-LabGuestHttp {
    param([Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][int] $Port, [Parameter(Mandatory)][string] $Path)
    Invoke-LabGuest http $Name -ArgumentList "$Port", (Resolve-Path -LiteralPath $Path).ProviderPath | Out-Null
}

function Remove-LabGuest { param([Parameter(Mandatory, ValueFromPipelineByPropertyName)][string] $Name) process { Invoke-LabGuest del $Name | Out-Null } }

# The lab's guests as objects (Name, Segment, Server, MacAddress, IPAddress).
function Get-LabGuest {
    Invoke-LabGuest list | Select-Object -Skip 1 | ForEach-Object {
        $f = -split $_
        [pscustomobject]@{ Name = $f[0]; Segment = $f[1]; Server = $f[2]; MacAddress = $f[3]; IPAddress = if ($f.Count -gt 4) { $f[4] } else { $null } }
    }
}

# Suite spaces (tests/lab/spaces, lab.sh space): a suite's own slice of the lab. New-LabSpace makes it fresh (whatever
# an earlier instance left in its files and zones is gone), Get-LabSpace only reads its values, Remove-LabSpace
# removes it (remove the suite's own server entries first). The object has the DEEV_SPACE_* values as properties
# (Id, Root, Domain, GuestPrefix, HostPrefix, MacPrefix, Vmid, Mgmt, Platform, Tenant, DnsmasqHosts, DnsmasqRecords,
# DnsmasqCnames, UnboundInclude, Backups, Handmade, Tier) and the methods Address(segment, n) (n = 0..15 of its
# block: 'mgmt', 'platform', 'tenant'), HostName(suffix), MacForVmId(vmid) and RandomMac().
function ConvertTo-LabSpace {
    param([string[]] $Lines)
    $values = [ordered]@{}
    foreach ($line in $Lines) {
        if ($line -match '^DEEV_SPACE_([A-Z_]+)=(.*)$') {
            $name = ($Matches[1].ToLowerInvariant() -split '_' | ForEach-Object { $_.Substring(0, 1).ToUpperInvariant() + $_.Substring(1) }) -join ''
            $values[$name] = $Matches[2]
        }
    }
    $space = [pscustomobject]$values
    $space | Add-Member -MemberType ScriptMethod -Name Address -Value {
        param([string] $Segment, [int] $N)
        $first = switch ($Segment) { 'mgmt' { $this.Mgmt } 'platform' { $this.Platform } 'tenant' { $this.Tenant } default { throw "no segment '$Segment'" } }
        if (-not $first) { throw "Space $($this.Id) has no $Segment block (tests/lab/spaces)." }
        if ($N -lt 0 -or $N -gt 15) { throw 'A space has 16 addresses per segment.' }
        $b = ([System.Net.IPAddress]::Parse($first)).GetAddressBytes(); $b[3] += $N
        ([System.Net.IPAddress]::new($b)).ToString()
    }
    $space | Add-Member -MemberType ScriptMethod -Name HostName -Value { param([string] $Suffix) $this.HostPrefix + $Suffix }
    $space | Add-Member -MemberType ScriptMethod -Name MacForVmId -Value {
        param([int] $VmId) '{0}:{1:x2}:{2:x2}:{3:x2}' -f $this.MacPrefix, (($VmId -shr 16) -band 255), (($VmId -shr 8) -band 255), ($VmId -band 255)
    }
    $space | Add-Member -MemberType ScriptMethod -Name RandomMac -Value {
        '{0}:{1:x2}:{2:x2}:{3:x2}' -f $this.MacPrefix, (Get-Random -Maximum 256), (Get-Random -Maximum 256), (Get-Random -Maximum 256)
    }
    $space
}

function New-LabSpace { param([Parameter(Mandatory)][string] $Id) ConvertTo-LabSpace (Invoke-LabSh -ArgumentList 'space', 'add', $Id) }
function Get-LabSpace { param([Parameter(Mandatory)][string] $Id) ConvertTo-LabSpace (Invoke-LabSh -ArgumentList 'space', 'show', $Id) }
function Remove-LabSpace { param([Parameter(Mandatory)][string] $Id) Invoke-LabSh -ArgumentList 'space', 'del', $Id | Out-Null }
