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
        @{ Command = 'New-DeevHostIdentity' }; @{ Command = 'New-DeevMgmtVm' }; @{ Command = 'Remove-DeevMgmtVm' }
        @{ Command = 'Start-DeevMgmtVm' }; @{ Command = 'Stop-DeevMgmtVm' }; @{ Command = 'Restore-DeevService' }; @{ Command = 'Invoke-DeevRebuild' }
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

# VM plans on the lab's libvirt (test driver, shared by the lab): the space's web host (VMID 2310, static segment, so
# no reservation is needed). "By hand" is virsh on the same connection.
Describe 'Saved VM plans on the lab libvirt' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $script:uri = $lab.DEEV_LAB_LIBVIRT_URI
        $script:knownHosts = Join-Path $lab.DEEV_LAB_ROOT 'ssh/known_hosts'
        $script:space = New-LabSpace pplan
        $script:journal = Join-Path $TestDrive 'vm-changes.jsonl'
        $script:tier = Join-Path $TestDrive 'pplanvm.tier.yaml'
        Set-Content -LiteralPath $tier -Value ((Get-Content -Raw -LiteralPath $space.Tier) + "journal: $journal`n") -NoNewline
        New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null
        $script:web = Get-DeevMgmtHost -TierPath $tier $space.HostName('web001v01')
        function Get-PlanFile([string] $Name) { Join-Path $TestDrive $Name }
        function Get-Sha256([string] $Path) { (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLowerInvariant() }
        function Get-Domain { @(& virsh -c $uri list --all --name) | Where-Object { $_ -eq $web.Name } }
        function Get-JournalCount { if (Test-Path -LiteralPath $journal) { @(Get-Content -LiteralPath $journal).Count } else { 0 } }
        function Remove-ByHand { & virsh -q -c $uri destroy $web.Name 2>$null | Out-Null; & virsh -q -c $uri undefine $web.Name | Out-Null }
    }

    AfterAll {
        if ($web) {
            Remove-DeevMgmtVm -TierPath $tier -Name $web.Name -Confirm:$false -ErrorAction SilentlyContinue
            if (Get-Domain) { Remove-ByHand }
        }
        if ($space) { Remove-LabSpace pplan }
    }

    It 'saves a VM plan without creating the VM, byte-identical twice, with no key or secret in it' {
        $first = Get-PlanFile 'vm.plan.json'; $second = Get-PlanFile 'vm-again.plan.json'
        $keys = Get-Sha256 $knownHosts
        $web | New-DeevMgmtVm -SeedHostKey -PlanPath $first 6>$null | Should -BeNullOrEmpty
        $web | New-DeevMgmtVm -SeedHostKey -PlanPath $second 6>$null
        Get-Sha256 $second | Should -Be (Get-Sha256 $first)
        Get-Domain | Should -BeNullOrEmpty
        Get-Sha256 $knownHosts | Should -Be $keys

        $text = Get-Content -Raw -LiteralPath $first
        $text | Should -Not -Match 'PRIVATE KEY|BEGIN OPENSSH|password|token'
        $step = ($text | ConvertFrom-Json).steps | Where-Object service -EQ 'vm'
        $step.server | Should -Be 'labvirt'
        $step.vms.name | Should -Be $web.Name
        $step.vms.vmId | Should -Be $web.VmId
        $step.vms.action | Should -Be 'build'
        $step.vms.seedHostKey | Should -BeTrue
        @($step.read.entries.PSObject.Properties).Count | Should -Be 0
        ($step.changes | Where-Object kind -EQ 'VM').action | Should -Be 'Add'
        ($step.changes | Where-Object key -EQ "$($web.Name).interface").after | Should -Match ([regex]::Escape($web.MacAddress))
    }

    It 'applies the saved VM plan later: the VM exists in virsh with its MAC, journalled with the plan hash' {
        $plan = Get-PlanFile 'vm.plan.json'
        $vm = Invoke-DeevPlan -Path $plan -Confirm:$false
        $vm.Name | Should -Be $web.Name
        $vm.Changes | Should -Be 'created'
        Get-Domain | Should -Be $web.Name
        (& virsh -c $uri domiflist $web.Name) -join "`n" | Should -Match ([regex]::Escape($web.MacAddress))
        (& virsh -c $uri domstate $web.Name) -join '' | Should -Match 'running'
        $record = Get-Content -LiteralPath $journal | Select-Object -Last 1 | ConvertFrom-Json
        $record.planSha256 | Should -Be (Get-Sha256 $plan)
        $record.result | Should -Be 'applied'
        ($record.changes | Where-Object kind -EQ 'VM').action | Should -Be 'Add'
    }

    It 'saves a power-off and makes it later: the VM is shut off in virsh; a start plan is stale once it is running' {
        $stop = Get-PlanFile 'vm-stop.plan.json'; $start = Get-PlanFile 'vm-start.plan.json'
        $web | Stop-DeevMgmtVm -Force -PlanPath $stop 6>$null
        (& virsh -c $uri domstate $web.Name) -join '' | Should -Match 'running'
        ((Get-Content -Raw -LiteralPath $stop | ConvertFrom-Json).steps.changes).after | Should -Be "$($web.Name) stopped"
        Invoke-DeevPlan -Path $stop -Confirm:$false | Should -BeNullOrEmpty
        (& virsh -c $uri domstate $web.Name) -join '' | Should -Match 'shut off'
        (Get-Content -LiteralPath $journal | Select-Object -Last 1 | ConvertFrom-Json).planSha256 | Should -Be (Get-Sha256 $stop)

        $web | Start-DeevMgmtVm -PlanPath $start 6>$null
        & virsh -q -c $uri start $web.Name | Out-Null
        { Invoke-DeevPlan -Path $start -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*$($web.Name) (VMID $($web.VmId)) changed*"
    }

    It 'refuses a removal plan after the VM was reconfigured by hand, naming it, and removes nothing' {
        $plan = Get-PlanFile 'vm-remove-stale.plan.json'
        Remove-DeevMgmtVm -TierPath $tier -Name $web.Name -PlanPath $plan 6>$null
        Get-Domain | Should -Be $web.Name
        $autostart = @(& virsh -c $uri dominfo $web.Name) -match '^Autostart:\s+enable'
        if ($autostart) { & virsh -q -c $uri autostart --disable $web.Name | Out-Null } else { & virsh -q -c $uri autostart $web.Name | Out-Null }
        $lines = Get-JournalCount
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*$($web.Name) (VMID $($web.VmId)) changed*"
        Get-Domain | Should -Be $web.Name
        Get-JournalCount | Should -Be $lines
    }

    It 'refuses a removal plan after the VM was removed by hand (virsh)' {
        $plan = Get-PlanFile 'vm-remove-gone.plan.json'
        Remove-DeevMgmtVm -TierPath $tier -Name $web.Name -PlanPath $plan 6>$null
        Remove-ByHand
        $lines = Get-JournalCount
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*$($web.Name) (VMID $($web.VmId)) is gone*"
        Get-JournalCount | Should -Be $lines
    }

    It 'refuses a build plan after a VM of that name was created by hand (virsh), and creates nothing' {
        $plan = Get-PlanFile 'vm-build-stale.plan.json'
        $web | New-DeevMgmtVm -PlanPath $plan 6>$null
        $xml = Join-Path $TestDrive 'handmade.xml'
        Set-Content -LiteralPath $xml -Value "<domain type='test'><name>$($web.Name)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"
        & virsh -q -c $uri define $xml | Out-Null
        try {
            { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*$($web.Name) (VMID $($web.VmId))*"
            (& virsh -c $uri domiflist $web.Name) -join "`n" | Should -Not -Match ([regex]::Escape($web.MacAddress))
        }
        finally { Remove-ByHand }
    }

    It 'saves a removal and applies it later: the VM is gone from virsh' {
        $web | New-DeevMgmtVm -NoWait -Confirm:$false | Out-Null
        $plan = Get-PlanFile 'vm-remove.plan.json'
        Remove-DeevMgmtVm -TierPath $tier -Name $web.Name -PlanPath $plan 6>$null
        ((Get-Content -Raw -LiteralPath $plan | ConvertFrom-Json).steps.vms).action | Should -Be 'remove'
        Get-Domain | Should -Be $web.Name
        Invoke-DeevPlan -Path $plan -Confirm:$false | Should -BeNullOrEmpty
        Get-Domain | Should -BeNullOrEmpty
        $record = Get-Content -LiteralPath $journal | Select-Object -Last 1 | ConvertFrom-Json
        $record.planSha256 | Should -Be (Get-Sha256 $plan)
        $record.changes.action | Should -Be 'Remove'
    }
}
