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
    # SEAM (dns branch): Get-DeevDnsRecord's parameters are read from that branch once it is merged.
    param($r)
    $held = @(Get-DeevDnsRecord -TierPath $r.TierPath)
    foreach ($want in Get-RebuildDnsRecordSet $r) {
        $same = @($held | Where-Object { $_.Name.TrimEnd('.') -eq $want.Name -and $_.Type.ToString() -eq $want.Type })
        $same.Count -eq 1 -and $same[0].Value.TrimEnd('.') -eq $want.Value
    }
}

function Set-RebuildDnsRecordSet {
    # SEAM (dns branch).
    param($r)
    foreach ($want in Get-RebuildDnsRecordSet $r) {
        Set-DeevDnsRecord -Name $want.Name -Type $want.Type -Value $want.Value -TierPath $r.TierPath | Out-Null
    }
    "A $($r.Fqdn) and the service CNAMEs are set"
}

function Test-RebuildRestored {
    # SEAM (backup branch).
    param($r)
    if ($r.ServiceInfo.Backup.IsNone) { return $true }
    $false
}

function Restore-RebuildNewestBackup {
    # SEAM (backup branch).
    param($r)
    if ($r.ServiceInfo.Backup.IsNone) { return "nothing to restore: $($r.ServiceInfo.Backup.NoneReason)" }
    Restore-DeevService -Service $r.Service -TierPath $r.TierPath | Out-Null
}
