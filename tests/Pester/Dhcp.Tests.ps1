# DHCP reservations as an operator meets them: parameter names of the Windows DhcpServer module, pipeline binding
# from Get-DeevMgmtHost, -WhatIf, idempotence and error ids, against the lab's real dnsmasq and Kea. On the lab
# everything is in the space pdhcp (tests/lab/spaces): its tier (hosts pdhcpobs001v01…, MACs 02:de:36:…,
# 10.231.99.64-79), its own dnsmasq hosts file, guests pdhcp-…; of Kea's shared file it compares only its part.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'DHCP reservation cmdlets: surface' {
    It 'Set-DeevDhcpReservation takes <Name> (alias <Alias>) by property name' -ForEach @(
        @{ Name = 'IPAddress'; Alias = 'ReservedIP' }
        @{ Name = 'ClientId'; Alias = 'MacAddress' }
        @{ Name = 'Name'; Alias = 'HostName' }
        @{ Name = 'Description'; Alias = $null }
        @{ Name = 'ScopeId'; Alias = $null }
        @{ Name = 'Segment'; Alias = $null }
        @{ Name = 'TierPath'; Alias = 'Tier' }
    ) {
        $p = (Get-Command Set-DeevDhcpReservation).Parameters[$Name]
        $p | Should -Not -BeNullOrEmpty
        $p.ParameterSets.Values.ValueFromPipelineByPropertyName | Should -Contain $true
        if ($Alias) { $p.Aliases | Should -Contain $Alias }
    }

    It 'every writing DHCP cmdlet supports -WhatIf and -Confirm' -ForEach @(
        @{ Command = 'Set-DeevDhcpReservation' }, @{ Command = 'Remove-DeevDhcpReservation' }, @{ Command = 'Sync-DeevDhcpReservation' }
    ) {
        (Get-Command $Command).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command $Command).Parameters.Keys | Should -Contain 'Confirm'
    }
}

