# Tab completion as a user meets it: TabExpansion2 on each parameter that takes a tier concept, with the tier given
# by an absolute -TierPath, a relative -TierPath and a relative $env:DEEV_TIER (the way the README sets it).
BeforeDiscovery {
    $script:cases = @(
        @{ Line = 'Get-DeevMgmtHost -Name '; Concept = 'host' }
        @{ Line = 'Get-DeevMgmtHost -Segment '; Concept = 'segment' }
        @{ Line = 'Get-DeevHostIdentity -Name '; Concept = 'host' }
        @{ Line = 'New-DeevMgmtVm -Name '; Concept = 'host' }
        @{ Line = 'Get-DeevMgmtVm -Name '; Concept = 'host' }
        @{ Line = 'Start-DeevMgmtVm -Name '; Concept = 'host' }
        @{ Line = 'Stop-DeevMgmtVm -Name '; Concept = 'host' }
        @{ Line = 'Remove-DeevMgmtVm -Name '; Concept = 'host' }
        @{ Line = 'Get-DeevDnsRecord -HostName '; Concept = 'host' }
        @{ Line = 'Set-DeevDnsRecord -HostName '; Concept = 'host' }
        @{ Line = 'Remove-DeevDnsRecord -HostName '; Concept = 'host' }
        @{ Line = 'Sync-DeevDnsRecord -HostName '; Concept = 'host' }
        @{ Line = 'Invoke-DeevHostCommand -HostName '; Concept = 'host' }
        @{ Line = 'Invoke-DeevHostCommand -Via '; Concept = 'via' }
        @{ Line = 'Set-DeevDhcpReservation -Segment '; Concept = 'segment' }
        @{ Line = 'Get-DeevService -Name '; Concept = 'service' }
        @{ Line = 'Backup-DeevService -Service '; Concept = 'service' }
        @{ Line = 'Test-DeevExtendedTier -HostName '; Concept = 'host' }
        @{ Line = 'Invoke-DeevRebuild -Service '; Concept = 'service' }
        @{ Line = 'Invoke-DeevRebuild -Class '; Concept = 'class' }
        @{ Line = 'Get-DeevPlaybook -Class '; Concept = 'class' }
        @{ Line = 'Get-DeevChange -HostName '; Concept = 'host' }
        @{ Line = 'Wait-DeevMgmtHost -Name '; Concept = 'host' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:examples = Join-Path $RepoRoot 'examples'
    $tier = Get-DeevTier -TierPath (Join-Path $examples 'lab.tier.yaml')
    $script:expected = @{
        host    = @((Get-DeevMgmtHost -TierPath $tier.TierPath).Name)
        segment = @($tier.Tier.Segments.Name)
        service = @((Get-DeevService -TierPath $tier.TierPath).Name)
        via     = @($tier.Tier.Dhcp.Via.ToString())
        class   = @((Get-DeevService -TierPath $tier.TierPath).Class | ForEach-Object ToString | Sort-Object -Unique)
    }

    function Complete([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
    }
}

Describe 'Completion of <Line>' -ForEach $cases {
    BeforeEach { $saved = $env:DEEV_TIER; Push-Location $examples }
    AfterEach { $env:DEEV_TIER = $saved; Pop-Location }

    It 'completes every <Concept> with an absolute -TierPath' {
        $env:DEEV_TIER = $null
        $names = Complete "$Line" | Select-Object -Unique
        if ($Concept -ne 'class') {
            $names | Should -BeNullOrEmpty -Because 'without a tier there is nothing to complete from (and no error)'
        }
        else { $names | Should -Be @('Access', 'Automation', 'Observability') -Because 'the standard classes complete anywhere' }
        $names = Complete "$($Line.Split(' ')[0]) -TierPath '$(Join-Path $examples 'lab.tier.yaml')' $($Line.Split(' ', 2)[1])"
        foreach ($name in $expected[$Concept]) { $names | Should -Contain $name }
    }

    It 'completes every <Concept> with a relative -TierPath' {
        $env:DEEV_TIER = $null
        $names = Complete "$($Line.Split(' ')[0]) -TierPath ./lab.tier.yaml $($Line.Split(' ', 2)[1])"
        foreach ($name in $expected[$Concept]) { $names | Should -Contain $name }
    }

    It 'completes every <Concept> with a relative $env:DEEV_TIER' {
        $env:DEEV_TIER = 'lab.tier.yaml'
        $names = Complete $Line
        foreach ($name in $expected[$Concept]) { $names | Should -Contain $name }
    }
}
