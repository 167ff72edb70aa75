# Saved plans as an operator uses them: -PlanPath writes the plan instead of applying it, the file is reviewed
# (diffed), Invoke-DeevPlan applies exactly it later, or refuses it (PlanStale) when the server or the tier moved.
# Against the lab's real dnsmasq (DHCP hosts file, DNS records proven with dig). Everything is in the space pplan
# (tests/lab/spaces): its tier, its own dnsmasq files, MACs 02:de:2c:…, 10.231.99.224-239.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'Saved plans: surface' {
    It '<Command> takes -PlanPath' -ForEach @(
        @{ Command = 'Set-DeevDhcpReservation' }, @{ Command = 'Remove-DeevDhcpReservation' }, @{ Command = 'Sync-DeevDhcpReservation' }
        @{ Command = 'Set-DeevDnsRecord' }, @{ Command = 'Remove-DeevDnsRecord' }, @{ Command = 'Sync-DeevDnsRecord' }
        @{ Command = 'New-DeevHostIdentity' }
    ) {
        (Get-Command $Command).Parameters.Keys | Should -Contain 'PlanPath'
    }

    It 'Invoke-DeevPlan supports -WhatIf and -Confirm' {
        (Get-Command Invoke-DeevPlan).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Invoke-DeevPlan).Parameters.Keys | Should -Contain 'Confirm'
    }

    It 'refuses a file that is not a plan with PlanInvalid' {
        $bad = Join-Path $TestDrive 'not-a-plan.json'
        Set-Content -LiteralPath $bad -Value '{"format":"something-else"}'
        { Invoke-DeevPlan -Path $bad -ErrorAction Stop } | Should -Throw -ErrorId 'PlanInvalid*'
    }
}

