# DNS record cmdlets as users see them, against the lab's dnsmasq (the lab tier's dns section), proven with dig.
# The other back ends are proven in tests/Deevnet.Extended.Tests/Dns. Fails (not skips) with CI=true and no lab.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

Describe 'DNS record cmdlets on the lab dnsmasq' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Common.ps1')
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $tier = $lab.DEEV_LAB_TIER
        $server = $lab.DEEV_LAB_SSH_HOST
        $domain = $lab.DEEV_LAB_DOMAIN
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
        $moved = Copy-TierWith @{ 'ip: 10.231.99.23' = 'ip: 10.231.99.46'; 'names: [jump]' = 'names: [jump, bastion]' }
        Sync-DeevDnsRecord -TierPath $moved -WhatIf | Should -BeNullOrEmpty
        Resolve-Lab "dv99acc001v01.$domain" | Should -Be '10.231.99.23'
        Resolve-Lab "bastion.$domain" -Type CNAME | Should -BeNullOrEmpty
    }

    It 'moves the A record and drops the old PTR when an address changes' {
        $moved = Copy-TierWith @{ 'ip: 10.231.99.23' = 'ip: 10.231.99.47' }
        try {
            $r = Sync-DeevDnsRecord -TierPath $moved
            $r.Changed | Should -BeGreaterThan 0
            $r.Restarted | Should -BeFalse -Because 'an address change needs only SIGHUP'
            Resolve-Lab "dv99acc001v01.$domain" | Should -Be '10.231.99.47'
            (& dig "@$server" +short -x 10.231.99.23) | Should -BeNullOrEmpty
        }
        finally { Sync-DeevDnsRecord -TierPath $tier -Prune | Out-Null }
    }

    It 'binds hosts and services from the tier cmdlets by property name' {
        $records = Get-DeevMgmtHost -TierPath $tier dv99obs001v01 | Get-DeevDnsRecord
        $records.Type | Should -Contain 'A'
        $records.Type | Should -Contain 'PTR'
        $records.Type | Should -Contain 'CNAME'
        ($records | Where-Object Type -EQ 'A').Value | Should -Be '10.231.99.21'
        $r = Get-DeevService -TierPath $tier jump | Set-DeevDnsRecord -PassThru
        $r.Unchanged | Should -Be 3
        $r.Applied | Should -BeFalse
    }

    It 'keeps the hand-made record through Sync -Prune and refuses to remove it' {
        Sync-DeevDnsRecord -TierPath $tier -Prune | Out-Null
        Resolve-Lab "handmade.$domain" | Should -Be '10.231.99.250'
        Remove-DeevDnsRecord -TierPath $tier -HostName handmade -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'RecordConflict*'
        Resolve-Lab "handmade.$domain" | Should -Be '10.231.99.250'
    }

    It 'refuses -Prune for a subset and bad input before touching the server' {
        { Get-DeevMgmtHost -TierPath $tier dv99obs001v01 | Sync-DeevDnsRecord -Prune -ErrorAction Stop } |
            Should -Throw -ErrorId 'PruneRefused*'
        Set-DeevDnsRecord -TierPath $tier -HostName 'bad_name!' -IPAddress 10.231.99.5 -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -Contain 'InvalidDnsRecord,Deevnet.Extended.Commands.SetDeevDnsRecordCommand'
        Set-DeevDnsRecord -TierPath $tier -HostName 'ok' -IPAddress 10.231.99.300 -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2.FullyQualifiedErrorId | Should -Contain 'InvalidDnsRecord,Deevnet.Extended.Commands.SetDeevDnsRecordCommand'
        Resolve-Lab "ok.$domain" | Should -BeNullOrEmpty
    }

    It 'agrees with DHCP: the name a guest leases resolves to the address it was given' {
        # The DHCP helper's reservation cmdlets are not merged yet: the reservation line is written straight into the
        # lab dnsmasq's dhcp-hostsfile (which SIGHUP re-reads), as Set-DeevDhcpReservation will.
        $h = Get-DeevMgmtHost -TierPath $tier dv99obs001v01
        $hostsFile = $lab.DEEV_LAB_DNSMASQ_HOSTS
        $before = Get-Content -Raw $hostsFile
        Add-Content -Path $hostsFile -Value "$($h.MacAddress),$($h.Name),$($h.IPAddress)"
        & kill -HUP (Get-Content $lab.DEEV_LAB_DNSMASQ_PID)
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
            Set-Content -Path $hostsFile -Value $before -NoNewline
            & kill -HUP (Get-Content $lab.DEEV_LAB_DNSMASQ_PID)
        }
    }
}
