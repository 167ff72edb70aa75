# Records an operator (or an attacker) with access to the DNS server planted by hand, with names that break the
# module's rules (control characters as \027 and \010 escapes, a space, a 250-character name), on the lab's real BIND
# and PowerDNS: the module's readers and writers must not crash, must show them escaped, must leave them on the server
# and must keep serving the tier's own records. Everything is in the space phost (tests/lab/spaces): its tier (names
# under phost.lab.deevnet.test, 10.231.93.16-31 and 10.231.92.16-31 in its own /24s) and its own zones.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'Hostile records planted on <Server>' -Skip:(-not $LabUp) -ForEach @(@{ Server = 'bind' }, @{ Server = 'powerdns' }) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $script:space = New-LabSpace phost
        $srv = $lab.DEEV_LAB_SSH_HOST
        $env:DEEV_LAB_PDNS_API_KEY = $lab.DEEV_LAB_PDNS_API_KEY
        $dns = if ($Server -eq 'bind') {
            "dns:`n  kind: bind`n  via: `"ssh://root@$srv`"`n  server: $srv`n  port: $($lab.DEEV_LAB_BIND_PORT)`n  tsigKeyFile: $($lab.DEEV_LAB_BIND_TSIG)`n"
        }
        else {
            "dns:`n  kind: powerdns`n  via: `"ssh://root@$srv`"`n  server: $srv`n  port: $($lab.DEEV_LAB_PDNS_PORT)`n  endpoint: http://127.0.0.1:8081`n  apiKeyEnv: DEEV_LAB_PDNS_API_KEY`n"
        }
        $script:port = if ($Server -eq 'bind') { $lab.DEEV_LAB_BIND_PORT } else { $lab.DEEV_LAB_PDNS_PORT }
        $script:srv = $srv
        $script:tier = Join-Path $TestDrive "phost-$Server.tier.yaml"
        Set-Content -LiteralPath $tier -Value ((Get-Content -Raw -LiteralPath $space.Tier) -replace '(?m)^dns:\n(?:[ \t]+.*\n)+', $dns) -NoNewline
        New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null
        $script:zone = $space.Domain
        $long = (@('a' * 63) * 3 -join '.') + '.x' * 2   # 63+1+63+1+63 + 4 = 195 characters, then the zone: ~220, still a legal name
        # The planted records, names in master-file notation (\DDD is a byte). BIND's check-names refuses such owners for
        # A records, so the odd names are CNAMEs (pointing at a host of the tier) and the long one is an A record.
        # Each is planted alone; what the server itself refuses is left out (and at least one odd name must be taken).
        $target = "$($space.HostName('obs001v01')).$zone."
        $script:candidates = @(
            @{ Name = "we\027ird.$zone."; Type = 'CNAME'; Value = $target }
            @{ Name = "new\010line.$zone."; Type = 'CNAME'; Value = $target }
            @{ Name = "sp\032ace.$zone."; Type = 'CNAME'; Value = $target }
            @{ Name = "$long.$zone."; Type = 'A'; Value = $space.Address('mgmt', 13) }
        )
        function Resolve-Planted([string] $Name, [string] $Type = 'A') { (& dig "@$srv" -p $port +short +time=2 +tries=1 $Type $Name | Out-String).Trim().TrimEnd('.') }
        # Plants one record as an operator with access to the server would; $true when the server took it.
        function Add-Planted([hashtable] $R) {
            if ($Server -eq 'bind') {
                $said = "server $srv $port`nzone $zone`nupdate add $($R.Name) 300 $($R.Type) $($R.Value)`nsend`n" | & nsupdate -k $lab.DEEV_LAB_BIND_TSIG 2>&1 | Out-String
                return ($LASTEXITCODE -eq 0 -and -not $said.Trim())
            }
            $rrset = @{ name = $R.Name; type = $R.Type; ttl = 300; changetype = 'REPLACE'; records = @(@{ content = $R.Value; disabled = $false }) }
            try {
                Invoke-RestMethod -Method Patch -Uri "$($lab.DEEV_LAB_PDNS_API)/api/v1/servers/localhost/zones/$zone." -Headers @{ 'X-API-Key' = $lab.DEEV_LAB_PDNS_API_KEY } `
                    -ContentType 'application/json' -Body (@{ rrsets = @($rrset) } | ConvertTo-Json -Depth 5) | Out-Null
                $true
            }
            catch { Write-Host "  ${Server} refused $($R.Name): $($_.ErrorDetails.Message)"; $false }
        }
    }

    AfterAll {
        if ($space) { Remove-LabSpace phost }
    }

    It 'shows them escaped, leaves them on the server untouched and keeps the module''s own records' {
        Sync-DeevDnsRecord -TierPath $tier -Prune -Confirm:$false | Out-Null
        $planted = @($candidates | Where-Object { Add-Planted $_ })
        Write-Host "  $Server took: $(($planted | ForEach-Object { $_.Name }) -join ', ')"
        # BIND takes the odd names by dynamic update; PowerDNS's API refuses them ("contains unsupported characters"), so
        # there only the long name is planted.
        if ($Server -eq 'bind') { @($planted | Where-Object Type -EQ 'CNAME').Count | Should -Be 3 -Because 'BIND takes names that break the rules' }
        else { @($planted).Count | Should -Be 1 -Because 'the PowerDNS API refuses the odd names and takes the long one' }
        foreach ($r in $planted) { Resolve-Planted $r.Name $r.Type | Should -Be $r.Value.TrimEnd('.') -Because "the server serves the planted $($r.Name)" }

        $out = [System.Collections.Generic.List[string]]::new()
        $rec = @(Get-DeevDnsRecord -TierPath $tier -WarningVariable w1 -WarningAction SilentlyContinue -ErrorVariable e1 -ErrorAction SilentlyContinue)
        $out.Add(($rec | Format-Table | Out-String -Width 400))
        $rows = @(Compare-DeevTier -TierPath $tier -WarningVariable w2 -WarningAction SilentlyContinue -ErrorVariable e2 -ErrorAction SilentlyContinue)
        $out.Add(($rows | Format-Table | Out-String -Width 400)); $out.Add(($rows | Format-List * | Out-String -Width 400))
        $sync = @(Sync-DeevDnsRecord -TierPath $tier -Prune -Confirm:$false -WarningVariable w3 -WarningAction SilentlyContinue -ErrorVariable e3 -ErrorAction SilentlyContinue)
        $out.Add(($sync | Format-Table | Out-String -Width 400))
        $errors = @(@($e1) + @($e2) + @($e3) | Where-Object { $_ })
        # The space's addresses are in its own /24s, which the lab's dnsmasq does not serve: Compare-DeevTier's DHCP part
        # refuses them as it should (ReservationConflict); that is not about the planted records.
        $errors = @($errors | Where-Object { $_.FullyQualifiedErrorId -notlike 'ReservationConflict,*' })
        foreach ($m in @($w1) + @($w2) + @($w3) + $errors) { if ($m) { $out.Add("$m") } }
        $bad = @(($out -join "`n") -split "`n" | Where-Object { $_ -match '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]' } | ForEach-Object { [Deevnet.Extended.Core.Text.SafeText]::Printable($_) })
        $bad.Count | Should -Be 0 -Because "no raw control character may reach the terminal: $($bad -join ' | ')"
        $errors.Count | Should -Be 0 -Because (($errors | ForEach-Object { [Deevnet.Extended.Core.Text.SafeText]::Printable("$($_.FullyQualifiedErrorId): $_") }) -join ' | ')

        # Left on the server as planted, after a sync with -Prune.
        foreach ($r in $planted) { Resolve-Planted $r.Name $r.Type | Should -Be $r.Value.TrimEnd('.') -Because "the sync must leave the planted $($r.Name) alone" }
        # None of them is the module's, and the tier's own records are all there.
        @($rec | Where-Object IsOwned | Where-Object { $_.Name -match '\\|\s|a{63}' }) | Should -BeNullOrEmpty
        @($rows | Where-Object Drift -NE 'Foreign') | Should -BeNullOrEmpty -Because ($rows | Format-Table | Out-String -Width 300)
        $obs = Get-DeevMgmtHost -TierPath $tier $space.HostName('obs001v01')
        Resolve-Planted $obs.Fqdn | Should -Be $obs.IPAddress
    }
}
