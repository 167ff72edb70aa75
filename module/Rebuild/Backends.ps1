# The DNS record set and the backup restore of one service, as the standard steps need them.

function Get-RebuildDnsRecordSet {
    # What the site's DNS server must hold for the host: its A record, and a CNAME for every name of every service
    # on it (all of them point at the host, so they are one record set).
    param($r)
    $domain = $r.Tier.Site.Domain
    [pscustomobject]@{ Name = $r.Fqdn; Type = 'A'; Value = $r.IPAddress }
    foreach ($service in $r.Tier.ServicesOn($r.HostName)) {
        foreach ($name in $service.Names) { [pscustomobject]@{ Name = "$name.$domain"; Type = 'CNAME'; Value = $r.Fqdn } }
    }
}

function Test-RebuildDnsRecordSet {
    # Exactly one record the module owns per name and type, with the right value: none missing, none twice. (A
    # server may answer more, e.g. dnsmasq names DHCP clients from their leases; those are not the module's.)
    param($r)
    $held = @(Get-DeevDnsRecord -HostName $r.HostName -TierPath $r.TierPath -Owned)
    foreach ($want in Get-RebuildDnsRecordSet $r) {
        $same = @($held | Where-Object { $_.Name.TrimEnd('.') -eq $want.Name -and $_.Type.ToString() -eq $want.Type })
        $same.Count -eq 1 -and $same[0].Value.TrimEnd('.') -eq $want.Value
    }
}

function Set-RebuildDnsRecordSet {
    # One batch for the host: its A (+PTR) and the CNAMEs of every service on it.
    param($r)
    $names = @($r.Tier.ServicesOn($r.HostName) | ForEach-Object { $_.Names } | Where-Object { $_ })
    $parameters = @{ HostName = $r.HostName; IPAddress = $r.IPAddress; TierPath = $r.TierPath }
    if ($names) { $parameters.Names = $names }
    Set-DeevDnsRecord @parameters | Out-Null
    "A $($r.Fqdn) -> $($r.IPAddress)$(if ($names) { "; CNAME $($names -join ', ')" })"
}

function Invoke-RebuildHostCommand {
    # A command on the service's host, by its via (so it can reach no other host), with the tier's SSH settings.
    param([Parameter(Mandatory)] $Context, [Parameter(Mandatory)][string] $Command, [string[]] $ArgumentList)
    $access = $Context.Tier.Access
    # Only ever used to look (read-only), so it runs under -WhatIf too.
    $parameters = @{ Via = $Context.Tier.ViaOf($Context.HostInfo.Host).ToString(); Command = $Command; KnownHostsPath = $access.KnownHostsFile; WhatIf = $false }
    if ($access.IdentityFile) { $parameters.KeyFile = $access.IdentityFile }
    if ($ArgumentList) { $parameters.ArgumentList = $ArgumentList }
    Invoke-DeevHostCommand @parameters
}

function Test-RebuildRestored {
    # Restored means: every path the service backs up exists on the host again. A rebuild never restores over data
    # that is there, since a service that runs again may have written newer data than its last backup.
    # SEAM (backup branch): this is weaker than it must be: a path the OS makes on first boot (an access host's
    # /etc/ssh) passes it, and a half-finished restore passes it. Once the backup cmdlets can compare the newest
    # good backup's manifest with the host, use that here. (For access hosts HostKeysRestored catches the miss.)
    param($r)
    $backup = $r.ServiceInfo.Backup
    if ($backup.IsNone -or $backup.Paths.Count -eq 0) { return $true }
    $result = Invoke-RebuildHostCommand -Context $r -Command 'sh -c ''for p in "$@"; do [ -e "$p" ] || exit 1; done'' sh' -ArgumentList @($backup.Paths)
    $result.ExitStatus -eq 0
}

function Restore-RebuildNewestBackup {
    # SEAM (backup branch): Get-DeevBackup / Restore-DeevService as the issue names them; adapt once merged.
    param($r)
    $backup = $r.ServiceInfo.Backup
    if ($backup.IsNone -or $backup.Paths.Count -eq 0) { return "nothing to restore: $($backup.NoneReason)" }
    $newest = Get-DeevBackup -Service $r.Service -TierPath $r.TierPath | Where-Object IsGood | Sort-Object Time -Descending | Select-Object -First 1
    if (-not $newest) { throw "There is no good backup of '$($r.Service)' to restore." }
    Restore-DeevService -Service $r.Service -BackupName $newest.BackupName -TierPath $r.TierPath | Out-Null
    "restored $($newest.BackupName)"
}
