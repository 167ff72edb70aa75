# DNS record cmdlets as users see them, against the lab's dnsmasq, proven with dig. The other back ends are proven in
# tests/Deevnet.Extended.Tests/Dns. Fails (not skips) with CI=true and no lab. Everything is in the space pdns
# (tests/lab/spaces): its tier (names under pdns.lab.deevnet.test, hosts pdnsobs001v01…, 10.231.99.80-95), its own
# dnsmasq records, CNAME and hosts files, and its hand-made record handmade.pdns.lab.deevnet.test.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

Describe 'DNS record cmdlets on the lab dnsmasq' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Common.ps1')
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $space = New-LabSpace pdns
        $tier = Join-Path $TestDrive 'pdns.tier.yaml'
        Copy-Item -LiteralPath $space.Tier -Destination $tier
        $server = $lab.DEEV_LAB_SSH_HOST
        $domain = $space.Domain
        # The lab tier's .21/.23 (obs, acc) are the space's addresses 5 and 7.
        $obs = $space.HostName('obs001v01'); $acc = $space.HostName('acc001v01')
        $accIp = $space.Address('mgmt', 7)
        function Resolve-Lab([string] $Name, [string] $Type = 'A') {
            @(& dig "@$server" +short +time=2 +tries=1 $Type $Name) | Where-Object { $_ -and -not $_.StartsWith(';') } | ForEach-Object { $_.TrimEnd('.') }
        }
        function Copy-TierWith([hashtable] $Replace) {
            $text = Get-Content -Raw $tier
            foreach ($k in $Replace.Keys) { $text = $text.Replace($k, $Replace[$k]) }
            $path = Join-Path $TestDrive ("t{0}.tier.yaml" -f (Get-Random))
            Set-Content -Path $path -Value $text -NoNewline
            $path
        }
        Sync-DeevDnsRecord -TierPath $tier -Prune | Out-Null
    }

    AfterAll {
        # The space's records go with it (its CNAMEs with a dnsmasq restart).
        if ($space) { Remove-LabSpace pdns }
    }

    It 'answers every A, PTR and CNAME of the tier after Sync' {
        foreach ($h in Get-DeevMgmtHost -TierPath $tier) {
            Resolve-Lab $h.Fqdn | Should -Be $h.IPAddress
            (& dig "@$server" +short -x $h.IPAddress) | ForEach-Object { $_.TrimEnd('.') } | Should -Contain $h.Fqdn
        }
        foreach ($s in Get-DeevService -TierPath $tier) {
            foreach ($n in $s.Names) { Resolve-Lab "$n.$domain" -Type CNAME | Should -Be "$($s.HostName).$domain" }
        }
    }

    It 'reports nothing to change on a second Sync' {
        $r = Sync-DeevDnsRecord -TierPath $tier -Prune
        $r.Applied | Should -BeFalse
        $r.Added + $r.Changed + $r.Removed | Should -Be 0
        $r.Unchanged | Should -BeGreaterThan 0
    }

    It 'changes nothing under -WhatIf' {
        $moved = Copy-TierWith @{ "ip: $accIp" = "ip: $($space.Address('mgmt', 10))"; 'names: [jump]' = 'names: [jump, bastion]' }
        Sync-DeevDnsRecord -TierPath $moved -WhatIf | Should -BeNullOrEmpty
        Resolve-Lab "$acc.$domain" | Should -Be $accIp
        Resolve-Lab "bastion.$domain" -Type CNAME | Should -BeNullOrEmpty
    }

    It 'moves the A record and drops the old PTR when an address changes' {
        $to = $space.Address('mgmt', 11)
        $moved = Copy-TierWith @{ "ip: $accIp" = "ip: $to" }
        try {
            $r = Sync-DeevDnsRecord -TierPath $moved
            $r.Changed | Should -BeGreaterThan 0
            $r.Restarted | Should -BeFalse -Because 'an address change needs only SIGHUP'
            Resolve-Lab "$acc.$domain" | Should -Be $to
            # The module's PTR is gone; no guest of this suite leases the old address, so nothing answers it at all.
            (& dig "@$server" +short -x $accIp) | Should -BeNullOrEmpty
        }
        finally { Sync-DeevDnsRecord -TierPath $tier -Prune | Out-Null }
    }

    It 'binds hosts and services from the tier cmdlets by property name' {
        $records = Get-DeevMgmtHost -TierPath $tier $obs | Get-DeevDnsRecord
        $records.Type | Should -Contain 'A'
        $records.Type | Should -Contain 'PTR'
        $records.Type | Should -Contain 'CNAME'
        ($records | Where-Object Type -EQ 'A').Value | Should -Be $space.Address('mgmt', 5)
        $r = Get-DeevService -TierPath $tier jump | Set-DeevDnsRecord -PassThru
        $r.Unchanged | Should -Be 3
        $r.Applied | Should -BeFalse
    }

    It 'keeps the hand-made record through Sync -Prune and refuses to remove it' {
        # The space's own hand-made record (lab.sh space add wrote it into a hosts file the module does not own).
        Sync-DeevDnsRecord -TierPath $tier -Prune | Out-Null
        Resolve-Lab "handmade.$domain" | Should -Be $space.Handmade
        Remove-DeevDnsRecord -TierPath $tier -HostName handmade -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'RecordConflict*'
        Resolve-Lab "handmade.$domain" | Should -Be $space.Handmade
    }

    It 'refuses -Prune for a subset and bad input before touching the server' {
        { Get-DeevMgmtHost -TierPath $tier $obs | Sync-DeevDnsRecord -Prune -ErrorAction Stop } |
            Should -Throw -ErrorId 'PruneRefused*'
        Set-DeevDnsRecord -TierPath $tier -HostName 'bad_name!' -IPAddress $space.Address('mgmt', 12) -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -Contain 'InvalidDnsRecord,Deevnet.Extended.Commands.SetDeevDnsRecordCommand'
        Set-DeevDnsRecord -TierPath $tier -HostName 'ok' -IPAddress 10.231.99.300 -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2.FullyQualifiedErrorId | Should -Contain 'InvalidDnsRecord,Deevnet.Extended.Commands.SetDeevDnsRecordCommand'
        Resolve-Lab "ok.$domain" | Should -BeNullOrEmpty
    }

    It 'agrees with DHCP: the name a guest leases resolves to the address it was given' {
        # The reservation goes into the space's own dnsmasq hosts file (the space tier's dhcp section).
        New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null
        $h = Get-DeevMgmtHost -TierPath $tier $obs
        $h | Set-DeevDhcpReservation -Confirm:$false
        $guest = New-LabGuest -Name $h.Name -MacAddress $h.MacAddress
        try {
            $leased = $guest | Invoke-LabGuestDhcp
            $leased | Should -Be $h.IPAddress
            Sync-DeevDnsRecord -TierPath $tier | Out-Null
            Resolve-Lab $h.Fqdn | Should -Be $leased
            (& dig "@$server" +short -x $leased) | ForEach-Object { $_.TrimEnd('.') } | Should -Contain $h.Fqdn
        }
        finally {
            $guest | Remove-LabGuest
            $h | Remove-DeevDhcpReservation -Confirm:$false
        }
    }
}
