# The drift report and the change journal as an operator meets them on the lab's real dnsmasq (DHCP and DNS) and
# libvirt: Compare-DeevTier after a sync, after hand edits of the server's files and with entries others wrote; the
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
        # The operator's way to change a file on the server: edit it in place, then tell dnsmasq to re-read it.
        function Edit-ServerFile([string] $Path, [string] $From, [string] $To) {
            $content = Get-Content -Raw -LiteralPath $Path
            $content.Contains($From) | Should -BeTrue -Because "$Path must hold '$From' before the hand edit"
            Set-Content -LiteralPath $Path -Value $content.Replace($From, $To) -NoNewline
            Send-DnsmasqHup
        }
        function Get-JournalRecords { @(Get-Content -LiteralPath $journal | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json }) }
        Sync-DeevDhcpReservation -TierPath $tier -Confirm:$false | Out-Null
        Sync-DeevDnsRecord -TierPath $tier -Prune -Confirm:$false | Out-Null
    }

    AfterAll {
        Remove-Item -LiteralPath $handConf -ErrorAction SilentlyContinue
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
