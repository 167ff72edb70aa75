# The DNS record set and the backup restore of one service, as the standard steps need them.

function Test-RebuildDnsRecordSet {
    # Exactly one record the module owns per name and type, with the value the tier asks for (Get-DeevDnsRecord
    # -Desired: the host's A record and a CNAME per name of every service on it): none missing, none twice. (A
    # server may answer more, e.g. dnsmasq names DHCP clients from their leases; those are not the module's.)
    param($r)
    $held = @(Get-DeevDnsRecord -HostName $r.HostName -TierPath $r.TierPath -Owned)
    foreach ($want in Get-DeevDnsRecord -HostName $r.HostName -TierPath $r.TierPath -Desired -Type A, CNAME) {
        $same = @($held | Where-Object { $_.Name.TrimEnd('.') -eq $want.Name.TrimEnd('.') -and $_.Type -eq $want.Type })
        $same.Count -eq 1 -and $same[0].Value.TrimEnd('.') -eq $want.Value.TrimEnd('.')
    }
}

function Set-RebuildDnsRecordSet {
    # One batch for the host: its A (+PTR) and the CNAMEs of every service on it.
    param($r)
    $names = @(Get-DeevService -HostName $r.HostName -TierPath $r.TierPath | ForEach-Object { $_.Names } | Where-Object { $_ })
    $parameters = @{ HostName = $r.HostName; IPAddress = $r.IPAddress; TierPath = $r.TierPath }
    if ($names) { $parameters.Names = $names }
    Set-DeevDnsRecord @parameters | Out-Null
    "A $($r.Fqdn) -> $($r.IPAddress)$(if ($names) { "; CNAME $($names -join ', ')" })"
}

function Invoke-RebuildHostCommand {
    # A command on the service's host only (the tier resolves its via and SSH settings).
    param([Parameter(Mandatory)] $Context, [Parameter(Mandatory)][string] $Command, [string[]] $ArgumentList)
    # Only ever used to look (read-only), so it runs under -WhatIf too.
    $parameters = @{ HostName = $Context.HostName; TierPath = $Context.TierPath; Command = $Command; WhatIf = $false }
    if ($ArgumentList) { $parameters.ArgumentList = $ArgumentList }
    Invoke-DeevHostCommand @parameters
}

function Get-RebuildNewestBackup {
    # The newest good backup of the service (Get-DeevBackup -Latest), or nothing. A rebuild from a saved plan uses the
    # backup the plan pinned instead, and stops if it is no longer the authenticated archive that was pinned.
    param($r)
    if (-not $r.PinnedBackup) {
        return Get-DeevBackup -Service $r.Service -Latest -TierPath $r.TierPath -ErrorAction Stop | Where-Object Service -EQ $r.Service | Select-Object -First 1
    }
    $pinned = Get-DeevBackup -Service $r.Service -TierPath $r.TierPath -ErrorAction Stop | Where-Object BackupName -EQ $r.PinnedBackup.Name | Select-Object -First 1
    if (-not $pinned -or $pinned.Signature.ToString() -ne 'Valid' -or $pinned.Sha256 -ne $r.PinnedBackup.Sha256) {
        throw "The backup $($r.PinnedBackup.Name) the plan pinned is gone, unauthenticated or replaced since the plan was applied; nothing was restored."
    }
    $pinned
}

function Test-RebuildRestored {
    # Restored means: the host holds the newest good backup, every file of its manifest the same (type, size,
    # SHA-256, mode, owner, time, link target); files the backup does not hold do not count. A path the OS makes on
    # first boot (an access host's /etc/ssh) or a half-finished restore does not pass. (A service that ran since its
    # restore and changed its files would be restored again: a rebuild targets a destroyed service.)
    param($r)
    $backup = $r.ServiceInfo.Backup
    if ($backup.IsNone -or $backup.Paths.Count -eq 0) { return $true }
    # Cheap first: a path that does not exist means not restored (and tar could not read it back).
    $exists = Invoke-RebuildHostCommand -Context $r -Command 'sh -c ''for p in "$@"; do [ -e "$p" ] || exit 1; done'' sh' -ArgumentList @($backup.Paths)
    if ($exists.ExitStatus -ne 0) { return $false }
    $newest = Get-RebuildNewestBackup $r
    if (-not $newest) { return $false }
    $compare = Test-DeevBackup -Service $r.Service -BackupName $newest.BackupName -TargetHost $r.HostName -TierPath $r.TierPath -ErrorAction SilentlyContinue
    [bool]($compare -and $compare.Verified)
}

function Restore-RebuildNewestBackup {
    param($r)
    $backup = $r.ServiceInfo.Backup
    if ($backup.IsNone -or $backup.Paths.Count -eq 0) { return "nothing to restore: $($backup.NoneReason)" }
    $newest = Get-RebuildNewestBackup $r
    if (-not $newest) { throw "There is no good backup of '$($r.Service)' to restore." }
    $restore = @{ Service = $r.Service; BackupName = $newest.BackupName; TargetHost = $r.HostName; TierPath = $r.TierPath; Confirm = $false; ErrorAction = 'Stop' }
    $result = Restore-DeevService @restore   # under -WhatIf it prints its plan and returns nothing
    if (-not $result) { return "would restore $($newest.BackupName)" }
    # The after command may restart the host's sshd (an access host's restored keys): let it listen again before
    # the restore is checked over SSH.
    Wait-RebuildHost $r -TimeoutSec 30
    "restored $($newest.BackupName) ($($result.EntryCount) entries match the manifest)"
}