Describe 'Saved plans on the lab dnsmasq' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $script:space = New-LabSpace pplan
        $script:journal = Join-Path $TestDrive 'changes.jsonl'
        $script:tier = Join-Path $TestDrive 'pplan.tier.yaml'
        Set-Content -LiteralPath $tier -Value ((Get-Content -Raw -LiteralPath $space.Tier) + "journal: $journal`n") -NoNewline
        $script:identityFile = $tier -replace '\.tier\.yaml$', '.identity.yaml'
        $script:dnsServer = $lab.DEEV_LAB_SSH_HOST
        function Resolve-Lab([string] $Name) {
            @(& dig "@$dnsServer" +short +time=2 +tries=1 A $Name) | Where-Object { $_ -and -not $_.StartsWith(';') }
        }
        function Get-PlanFile([string] $Name) { Join-Path $TestDrive $Name }
        function Get-Sha256([string] $Path) { (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLowerInvariant() }
        function Get-LastRecord { Get-Content -LiteralPath $journal | Select-Object -Last 1 | ConvertFrom-Json }
    }

    AfterAll {
        if ($space) { Remove-LabSpace pplan }
    }

    It 'saves an identity plan without writing the identity file, and applies it later' {
        $plan = Get-PlanFile 'identity.plan.json'
        New-DeevHostIdentity -TierPath $tier -PlanPath $plan | Should -BeNullOrEmpty
        Get-ChildItem -LiteralPath $TestDrive -Filter '*.identity.yaml' | Should -BeNullOrEmpty
        $saved = Get-Content -Raw -LiteralPath $plan | ConvertFrom-Json
        $saved.steps.service | Should -Be 'identity'
        $saved.steps.changes.action | Should -Contain 'Add'

        $applied = @(Invoke-DeevPlan -Path $plan -Confirm:$false)
        $applied.Count | Should -Be $saved.steps.allocate.Count
        $applied.HostName | Should -Be $saved.steps.allocate
        (Get-DeevHostIdentity -TierPath $tier | Where-Object HostName -In $saved.steps.allocate).VmId | Should -Be $applied.VmId
        (Get-LastRecord).planSha256 | Should -Be (Get-Sha256 $plan)
    }

    It 'saves a DHCP plan that changes nothing, byte-identical twice, and applies exactly it later' {
        $first = Get-PlanFile 'dhcp.plan.json'; $second = Get-PlanFile 'dhcp-again.plan.json'
        $before = Get-Sha256 $space.DnsmasqHosts
        Sync-DeevDhcpReservation -TierPath $tier -PlanPath $first | Should -BeNullOrEmpty
        Sync-DeevDhcpReservation -TierPath $tier -PlanPath $second
        Get-Sha256 $second | Should -Be (Get-Sha256 $first)
        Get-Sha256 $space.DnsmasqHosts | Should -Be $before
        Get-DeevDhcpReservation -TierPath $tier -Owned | Should -BeNullOrEmpty

        $text = Get-Content -Raw -LiteralPath $first
        $text | Should -Not -Match '\r'
        $text | Should -Not -Match '"time"'
        $saved = $text | ConvertFrom-Json
        $saved.tier.sha256 | Should -Be (Get-Sha256 $tier)
        $saved.identity.sha256 | Should -Be (Get-Sha256 $identityFile)
        $hosts = @(Get-DeevMgmtHost -TierPath $tier -Segment management)
        $saved.steps.setReservations.clientId | Should -Be @($hosts.MacAddress | Sort-Object)

        $changes = @(Invoke-DeevPlan -Path $first -Confirm:$false)
        $changes.Count | Should -Be $hosts.Count
        $changes | ForEach-Object { $_.Applied | Should -BeTrue }
        $owned = Get-DeevDhcpReservation -TierPath $tier -Owned
        foreach ($h in $hosts) { ($owned | Where-Object ClientId -EQ $h.MacAddress).IPAddress.ToString() | Should -Be $h.IPAddress }
        $file = Get-Content -Raw -LiteralPath $space.DnsmasqHosts
        foreach ($h in $hosts) { $file | Should -Match ([regex]::Escape($h.IPAddress)) }
        $record = Get-LastRecord
        $record.planSha256 | Should -Be (Get-Sha256 $first)
        $record.changes.Count | Should -Be $hosts.Count
        # Get-DeevChange shows which plan each change came from.
        $shown = @(Get-DeevChange -TierPath $tier -Kind reservation | Where-Object PlanSha256)
        $shown.Count | Should -Be $hosts.Count
        $shown.PlanSha256 | Sort-Object -Unique | Should -Be (Get-Sha256 $first)
    }

    It 'shows a changed plan in a diff: the reservation that differs' {
        $h = @(Get-DeevMgmtHost -TierPath $tier -Segment management)[0]
        $same = Get-PlanFile 'same.plan.json'; $moved = Get-PlanFile 'moved.plan.json'
        $h | Set-DeevDhcpReservation -PlanPath $same
        $newIp = $space.Address('mgmt', 12)
        Set-DeevDhcpReservation -TierPath $tier -ClientId $h.MacAddress -IPAddress $newIp -Name $h.Name -PlanPath $moved
        (Get-Content -Raw -LiteralPath $same | ConvertFrom-Json).steps.changes | Should -BeNullOrEmpty
        $diff = Compare-Object (Get-Content -LiteralPath $same) (Get-Content -LiteralPath $moved)
        ($diff | Where-Object SideIndicator -EQ '=>').InputObject -join "`n" | Should -Match ([regex]::Escape($newIp))
        ($diff | Where-Object SideIndicator -EQ '=>').InputObject -join "`n" | Should -Match '"Change"'
    }

    It 'refuses a plan after a hand edit on the server, naming the entry, and applies nothing' {
        $hosts = @(Get-DeevMgmtHost -TierPath $tier -Segment management)
        $plan = Get-PlanFile 'stale-server.plan.json'
        Set-DeevDhcpReservation -TierPath $tier -ClientId $hosts[0].MacAddress -IPAddress $space.Address('mgmt', 13) -Name $hosts[0].Name -PlanPath $plan
        # By hand, on the server: another owned reservation gets another address.
        $edited = (Get-Content -Raw -LiteralPath $space.DnsmasqHosts) -replace ([regex]::Escape($hosts[1].IPAddress) + '\b'), $space.Address('mgmt', 14)
        Set-Content -LiteralPath $space.DnsmasqHosts -Value $edited -NoNewline
        $before = Get-Sha256 $space.DnsmasqHosts
        $lines = @(Get-Content -LiteralPath $journal).Count

        Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PlanStale,*'
        $err[0].Exception.Message | Should -Match ([regex]::Escape($hosts[1].MacAddress) + ' changed')
        Get-Sha256 $space.DnsmasqHosts | Should -Be $before
        @(Get-Content -LiteralPath $journal).Count | Should -Be $lines
        (Get-DeevDhcpReservation -TierPath $tier -ClientId $hosts[0].MacAddress).IPAddress.ToString() | Should -Be $hosts[0].IPAddress
    }

    It 'saves a removal and applies it later: the reservation is gone from the server' {
        $gone = @(Get-DeevMgmtHost -TierPath $tier -Segment management)[2]
        $plan = Get-PlanFile 'remove.plan.json'
        Remove-DeevDhcpReservation -TierPath $tier -ClientId $gone.MacAddress -PlanPath $plan -Confirm:$false
        Get-DeevDhcpReservation -TierPath $tier -ClientId $gone.MacAddress | Should -Not -BeNullOrEmpty
        (Get-Content -Raw -LiteralPath $plan | ConvertFrom-Json).steps[0].remove | Should -Be $gone.MacAddress

        $change = Invoke-DeevPlan -Path $plan -Confirm:$false
        $change.Action | Should -Be 'Remove'
        Get-DeevDhcpReservation -TierPath $tier -Owned | Where-Object ClientId -EQ $gone.MacAddress | Should -BeNullOrEmpty
        Get-Content -Raw -LiteralPath $space.DnsmasqHosts | Should -Not -Match ([regex]::Escape($gone.MacAddress))
        (Get-LastRecord).changes.action | Should -Be 'Remove'
    }

    It 'refuses a plan after a tier edit, and applies nothing' {
        $plan = Get-PlanFile 'stale-tier.plan.json'
        Sync-DeevDnsRecord -TierPath $tier -PlanPath $plan
        Add-Content -LiteralPath $tier -Value '# reviewed by hand'
        $before = Get-Sha256 $space.DnsmasqRecords
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage '*tier file*changed*'
        Get-Sha256 $space.DnsmasqRecords | Should -Be $before
    }

    It 'saves a DNS plan, applies it later, and the names resolve' {
        $obs = $space.HostName('obs001v01') + '.' + $space.Domain
        $plan = Get-PlanFile 'dns.plan.json'
        Sync-DeevDnsRecord -TierPath $tier -PlanPath $plan | Should -BeNullOrEmpty
        Resolve-Lab $obs | Should -BeNullOrEmpty
        Invoke-DeevPlan -Path $plan -WhatIf 6>$null | Should -BeNullOrEmpty
        Resolve-Lab $obs | Should -BeNullOrEmpty

        $result = Invoke-DeevPlan -Path $plan -Confirm:$false
        $result.Applied | Should -BeTrue
        $result.Added | Should -BeGreaterThan 0
        Resolve-Lab $obs | Should -Be $space.Address('mgmt', 5)
        (Get-LastRecord).planSha256 | Should -Be (Get-Sha256 $plan)
    }

    It 'refuses to write a plan into a folder that does not exist' {
        { Sync-DeevDnsRecord -TierPath $tier -PlanPath (Join-Path $TestDrive 'no/such/folder/plan.json') -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanWriteFailed*'
    }
}
