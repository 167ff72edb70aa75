# The drift report and the change journal as an operator meets them on the lab's real dnsmasq (DHCP and DNS), Kea,
# Unbound and libvirt: Compare-DeevTier after a sync, after hand edits of the server's files, with entries others wrote
# (also in dhcp-hostsdir files) and with hostile entries planted on the servers; the
# journal records of VM and restore changes; two processes writing one journal at once. Everything is in the space
# pdrift (tests/lab/spaces): its tier (hosts pdrift…, MACs 02:de:3c:…, 10.231.99.208-223, 10.231.25.144-159), its
# own dnsmasq hosts, records and CNAME files, and the hand-made files this suite adds and removes.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'Drift: Compare-DeevTier surface' {
    It 'is exported, has help, changes nothing (no -WhatIf) and offers -Quiet' {
        $c = Get-Command Compare-DeevTier
        $c.Parameters.Keys | Should -Contain 'Quiet'
        $c.Parameters.Keys | Should -Not -Contain 'WhatIf'
        (Get-Help Compare-DeevTier).Synopsis | Should -Match 'drift'
    }
}

Describe 'Drift and the change journal on the lab' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $script:space = New-LabSpace pdrift
        $script:journal = Join-Path $TestDrive 'changes.jsonl'
        # Two copies of the space's tier sharing one identity: $tier keeps a journal, $plain (for setting the scene) none.
        $script:tier = Join-Path $TestDrive 'pdrift.tier.yaml'
        $script:plain = Join-Path $TestDrive 'plain.tier.yaml'
        $text = Get-Content -Raw -LiteralPath $space.Tier
        Set-Content -LiteralPath $tier -Value ($text + "journal: $journal`n") -NoNewline
        Set-Content -LiteralPath $plain -Value $text -NoNewline
        New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null
        Copy-Item -LiteralPath ($tier -replace '\.tier\.yaml$', '.identity.yaml') -Destination ($plain -replace '\.tier\.yaml$', '.identity.yaml')
        $script:labRoot = Get-LabRoot
        $script:pidFile = Join-Path $labRoot 'dnsmasq/dnsmasq.pid'
        $script:handConf = Join-Path $labRoot 'dnsmasq/conf.d/pdrift-hand.conf'
        $script:obs = Get-DeevMgmtHost -TierPath $tier $space.HostName('obs001v01')
        $script:aut = Get-DeevMgmtHost -TierPath $tier $space.HostName('aut001v01')
        $script:acc = Get-DeevMgmtHost -TierPath $tier $space.HostName('acc001v01')
        function Send-DnsmasqHup { & kill -HUP ([int](Get-Content -LiteralPath $pidFile -Raw).Trim()) }
        # dnsmasq reads conf.d (dhcp-hostsdir=, dhcp-host=) only at start; the lab supervises it, so TERM restarts it.
        function Restart-LabDnsmasq {
            $old = (Get-Content -LiteralPath $pidFile -Raw).Trim()
            & kill -TERM ([int]$old)
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            do {
                Start-Sleep -Milliseconds 100
                $new = (Get-Content -LiteralPath $pidFile -Raw -ErrorAction SilentlyContinue)
            } until (($new -and $new.Trim() -ne $old -and (Test-Path "/proc/$($new.Trim())")) -or [DateTime]::UtcNow -gt $deadline)
            $new.Trim() | Should -Not -Be $old -Because 'dnsmasq must come back after the restart'
            Start-Sleep -Milliseconds 500
        }
        # The operator's way to change a file on the server: edit it in place, then tell dnsmasq to re-read it.
        function Edit-ServerFile([string] $Path, [string] $From, [string] $To) {
            $content = Get-Content -Raw -LiteralPath $Path
            $content.Contains($From) | Should -BeTrue -Because "$Path must hold '$From' before the hand edit"
            Set-Content -LiteralPath $Path -Value $content.Replace($From, $To) -NoNewline
            Send-DnsmasqHup
        }
        # Output an operator sees must hold no raw control character (tab and line breaks aside); the failure names the
        # lines escaped, so the report itself stays printable.
        function Assert-NoRawControl([string] $Text) {
            $bad = @($Text -split "`n" | Where-Object { $_ -match '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]' } |
                ForEach-Object { [Deevnet.Extended.Core.Text.SafeText]::Printable($_) })
            $bad.Count | Should -Be 0 -Because "no raw control character may reach the terminal: $($bad -join ' | ')"
        }
        # Tiers of the same space and identity with another DHCP or DNS server of the lab.
        function New-VariantTier([string] $Name, [string] $Dhcp, [string] $Dns) {
            $text = Get-Content -Raw -LiteralPath $tier
            if ($Dhcp) { $text = $text -replace '(?m)^dhcp:\n(?:[ \t]+.*\n)+', $Dhcp }
            if ($Dns) { $text = $text -replace '(?m)^dns:\n(?:[ \t]+.*\n)+', $Dns }
            $path = Join-Path $TestDrive "$Name.tier.yaml"
            Set-Content -LiteralPath $path -Value $text -NoNewline
            Copy-Item -LiteralPath ($tier -replace '\.tier\.yaml$', '.identity.yaml') -Destination ($path -replace '\.tier\.yaml$', '.identity.yaml')
            $path
        }
        $script:keaTier = New-VariantTier 'kea' -Dhcp "dhcp:`n  kind: kea`n  via: `"ssh://root@$($lab.DEEV_LAB_SSH_HOST)`"`n  configFile: $($lab.DEEV_LAB_KEA_CONFIG)`n  controlSocket: $($lab.DEEV_LAB_KEA_SOCKET)`n  netns: $($lab.DEEV_LAB_KEA_NETNS)`n"
        $script:unboundTier = New-VariantTier 'unbound' -Dns "dns:`n  kind: unbound`n  via: `"ssh://root@$($lab.DEEV_LAB_SSH_HOST)`"`n  server: $($lab.DEEV_LAB_SSH_HOST)`n  port: $($lab.DEEV_LAB_UNBOUND_PORT)`n  include: $($space.UnboundInclude)`n  controlConfig: $($lab.DEEV_LAB_UNBOUND_CONF)`n"
        function Send-KeaReload { '{ "command": "config-reload" }' | & socat -t 30 - "UNIX-CONNECT:$($lab.DEEV_LAB_KEA_SOCKET)" | Out-Null }
        function Send-UnboundReload { & unbound-control -c $lab.DEEV_LAB_UNBOUND_CONF reload | Out-Null }
        function Get-JournalRecords { @(Get-Content -LiteralPath $journal | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json }) }
        Sync-DeevDhcpReservation -TierPath $tier -Confirm:$false | Out-Null
        Sync-DeevDnsRecord -TierPath $tier -Prune -Confirm:$false | Out-Null
    }

    AfterAll {
        Remove-Item -LiteralPath $handConf -ErrorAction SilentlyContinue
        # Kea's file outlives the space: the space's reservations there go.
        if ($keaTier) {
            Get-DeevDhcpReservation -TierPath $keaTier -Owned -ErrorAction SilentlyContinue | Where-Object ClientId -like "$($space.MacPrefix):*" |
                Remove-DeevDhcpReservation -TierPath $keaTier -Confirm:$false -ErrorAction SilentlyContinue
        }
        if ($space) { Remove-LabSpace pdrift }
    }

    It 'reports no drift right after a sync, and -Quiet says $true' {
        $rows = @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue)
        $rows | Should -BeNullOrEmpty -Because ($rows | Out-String)
        Compare-DeevTier -TierPath $tier -Quiet -WarningAction SilentlyContinue | Should -BeTrue
    }

    It 'shows a hand edit of the DHCP hosts file as Changed, with the journal record that last wrote the entry' {
        $moved = $space.Address('mgmt', 12)
        Edit-ServerFile $space.DnsmasqHosts "$($obs.MacAddress),$($obs.IPAddress)," "$($obs.MacAddress),$moved,"
        try {
            $rows = @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue)
            $row = @($rows | Where-Object { $_.Kind -eq 'Reservation' })
            $row.Count | Should -Be 1 -Because ($rows | Out-String)
            $row[0].Drift | Should -Be 'Changed'
            $row[0].Key | Should -Be $obs.MacAddress
            $row[0].Before | Should -Match "^$([regex]::Escape($moved)) "
            $row[0].After | Should -Match "^$([regex]::Escape($obs.IPAddress)) "
            $row[0].LastChange.After | Should -Match "^$([regex]::Escape($obs.IPAddress)) "
            $row[0].LastCommand | Should -Match 'Sync-DeevDhcpReservation'
            $row[0].LastOperator | Should -Be "$([Environment]::UserName)@$([Environment]::MachineName)"
            $row[0].EditedOutsideModule | Should -BeTrue
            $row[0].Note | Should -Match 'edited outside the module'
            ($rows | Format-Table | Out-String -Width 250) | Should -Match 'EDITED SINCE'
            Compare-DeevTier -TierPath $tier -Quiet -WarningAction SilentlyContinue | Should -BeFalse
        }
        finally { Sync-DeevDhcpReservation -TierPath $tier -Confirm:$false | Out-Null }
        @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'shows a hand edit of the DNS records file as a Changed A record, with the journal record of the sync' {
        $moved = $space.Address('mgmt', 13)
        Edit-ServerFile $space.DnsmasqRecords "$($acc.IPAddress) $($acc.Fqdn)" "$moved $($acc.Fqdn)"
        try {
            $rows = @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue)
            $row = @($rows | Where-Object { $_.Kind -eq 'A' -and $_.Key -eq $acc.Fqdn })
            $row.Count | Should -Be 1 -Because ($rows | Out-String)
            $row[0].Drift | Should -Be 'Changed'
            $row[0].Before | Should -Match "^$([regex]::Escape($moved))"
            $row[0].After | Should -Match "^$([regex]::Escape($acc.IPAddress))"
            $row[0].LastCommand | Should -Match 'Sync-DeevDnsRecord'
            $row[0].EditedOutsideModule | Should -BeTrue
        }
        finally { Sync-DeevDnsRecord -TierPath $tier -Prune -Confirm:$false | Out-Null }
        @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'shows a reservation someone removed by hand as Missing, and one the tier dropped as Stale' {
        Edit-ServerFile $space.DnsmasqHosts "$($acc.MacAddress),$($acc.IPAddress),$($acc.Name)" "# removed by hand"
        $dropped = Join-Path $TestDrive 'dropped.tier.yaml'
        try {
            $rows = @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue | Where-Object Kind -EQ 'Reservation')
            $rows.Drift | Should -Be 'Missing'
            $rows.Key | Should -Be $acc.MacAddress
            $rows.Note | Should -Match 'removed outside the module'
            # The same server against a tier without the obs host: its reservation is the module's, but no longer asked for.
            Set-Content -LiteralPath $dropped -Value ((Get-Content -Raw -LiteralPath $tier) -replace "(?m)^  $($obs.Name):.*\n", '' -replace "host: $($obs.Name)", "host: $($acc.Name)") -NoNewline
            Copy-Item -LiteralPath ($tier -replace '\.tier\.yaml$', '.identity.yaml') -Destination ($dropped -replace '\.tier\.yaml$', '.identity.yaml')
            $stale = @(Compare-DeevTier -TierPath $dropped -WarningAction SilentlyContinue | Where-Object { $_.Kind -eq 'Reservation' -and $_.Drift -eq 'Stale' })
            $stale.Key | Should -Be $obs.MacAddress
            $stale.LastCommand | Should -Match 'Sync-DeevDhcpReservation'
        }
        finally { Sync-DeevDhcpReservation -TierPath $tier -Confirm:$false | Out-Null }
    }

    It 'shows entries others wrote in the module''s space as Foreign, and keeps comparing the rest' {
        # An operator's own reservations in dnsmasq's configuration: one for a MAC of the site's namespace, one for the
        # address the tier gives aut (a collision the module must never resolve by itself).
        $printer = "$($space.MacPrefix):00:00:99"
        Set-Content -LiteralPath $handConf -Value "dhcp-host=$printer,$($space.Address('mgmt', 14)),pdrift-printer`ndhcp-host=02:aa:bb:3c:00:01,$($aut.IPAddress),pdrift-hand`n"
        $moved = $space.Address('mgmt', 12)
        Edit-ServerFile $space.DnsmasqHosts "$($obs.MacAddress),$($obs.IPAddress)," "$($obs.MacAddress),$moved,"
        try {
            $rows = @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue | Where-Object Kind -EQ 'Reservation')
            $foreign = @($rows | Where-Object Drift -EQ 'Foreign')
            $foreign.Key | Sort-Object | Should -Be (@('02:aa:bb:3c:00:01', $printer) | Sort-Object)
            ($foreign | Where-Object Key -EQ '02:aa:bb:3c:00:01').Note | Should -Match "collides with the tier's $([regex]::Escape($aut.MacAddress))"
            ($foreign | Where-Object Key -EQ '02:aa:bb:3c:00:01').Note | Should -Match 'pdrift-hand\.conf'
            @($foreign | Where-Object LastChange).Count | Should -Be 0
            # The collision does not hide the hand edit of obs.
            ($rows | Where-Object Drift -EQ 'Changed').Key | Should -Be $obs.MacAddress
            # The module never touches the foreign entries: a sync leaves them, and they stay in the report.
            Sync-DeevDhcpReservation -TierPath $tier -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
            (Get-Content -Raw -LiteralPath $handConf) | Should -Match 'pdrift-printer'
        }
        finally {
            Remove-Item -LiteralPath $handConf
            Sync-DeevDhcpReservation -TierPath $tier -Confirm:$false | Out-Null
        }
        @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'shows a DNS record someone else serves under a name the tier asks for as Foreign, not as Missing' {
        # The tier gains the alias 'extra', which an operator already serves by hand as an A record.
        $wider = Join-Path $TestDrive 'wider.tier.yaml'
        Set-Content -LiteralPath $wider -Value ((Get-Content -Raw -LiteralPath $tier).Replace('names: [jump]', 'names: [jump, extra]')) -NoNewline
        Copy-Item -LiteralPath ($tier -replace '\.tier\.yaml$', '.identity.yaml') -Destination ($wider -replace '\.tier\.yaml$', '.identity.yaml')
        $extra = "extra.$($space.Domain)"
        $handmade = Join-Path $space.Root 'handmade.hosts'
        Add-Content -LiteralPath $handmade -Value "$($space.Address('mgmt', 14)) $extra"
        Send-DnsmasqHup
        try {
            $rows = @(Compare-DeevTier -TierPath $wider -WarningAction SilentlyContinue)
            $row = @($rows | Where-Object Key -EQ $extra)
            $row.Count | Should -Be 1 -Because ($rows | Out-String)
            $row[0].Drift | Should -Be 'Foreign'
            $row[0].Kind | Should -Be 'A'
            $row[0].Before | Should -Match "^$([regex]::Escape($space.Address('mgmt', 14)))"
            $row[0].After | Should -Be "$($acc.Fqdn) ttl 300"
            $row[0].Note | Should -Match 'collides'
            @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
        }
        finally {
            Set-Content -LiteralPath $handmade -Value (Get-Content -LiteralPath $handmade | Where-Object { $_ -notmatch [regex]::Escape($extra) })
            Send-DnsmasqHup
        }
    }

    It 'counts a foreign entry in a dhcp-hostsdir file and in a file of a dhcp-hostsfile folder, as dnsmasq serves them' {
        # An operator adds dhcp-hostsdir= (read at start, then watched) and drops a reservation file there; another file
        # lands in the lab's dhcp-hostsfile folder (dhcp-hosts.d, re-read on SIGHUP). dnsmasq serves both.
        $dir = Join-Path $space.Root 'hostsdir'
        New-Item -ItemType Directory -Force -Path $dir | Out-Null
        $dirConf = Join-Path $labRoot 'dnsmasq/conf.d/pdrift-hostsdir.conf'
        $folderFile = Join-Path $labRoot 'dnsmasq/dhcp-hosts.d/pdrift-hand'
        $inDir = "$($space.MacPrefix):00:00:98"
        $inFolder = "$($space.MacPrefix):00:00:97"
        $guests = @()
        Set-Content -LiteralPath $dirConf -Value "dhcp-hostsdir=$dir"
        try {
            Restart-LabDnsmasq
            Set-Content -LiteralPath (Join-Path $dir 'printer') -Value "$inDir,$($space.Address('mgmt', 8)),pdrift-dirhost"
            Set-Content -LiteralPath (Join-Path $dir '.ignored') -Value "$($space.MacPrefix):00:00:96,$($space.Address('mgmt', 10)),pdrift-dot"
            Set-Content -LiteralPath (Join-Path $dir 'printer~') -Value "$($space.MacPrefix):00:00:95,$($space.Address('mgmt', 11)),pdrift-backup"
            Set-Content -LiteralPath $folderFile -Value "$inFolder,$($aut.IPAddress),pdrift-folderhost"
            Send-DnsmasqHup
            # The real server serves the hostsdir entry: a DHCP client with that MAC leases its address.
            $guests += New-LabGuest -Name ($space.GuestPrefix + (Get-Random -Maximum 999999)) -MacAddress $inDir
            $guests[0] | Invoke-LabGuestDhcp | Should -Be $space.Address('mgmt', 8)
            $rows = @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue | Where-Object Kind -EQ 'Reservation')
            $foreign = @($rows | Where-Object Drift -EQ 'Foreign')
            $foreign.Key | Sort-Object | Should -Be (@($inDir, $inFolder) | Sort-Object) -Because ($rows | Out-String)
            ($foreign | Where-Object Key -EQ $inDir).Note | Should -Match ([regex]::Escape("$dir/printer:1"))
            ($foreign | Where-Object Key -EQ $inFolder).Note | Should -Match "collides with the tier's $([regex]::Escape($aut.MacAddress))"
            # The module's own file, linked into the same folder, is still the module's: nothing else drifts.
            @($rows | Where-Object Drift -NE 'Foreign') | Should -BeNullOrEmpty -Because ($rows | Out-String)
            $listed = @(Get-DeevDhcpReservation -TierPath $tier | Where-Object ClientId -In $inDir, $inFolder)
            $listed.IsOwned | Should -Be @($false, $false)
        }
        finally {
            $guests | Remove-LabGuest
            Remove-Item -LiteralPath $dirConf, $folderFile -ErrorAction SilentlyContinue
            Remove-Item -LiteralPath $dir -Recurse -ErrorAction SilentlyContinue
            Restart-LabDnsmasq
        }
    }

    It 'survives hostile entries planted on dnsmasq: escaped in every output, untouched by a sync, the module''s own entries kept' {
        # What an operator (or an attacker) with a shell on the server can plant: an ESC sequence and a newline-ish
        # control character in names, a multicast MAC, a name of 300 characters, and a bad line in the module's own file.
        $esc = [char]0x1b
        $hostile = @(
            "$($space.MacPrefix):00:00:94,$($space.Address('mgmt', 8)),pdrift${esc}[2J${esc}[31mred"
            "03:de:3c:00:00:93,$($space.Address('mgmt', 9)),pdrift-multicast"
            "$($space.MacPrefix):00:00:92,$($space.Address('mgmt', 10)),$('a' * 300)"
            "$($space.MacPrefix):00:00:91,$($obs.IPAddress),pdrift$([char]7)bell"
        ) -join "`n"
        $folderFile = Join-Path $labRoot 'dnsmasq/dhcp-hosts.d/pdrift-hostile'
        $confFile = Join-Path $labRoot 'dnsmasq/conf.d/pdrift-hostile.conf'   # read by the module now; never restarted into dnsmasq
        $handmade = Join-Path $space.Root 'handmade.hosts'
        $handBefore = [Convert]::ToBase64String([IO.File]::ReadAllBytes($handmade))
        [IO.File]::WriteAllText($folderFile, "$hostile`n")
        [IO.File]::WriteAllText($confFile, "dhcp-host=$($space.MacPrefix):00:00:90,$($space.Address('mgmt', 11)),pdrift${esc}]0;title$([char]7)`n")
        [IO.File]::AppendAllText($handmade, "$($space.Address('mgmt', 11)) we${esc}[1mird.$($space.Domain)`n$($space.Address('mgmt', 11)) $('b' * 70).$($space.Domain)`n")
        # A line the module cannot read in its own hosts file: kept verbatim.
        $ownBad = "$($obs.MacAddress)x,,${esc}[5m"
        [IO.File]::AppendAllText($space.DnsmasqHosts, "$ownBad`n")
        Send-DnsmasqHup
        $folderBytes = [Convert]::ToBase64String([IO.File]::ReadAllBytes($folderFile)); $confBytes = [Convert]::ToBase64String([IO.File]::ReadAllBytes($confFile))
        $handPlanted = [Convert]::ToBase64String([IO.File]::ReadAllBytes($handmade))
        try {
            $out = [System.Collections.Generic.List[string]]::new()
            $rows = @(Compare-DeevTier -TierPath $tier -WarningVariable w1 -WarningAction SilentlyContinue -ErrorVariable e1 -ErrorAction SilentlyContinue)
            $out.Add(($rows | Format-Table | Out-String -Width 400)); $out.Add(($rows | Format-List * | Out-String -Width 400))
            $res = @(Get-DeevDhcpReservation -TierPath $tier -WarningVariable w2 -WarningAction SilentlyContinue -ErrorVariable e2 -ErrorAction SilentlyContinue)
            $out.Add(($res | Format-Table | Out-String -Width 400))
            $rec = @(Get-DeevDnsRecord -TierPath $tier -WarningVariable w3 -WarningAction SilentlyContinue -ErrorVariable e3 -ErrorAction SilentlyContinue)
            $out.Add(($rec | Format-Table | Out-String -Width 400))
            $sync = @(Sync-DeevDhcpReservation -TierPath $tier -Confirm:$false -WarningVariable w4 -WarningAction SilentlyContinue -ErrorVariable e4 -ErrorAction SilentlyContinue)
            $out.Add(($sync | Format-Table | Out-String -Width 400))
            $dsync = @(Sync-DeevDnsRecord -TierPath $tier -Prune -Confirm:$false -WarningVariable w5 -WarningAction SilentlyContinue -ErrorVariable e5 -ErrorAction SilentlyContinue)
            $out.Add(($dsync | Format-Table | Out-String -Width 400))
            foreach ($m in @($w1) + @($w2) + @($w3) + @($w4) + @($w5) + @($e1) + @($e2) + @($e3) + @($e4) + @($e5)) { if ($m) { $out.Add("$m") } }
            $all = $out -join "`n"
            Assert-NoRawControl $all
            # Shown, escaped, and foreign.
            $all | Should -Match ([regex]::Escape('pdrift\x1b[2J\x1b[31mred'))
            $planted = @($res | Where-Object ClientId -In "$($space.MacPrefix):00:00:94", "$($space.MacPrefix):00:00:91", "$($space.MacPrefix):00:00:90")
            $planted.Count | Should -Be 3 -Because ($res | Format-Table | Out-String)
            $planted.IsOwned | Sort-Object -Unique | Should -Be $false
            @($rows | Where-Object { $_.Key -like "$($space.MacPrefix):00:00:9*" } | Where-Object Drift -NE 'Foreign') | Should -BeNullOrEmpty
            # Sync refuses nothing it should not and rewrites nothing it does not own.
            [Convert]::ToBase64String([IO.File]::ReadAllBytes($folderFile)) | Should -Be $folderBytes
            [Convert]::ToBase64String([IO.File]::ReadAllBytes($confFile)) | Should -Be $confBytes
            [Convert]::ToBase64String([IO.File]::ReadAllBytes($handmade)) | Should -Be $handPlanted
            ([IO.File]::ReadAllText($space.DnsmasqHosts)).Contains($ownBad) | Should -BeTrue -Because 'a line the module cannot read in its own file is kept as it was'
            # The module's own entries still work: its reservations and records are all in place.
            $own = @($res | Where-Object IsOwned)
            $own.ClientId | Sort-Object | Should -Be (@($obs, $aut, $acc).MacAddress | Sort-Object)
            @($rows | Where-Object Drift -In 'Missing', 'Changed', 'Stale' | Where-Object Kind -NE 'Reservation') | Should -BeNullOrEmpty -Because ($rows | Out-String)
        }
        finally {
            Remove-Item -LiteralPath $folderFile, $confFile -ErrorAction SilentlyContinue
            [IO.File]::WriteAllBytes($handmade, [Convert]::FromBase64String($handBefore))
            [IO.File]::WriteAllText($space.DnsmasqHosts, ([IO.File]::ReadAllText($space.DnsmasqHosts)).Replace("$ownBad`n", ''))
            Send-DnsmasqHup
        }
        @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'shows a hand edit of Kea''s configuration as Changed, with the journal record of the sync' {
        $conf = $lab.DEEV_LAB_KEA_CONFIG
        Sync-DeevDhcpReservation -TierPath $keaTier -Confirm:$false | Out-Null
        @(Compare-DeevTier -TierPath $keaTier -WarningAction SilentlyContinue | Where-Object Kind -EQ 'Reservation') | Should -BeNullOrEmpty
        $moved = $space.Address('mgmt', 12)
        $text = [IO.File]::ReadAllText($conf)
        $text.Contains("`"$($obs.IPAddress)`"") | Should -BeTrue -Because "Kea's file must hold obs's reservation before the hand edit"
        [IO.File]::WriteAllText($conf, $text.Replace("`"$($obs.IPAddress)`"", "`"$moved`""))
        Send-KeaReload
        try {
            $rows = @(Compare-DeevTier -TierPath $keaTier -WarningAction SilentlyContinue | Where-Object Kind -EQ 'Reservation')
            $rows.Count | Should -Be 1 -Because ($rows | Out-String)
            $rows[0].Drift | Should -Be 'Changed'
            $rows[0].Key | Should -Be $obs.MacAddress
            $rows[0].Before | Should -Match "^$([regex]::Escape($moved)) "
            $rows[0].After | Should -Match "^$([regex]::Escape($obs.IPAddress)) "
            $rows[0].LastCommand | Should -Match 'Sync-DeevDhcpReservation'
            $rows[0].EditedOutsideModule | Should -BeTrue
        }
        finally { Sync-DeevDhcpReservation -TierPath $keaTier -Confirm:$false | Out-Null }
        @(Compare-DeevTier -TierPath $keaTier -WarningAction SilentlyContinue | Where-Object Kind -EQ 'Reservation') | Should -BeNullOrEmpty
    }

    It 'survives hostile reservations planted in Kea''s configuration: escaped, kept as they were, the module''s own entries kept' {
        $conf = $lab.DEEV_LAB_KEA_CONFIG
        Sync-DeevDhcpReservation -TierPath $keaTier -Confirm:$false | Out-Null
        # acc's reservation goes first, so the sync below has something to write through the planted file.
        $acc | Remove-DeevDhcpReservation -TierPath $keaTier -Confirm:$false
        $before = [IO.File]::ReadAllText($conf)
        # An ESC sequence in a host name (JSON's \u001b), a multicast MAC, and an address outside the subnet.
        $planted = @(
            @{ 'hw-address' = "$($space.MacPrefix):00:00:89"; 'ip-address' = $space.Address('mgmt', 8); hostname = "pdrift$([char]0x1b)[2J$([char]0x1b)[31mred" }
            @{ 'hw-address' = '01:00:5e:3c:00:01'; 'ip-address' = $space.Address('mgmt', 9); hostname = 'pdrift-multicast' }
            @{ 'hw-address' = "$($space.MacPrefix):00:00:88"; 'ip-address' = '10.231.97.77'; hostname = 'pdrift-outside' }
        )
        $json = ($planted | ForEach-Object { ($_ | ConvertTo-Json -Compress) + ', ' }) -join ''
        $hostile = [regex]::new('("subnet":\s*"10\.231\.99\.0/24"[\s\S]*?"reservations":\s*\[)').Replace($before, '$1' + $json.Replace('$', '$$'), 1)
        $hostile | Should -Not -Be $before
        [IO.File]::WriteAllText($conf, $hostile)
        Send-KeaReload
        try {
            $out = [System.Collections.Generic.List[string]]::new()
            $res = @(Get-DeevDhcpReservation -TierPath $keaTier -WarningVariable w1 -WarningAction SilentlyContinue -ErrorVariable e1 -ErrorAction SilentlyContinue)
            $out.Add(($res | Format-Table | Out-String -Width 400))
            $rows = @(Compare-DeevTier -TierPath $keaTier -WarningVariable w2 -WarningAction SilentlyContinue -ErrorVariable e2 -ErrorAction SilentlyContinue)
            $out.Add(($rows | Format-Table | Out-String -Width 400)); $out.Add(($rows | Format-List * | Out-String -Width 400))
            $sync = @(Sync-DeevDhcpReservation -TierPath $keaTier -Confirm:$false -WarningVariable w3 -WarningAction SilentlyContinue -ErrorVariable e3 -ErrorAction SilentlyContinue)
            $out.Add(($sync | Format-Table | Out-String -Width 400))
            $errors = @($e1) + @($e2) + @($e3) | Where-Object { $_ }
            foreach ($m in @($w1) + @($w2) + @($w3) + $errors) { if ($m) { $out.Add("$m") } }
            Assert-NoRawControl ($out -join "`n")
            $errors | ForEach-Object { $_.FullyQualifiedErrorId | Should -Not -Match '^System\.|Exception' -Because "$_" }
            # The planted entries are listed (not the module's), the ESC escaped in the table.
            ($out -join "`n") | Should -Match ([regex]::Escape('pdrift\x1b[2J'))
            $listed = @($res | Where-Object ClientId -In "$($space.MacPrefix):00:00:89", "$($space.MacPrefix):00:00:88")
            $listed.Count | Should -Be 2 -Because ($res | Format-Table | Out-String)
            $listed.IsOwned | Sort-Object -Unique | Should -Be $false
            # Nothing the module does not own was changed: the planted reservations are in the file as planted.
            $now = [IO.File]::ReadAllText($conf) | ConvertFrom-Json -AsHashtable
            $subnet = @($now.Dhcp4.subnet4 | Where-Object { $_.subnet -eq '10.231.99.0/24' })[0]
            foreach ($p in $planted) {
                $found = @($subnet.reservations | Where-Object { $_.'hw-address' -eq $p.'hw-address' })
                $found.Count | Should -Be 1
                ($found[0] | ConvertTo-Json -Compress) | Should -Be ($p | ConvertTo-Json -Compress)
            }
            # The sync has acc's reservation to write, but Kea's own checker (kea-dhcp4 -t) refuses the file with the
            # planted address outside its subnet: the sync stops with the module's error and the file stays as planted.
            (@($res | Where-Object IsOwned).ClientId | Sort-Object) | Should -Be (@($obs, $aut).MacAddress | Sort-Object)
            @($errors).Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'BackendValidationFailed,*'
            [IO.File]::ReadAllText($conf) | Should -Be $hostile -Because 'a refused sync leaves the file as it was'
            (@(Get-DeevDhcpReservation -TierPath $keaTier -Owned).ClientId | Sort-Object) | Should -Be (@($obs, $aut).MacAddress | Sort-Object)
        }
        finally {
            [IO.File]::WriteAllText($conf, $before)
            Send-KeaReload
        }
    }

    It 'shows a hand edit of the Unbound include as a Changed A record' {
        Sync-DeevDnsRecord -TierPath $unboundTier -Prune -Confirm:$false | Out-Null
        @(Compare-DeevTier -TierPath $unboundTier -WarningAction SilentlyContinue | Where-Object Kind -NE 'Reservation') | Should -BeNullOrEmpty
        $moved = $space.Address('mgmt', 13)
        $text = [IO.File]::ReadAllText($space.UnboundInclude)
        $text.Contains("A $($acc.IPAddress)") | Should -BeTrue -Because "the include must hold acc's A record before the hand edit"
        [IO.File]::WriteAllText($space.UnboundInclude, $text.Replace("A $($acc.IPAddress)", "A $moved"))
        Send-UnboundReload
        try {
            $rows = @(Compare-DeevTier -TierPath $unboundTier -WarningAction SilentlyContinue | Where-Object { $_.Kind -eq 'A' })
            $rows.Count | Should -Be 1 -Because ($rows | Out-String)
            $rows[0].Drift | Should -Be 'Changed'
            $rows[0].Key | Should -Be $acc.Fqdn
            $rows[0].Before | Should -Match "^$([regex]::Escape($moved))"
            $rows[0].After | Should -Match "^$([regex]::Escape($acc.IPAddress))"
            $rows[0].LastCommand | Should -Match 'Sync-DeevDnsRecord'
            $rows[0].EditedOutsideModule | Should -BeTrue
        }
        finally { Sync-DeevDnsRecord -TierPath $unboundTier -Prune -Confirm:$false | Out-Null }
        @(Compare-DeevTier -TierPath $unboundTier -WarningAction SilentlyContinue | Where-Object Kind -NE 'Reservation') | Should -BeNullOrEmpty
    }

    It 'survives hostile local-data planted in Unbound: escaped, skipped and left on the server, the module''s own records kept' {
        Sync-DeevDnsRecord -TierPath $unboundTier -Prune -Confirm:$false | Out-Null
        $hostileConf = Join-Path (Split-Path $space.UnboundInclude) 'pdrift-hostile.conf'
        $weird = @(
            "local-data: `"we\027ird.$($space.Domain). 300 IN A $($space.Address('mgmt', 11))`""
            "local-data: `"sp\032ace.$($space.Domain). 300 IN A $($space.Address('mgmt', 11))`""
            "local-data: `"UPPER_$($obs.Name).$($space.Domain). 300 IN A $($obs.IPAddress)`""
        ) -join "`n"
        [IO.File]::WriteAllText($hostileConf, "$weird`n")
        & unbound-checkconf $lab.DEEV_LAB_UNBOUND_CONF 2>&1 | Out-String | Should -Match 'no errors' -Because 'the planted lines are ones Unbound itself accepts'
        Send-UnboundReload
        $planted = [Convert]::ToBase64String([IO.File]::ReadAllBytes($hostileConf))
        $own = [Convert]::ToBase64String([IO.File]::ReadAllBytes($space.UnboundInclude))
        try {
            $out = [System.Collections.Generic.List[string]]::new()
            $rec = @(Get-DeevDnsRecord -TierPath $unboundTier -WarningVariable w1 -WarningAction SilentlyContinue -ErrorVariable e1 -ErrorAction SilentlyContinue)
            $out.Add(($rec | Format-Table | Out-String -Width 400))
            $rows = @(Compare-DeevTier -TierPath $unboundTier -WarningVariable w2 -WarningAction SilentlyContinue -ErrorVariable e2 -ErrorAction SilentlyContinue)
            $out.Add(($rows | Format-Table | Out-String -Width 400)); $out.Add(($rows | Format-List * | Out-String -Width 400))
            $sync = @(Sync-DeevDnsRecord -TierPath $unboundTier -Prune -Confirm:$false -WarningVariable w3 -WarningAction SilentlyContinue -ErrorVariable e3 -ErrorAction SilentlyContinue)
            $out.Add(($sync | Format-Table | Out-String -Width 400))
            $errors = @($e1) + @($e2) + @($e3) | Where-Object { $_ }
            foreach ($m in @($w1) + @($w2) + @($w3) + $errors) { if ($m) { $out.Add("$m") } }
            Assert-NoRawControl ($out -join "`n")
            $errors | Should -BeNullOrEmpty -Because ($errors | Out-String)
            [Convert]::ToBase64String([IO.File]::ReadAllBytes($hostileConf)) | Should -Be $planted
            [Convert]::ToBase64String([IO.File]::ReadAllBytes($space.UnboundInclude)) | Should -Be $own -Because 'nothing of the module''s changed, so nothing is rewritten'
            @($rows | Where-Object Kind -NE 'Reservation' | Where-Object Drift -NE 'Foreign') | Should -BeNullOrEmpty -Because ($rows | Out-String)
            @($rec | Where-Object IsOwned).Count | Should -BeGreaterThan 0
        }
        finally {
            Remove-Item -LiteralPath $hostileConf -ErrorAction SilentlyContinue
            Send-UnboundReload
        }
    }

    It 'holds one record per applied change when two processes write at once' {
        $pair = $obs, $acc
        $pair | Remove-DeevDhcpReservation -TierPath $plain -Confirm:$false
        $before = (Get-JournalRecords).Count
        $dotnet = (Get-Process -Id $PID).Path
        $pwsh = Join-Path $PSHOME 'pwsh.dll'
        $processes = foreach ($h in $pair) {
            $start = [System.Diagnostics.ProcessStartInfo]::new($dotnet)
            foreach ($a in $pwsh, '-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$ManifestPath'; Get-DeevMgmtHost -TierPath '$tier' $($h.Name) | Set-DeevDhcpReservation -TierPath '$tier' -Confirm:`$false -ErrorAction Stop | Out-Null") {
                $start.ArgumentList.Add($a)
            }
            $start.RedirectStandardError = $true
            [System.Diagnostics.Process]::Start($start)
        }
        foreach ($p in $processes) {
            $err = $p.StandardError.ReadToEnd()
            $p.WaitForExit(120000) | Should -BeTrue
            $p.ExitCode | Should -Be 0 -Because $err
        }
        $records = Get-JournalRecords
        $records.Count | Should -Be ($before + 2)
        $new = $records | Select-Object -Last 2
        $new | ForEach-Object { @($_.changes).Count | Should -Be 1; $_.result | Should -Be 'applied'; $_.changes[0].action | Should -Be 'Add'; $_.changes[0].before | Should -BeNullOrEmpty }
        $new.changes.key | Sort-Object | Should -Be ($pair.MacAddress | Sort-Object)
        @(Compare-DeevTier -TierPath $tier -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'journals a VM''s creation, power changes and removal with before and after' {
        $web = Get-DeevMgmtHost -TierPath $tier $space.HostName('web001v01')
        try {
            $web | New-DeevMgmtVm -TierPath $tier -NoWait -Confirm:$false | Out-Null
            $web | Stop-DeevMgmtVm -TierPath $tier -Force -Confirm:$false
            $web | Stop-DeevMgmtVm -TierPath $tier -Force -Confirm:$false   # already stopped: nothing changes, nothing is recorded
            $web | Remove-DeevMgmtVm -TierPath $tier -Confirm:$false
            $changes = @(Get-DeevChange -TierPath $tier -HostName $web.Name -Kind VM, VmState)
            $changes.Action | Should -Be @('Add', 'Change', 'Remove')
            $changes[0].Key | Should -Be "$($web.VmId)"
            $changes[0].Before | Should -BeNullOrEmpty
            $changes[0].After | Should -Match "^$($web.Name) from lab-base-"
            $changes[1].Before | Should -Be "$($web.Name) running"
            $changes[1].After | Should -Be "$($web.Name) stopped"
            $changes[2].Before | Should -Match "^$($web.Name) \(stopped, $([regex]::Escape($web.MacAddress))\)"
            $changes[2].After | Should -BeNullOrEmpty
            $changes.Result | Sort-Object -Unique | Should -Be 'applied'
            # Its settings are recorded with the creation, in the same record.
            @(Get-DeevChange -TierPath $tier -Kind VmSetting -HostName "$($web.Name).*").Count | Should -BeGreaterThan 0
        }
        finally { $web | Remove-DeevMgmtVm -TierPath $plain -Confirm:$false -ErrorAction SilentlyContinue }
    }
}

Describe 'Drift: Restore-DeevService and the change journal' {
    BeforeAll {
        $dir = Join-Path $TestDrive 'restore'
        New-Item -ItemType Directory -Force -Path "$dir/data" | Out-Null
        sh -c "umask 077; age-keygen -o '$dir/age.key' 2>/dev/null; ssh-keygen -q -t ed25519 -N '' -C drift-test -f '$dir/signing.key'"
        Set-Content -Path "$dir/allowed_signers" -Value ("deevnet-backup namespaces=`"deevnet-backup`" " + (Get-Content "$dir/signing.key.pub"))
        $recipient = (age-keygen -y "$dir/age.key").Trim()
        $script:rjournal = "$dir/changes.jsonl"
        $script:rtier = "$dir/rs.tier.yaml"
        Set-Content -Path $rtier -Value @"
site: { name: rs, domain: rs.test, macNamespace: "02:de:77", vmidRange: [100, 199] }
segments:
  mgmt: { subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static }
backup: { store: "$dir/store", recipient: $recipient, identityFile: "$dir/age.key", signingKeyFile: "$dir/signing.key", allowedSignersFile: "$dir/allowed_signers", keep: 2 }
journal: $rjournal
hosts:
  rssrc: { segment: mgmt, ip: 10.231.25.60, via: local }
services:
  files: { class: observability, host: rssrc, backup: { paths: ["$dir/data"] } }
"@
        Set-Content -Path "$dir/data/config" -Value 'as backed up'
        $script:rdir = $dir
    }

    It 'records the restore with each restored path, the backup it came from and the result' {
        $backup = Backup-DeevService files -TierPath $rtier -Confirm:$false
        Set-Content -Path "$rdir/data/config" -Value 'changed since'
        Restore-DeevService files -TierPath $rtier -Confirm:$false | Out-Null
        Get-Content "$rdir/data/config" | Should -Be 'as backed up'
        $changes = @(Get-DeevChange -TierPath $rtier)
        $changes.Count | Should -Be 1
        $changes[0].Kind | Should -Be 'Path'
        $changes[0].Key | Should -Match ([regex]::Escape("$rdir/data"))
        $changes[0].After | Should -Be "from $($backup.BackupName)"
        $changes[0].Server | Should -Be 'rssrc'
        $changes[0].Result | Should -Be 'applied'
        $changes[0].Command | Should -Match '^Restore-DeevService'
    }

    It 'stops the restore before anything is written when the journal cannot be written' {
        Set-Content -Path "$rdir/data/config" -Value 'changed again'
        $broken = "$rdir/broken.tier.yaml"
        Set-Content -Path $broken -Value ((Get-Content -Raw $rtier).Replace("journal: $rjournal", "journal: $rdir")) -NoNewline
        { Restore-DeevService files -TierPath $broken -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'JournalUnwritable*'
        Get-Content "$rdir/data/config" | Should -Be 'changed again'
    }
}
