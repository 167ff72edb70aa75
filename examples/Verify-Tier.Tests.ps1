<#
.SYNOPSIS
    Rebuild verification: after Invoke-DeevRebuild (or any change), prove every rule of the tier with Pester.
.DESCRIPTION
    Runs Test-DeevExtendedTier once and turns its results into one test per service and one per host, each failing
    with the failed checks listed. Use it as the last step of a rebuild script or a CI job:

        $c = New-PesterContainer -Path ./examples/Verify-Tier.Tests.ps1 -Data @{ TierPath = './mobile.tier.yaml' }
        Invoke-Pester -Container $c -Output Detailed -CI      # exit code = number of failed tests

    Without -Data it takes $env:DEEV_TIER. -Service narrows it to the services just rebuilt (and their hosts).
#>
param(
    [string] $TierPath = $env:DEEV_TIER,
    [string[]] $Service = @()
)

BeforeDiscovery {
    $manifest = Join-Path $PSScriptRoot '../Deevnet.Extended.psd1'
    if (Test-Path $manifest) { Import-Module $manifest } else { Import-Module Deevnet.Extended }
    if (-not $TierPath) { throw 'No tier: pass -Data @{ TierPath = ... } to New-PesterContainer, or set $env:DEEV_TIER.' }
    # Hashtables, so each test sees Name, Class and HostName as variables.
    $services = @(Get-DeevService -TierPath $TierPath | Where-Object { $Service.Count -eq 0 -or $_.Name -in $Service } |
            ForEach-Object { @{ Name = $_.Name; Class = $_.Class; HostName = $_.HostName } })
    $hosts = @($services | ForEach-Object { $_.HostName } | Sort-Object -Unique)
}

Describe 'Extended services tier <TierPath>' {
    BeforeAll {
        $manifest = Join-Path $PSScriptRoot '../Deevnet.Extended.psd1'
        if (Test-Path $manifest) { Import-Module $manifest } else { Import-Module Deevnet.Extended }
        # One run for every test below: the checks run concurrently, so this takes about as long as the slowest.
        $selection = @{ TierPath = $TierPath }
        if ($Service.Count -gt 0) { $selection.Service = $Service }
        $script:results = @(Test-DeevExtendedTier @selection)
    }

    It 'checked something' {
        $results.Count | Should -BeGreaterThan 0
    }

    It 'service <Name> (<Class> on <HostName>) passes its checks' -ForEach $services {
        $results | Where-Object Service -eq $Name | Should -PassDeevTier -Because "service $Name must answer after a rebuild"
    }

    It 'host <HostName> passes its DNS, reservation, identity, VM and isolation checks' -ForEach @($hosts | ForEach-Object { @{ HostName = $_ } }) {
        $results | Where-Object { $_.Service -eq '' -and $_.Host -eq $HostName } | Should -PassDeevTier
    }
}