Describe 'DHCP reservations in the lab (<Server>)' -Skip:(-not $LabUp) -ForEach @(
    @{ Server = 'dnsmasq' }, @{ Server = 'kea' }
) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $script:space = New-LabSpace pdhcp
        $text = Get-Content -Raw -LiteralPath $space.Tier
        if ($Server -eq 'kea') {
            $kea = "dhcp:`n  kind: kea`n  via: `"ssh://root@$($lab.DEEV_LAB_SSH_HOST)`"`n  configFile: $($lab.DEEV_LAB_KEA_CONFIG)`n  controlSocket: $($lab.DEEV_LAB_KEA_SOCKET)`n  netns: $($lab.DEEV_LAB_KEA_NETNS)`n"
            $text = $text -replace '(?m)^dhcp:\n(?:[ \t]+.*\n)+', $kea
        }
        $script:tier = Join-Path $TestDrive "lab-$Server.tier.yaml"
        Set-Content -LiteralPath $tier -Value $text -NoNewline
        New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null
        # What this suite may compare of the server's file: dnsmasq, the space's own hosts file; Kea (one file for
        # everyone), the reservations of the space's MACs and addresses and the hand-made one, as the file has them.
        function Get-ServerPart {
            if ($Server -ne 'kea') { return (Get-FileHash -LiteralPath $space.DnsmasqHosts).Hash }
            $config = Get-Content -Raw -LiteralPath $lab.DEEV_LAB_KEA_CONFIG | ConvertFrom-Json
            @(foreach ($subnet in $config.Dhcp4.subnet4) {
                foreach ($r in @($subnet.reservations)) {
                    if (-not $r) { continue }
                    $mine = $r.'hw-address'.StartsWith($space.MacPrefix + ':') -or $r.'hw-address' -eq '02:aa:00:00:00:01' -or
                        $r.'ip-address' -in (0..15 | ForEach-Object { $space.Address('mgmt', $_) })
                    if ($mine) { "$($subnet.subnet) $($r | ConvertTo-Json -Compress -Depth 10)" }
                }
            }) -join "`n"
        }
        $script:hosts = @(Get-DeevMgmtHost -TierPath $tier -Segment management)
        # Kea's file outlives the space: reservations of the space's MACs that an interrupted earlier run left go first.
        Get-DeevDhcpReservation -TierPath $tier -Owned | Where-Object ClientId -like "$($space.MacPrefix):*" |
            Remove-DeevDhcpReservation -TierPath $tier -Confirm:$false
        $script:guests = foreach ($h in $hosts) { New-LabGuest -Name ($space.GuestPrefix + (Get-Random -Maximum 999999)) -MacAddress $h.MacAddress -Server $Server }
    }

    AfterAll {
        $guests | ForEach-Object { $_ | Remove-LabGuest }
        $hosts | Remove-DeevDhcpReservation -TierPath $tier -Confirm:$false -ErrorAction SilentlyContinue
        if ($space) { Remove-LabSpace pdhcp }
    }

    It '-WhatIf prints the plan and changes nothing on the server' {
        $before = Get-ServerPart
        $info = $hosts | Set-DeevDhcpReservation -WhatIf -InformationVariable plan 6>$null
        $info | Should -BeNullOrEmpty
        ($plan | Out-String) | Should -Match 'to add'
        Get-ServerPart | Should -Be $before
    }

    It 'Get-DeevMgmtHost | Set-DeevDhcpReservation gives every guest its address' {
        $result = Get-DeevMgmtHost -TierPath $tier -Segment management | Set-DeevDhcpReservation -PassThru
        $result.ClientId | Sort-Object | Should -Be ($hosts.MacAddress | Sort-Object)
        foreach ($i in 0..($hosts.Count - 1)) {
            $guests[$i] | Invoke-LabGuestDhcp | Should -Be $hosts[$i].IPAddress
        }
    }

    It 'a second run reports no changes and leaves the file as it is' {
        $before = Get-ServerPart
        $hosts | Set-DeevDhcpReservation -InformationVariable plan
        ($plan | Out-String) | Should -Match '0 to add, 0 to change, 0 to remove'
        Get-ServerPart | Should -Be $before
    }

    It 'lists the reservations with their owner' {
        $mine = Get-DeevDhcpReservation -TierPath $tier -Owned
        $hosts.MacAddress | ForEach-Object { $mine.ClientId | Should -Contain $_ }
        if ($Server -eq 'kea') {
            (Get-DeevDhcpReservation -TierPath $tier -ClientId 02-AA-00-00-00-01).IsOwned | Should -BeFalse
        }
    }

    It 'rejects a host name that could reach a shell, with a stable id, and writes nothing' {
        $pwned = Join-Path $space.Root 'pwned'   # the space's: no other suite's run can make or remove it
        Remove-Item $pwned -ErrorAction SilentlyContinue
        $before = Get-ServerPart
        Set-DeevDhcpReservation -TierPath $tier -ClientId ($space.MacPrefix + ':00:00:02') -IPAddress $space.Address('mgmt', 13) -Name "a;touch $pwned" -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'ReservationInvalid,Deevnet.Extended.Commands.SetDeevDhcpReservationCommand'
        $pwned | Should -Not -Exist
        Get-ServerPart | Should -Be $before
    }

    Context 'with a change journal' {
        BeforeAll {
            $script:journal = Join-Path $TestDrive "changes-$Server.jsonl"
            $script:journaled = Join-Path $TestDrive "journaled-$Server.tier.yaml"
            Set-Content -LiteralPath $journaled -Value ((Get-Content -Raw -LiteralPath $tier) + "journal: $journal`n") -NoNewline
            Copy-Item -LiteralPath ($tier -replace '\.tier\.yaml$', '.identity.yaml') -Destination ($journaled -replace '\.tier\.yaml$', '.identity.yaml')
            $script:first = $hosts[0]
        }
        AfterAll { $first | Remove-DeevDhcpReservation -TierPath $tier -Confirm:$false -ErrorAction SilentlyContinue }

        It 'records each applied change with who, what, before and after, and Get-DeevChange finds it' {
            $first | Remove-DeevDhcpReservation -TierPath $tier -Confirm:$false -ErrorAction SilentlyContinue
            $first | Set-DeevDhcpReservation -TierPath $journaled | Out-Null
            $changes = @(Get-DeevChange -TierPath $journaled -Kind Reservation -HostName $first.Name)
            $changes.Count | Should -Be 1
            $changes[0].Action | Should -Be 'Add'
            $changes[0].Key | Should -Be $first.MacAddress
            $changes[0].After | Should -Match ([regex]::Escape($first.IPAddress))
            $changes[0].Result | Should -Be 'applied'
            $changes[0].Operator | Should -Be "$([Environment]::UserName)@$([Environment]::MachineName)"
            $changes[0].TierSha256 | Should -Be (Get-FileHash -LiteralPath $journaled -Algorithm SHA256).Hash.ToLowerInvariant()
            @(Get-DeevChange -TierPath $journaled -Since (Get-Date).AddMinutes(5)).Count | Should -Be 0
            @(Get-DeevChange -TierPath $journaled -Kind CNAME).Count | Should -Be 0
        }

        It 'stops the change before it is made when the journal cannot be written, unless -SkipJournal' {
            $first | Remove-DeevDhcpReservation -TierPath $tier -Confirm:$false
            $broken = Join-Path $TestDrive "broken-$Server.tier.yaml"
            Set-Content -LiteralPath $broken -Value ((Get-Content -Raw -LiteralPath $tier) + "journal: $TestDrive`n") -NoNewline   # a folder
            Copy-Item -LiteralPath ($tier -replace '\.tier\.yaml$', '.identity.yaml') -Destination ($broken -replace '\.tier\.yaml$', '.identity.yaml')
            $before = Get-ServerPart
            { $first | Set-DeevDhcpReservation -TierPath $broken -ErrorAction Stop } | Should -Throw -ErrorId 'JournalUnwritable*'
            Get-ServerPart | Should -Be $before
            $first | Set-DeevDhcpReservation -TierPath $broken -SkipJournal -WarningVariable warned 3>$null | Out-Null
            ($warned | Out-String) | Should -Match 'not recorded'
            Get-ServerPart | Should -Not -Be $before
        }
    }

    It 'skips hosts on a static segment that come from the pipeline, with a verbose note and no error' {
        $before = Get-ServerPart
        $verbose = Get-DeevMgmtHost -TierPath $tier -Segment platform | Set-DeevDhcpReservation -ErrorVariable err -ErrorAction SilentlyContinue -Verbose 4>&1
        $err | Should -BeNullOrEmpty
        ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match "segment 'platform' has static addressing"
        Get-ServerPart | Should -Be $before
    }

    It 'gives a host on a static segment named directly a clear error instead of a reservation' {
        $platform = Get-DeevMgmtHost -TierPath $tier -Segment platform | Select-Object -First 1
        Set-DeevDhcpReservation -TierPath $tier -ClientId ($space.MacPrefix + ':00:00:03') -IPAddress $platform.IPAddress -Segment platform -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'StaticSegmentNoReservation,Deevnet.Extended.Commands.SetDeevDhcpReservationCommand'
    }
}
