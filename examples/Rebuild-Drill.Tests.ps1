# A rebuild drill to copy: prove, with Pester, that a service comes back from nothing.
#   $env:DEEV_TIER = './mobile.tier.yaml'; Invoke-Pester ./Rebuild-Drill.Tests.ps1
# It backs the service up, destroys it completely (VM, DHCP reservation, DNS records and, with the VM, its data),
# rebuilds it with Invoke-DeevRebuild and checks that Test-DeevExtendedTier passes and the data is back byte for
# byte. Run it against a site where the service may go down for a minute. On real hardware the VM boots by itself;
# in this repository's lab, tests/Pester/Rebuild.Tests.ps1 runs the same drill with a guest namespace standing in
# for the booted VM (see tests/Pester/RebuildLab.ps1).
param([string] $Service = 'grafana', [string] $TierPath = $env:DEEV_TIER)

BeforeAll {
    Import-Module Deevnet.Extended
    $script:info = Get-DeevService -Name $Service -TierPath $TierPath
    $script:hostName = $info.HostName

    function Get-ServiceData {
        # SHA-256 of every file the service backs up, read on its host.
        $paths = @($info.Backup.Paths)
        $out = Invoke-DeevHostCommand -HostName $hostName -TierPath $TierPath `
            -Command 'find "$@" -type f -exec sha256sum {} + | sort -k2' -ArgumentList $paths
        $out.StandardOutput
    }
}

Describe "Rebuild drill for $Service" {
    It 'takes a good backup of the service' {
        $script:before = Get-ServiceData
        Backup-DeevService -Service $Service -TierPath $TierPath -Confirm:$false
        (Get-DeevBackup -Service $Service -TierPath $TierPath | Select-Object -First 1 | Test-DeevBackup).Passed | Should -BeTrue
    }

    It 'destroys the service completely' {
        $hostInfo = Get-DeevMgmtHost -Name $hostName -TierPath $TierPath
        Remove-DeevMgmtVm -Name $hostName -TierPath $TierPath -Confirm:$false            # with its disks: the data is gone
        Remove-DeevDhcpReservation -ClientId $hostInfo.MacAddress -TierPath $TierPath -Confirm:$false
        Remove-DeevDnsRecord -HostName $hostName -Names $info.Names -TierPath $TierPath -Confirm:$false
        @(Get-DeevMgmtVm -Name $hostName -TierPath $TierPath | Where-Object State -NE 'absent') | Should -BeNullOrEmpty
        Get-DeevDhcpReservation -ClientId $hostInfo.MacAddress -TierPath $TierPath | Should -BeNullOrEmpty
        Get-DeevDnsRecord -HostName $hostName -TierPath $TierPath -Owned | Should -BeNullOrEmpty
    }

    It 'rebuilds it with Invoke-DeevRebuild' {
        $results = Invoke-DeevRebuild -Service $Service -TierPath $TierPath -Force -Confirm:$false
        $results.Status | Should -Not -Contain 'Failed'
    }

    It 'passes Test-DeevExtendedTier' {
        Test-DeevExtendedTier -Service $Service -TierPath $TierPath -Quiet | Should -BeTrue
    }

    It 'has its data back byte for byte' {
        Get-ServiceData | Should -Be $before
    }
}
