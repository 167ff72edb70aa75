# Reaching tier hosts by name: Invoke-DeevHostCommand and Get-DeevHostKey resolve -HostName through the tier file.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Lab.ps1')
}

Describe 'Tier hosts by name' -Skip:(-not $LabUp) {
    BeforeAll {
        $lab = Get-LabEnvironment
        # The lab tier, with one host reached through the lab server itself (its via), so it answers over SSH.
        $text = Get-Content -Raw $lab.DEEV_LAB_TIER
        $text = $text -replace '(?m)^(  dv99obs001v01:\s*\{)', '$1 via: "ssh://root@10.231.0.2",'
        $script:tier = Join-Path $TestDrive 'hosts.tier.yaml'
        Set-Content -Path $tier -Value $text
        Get-DeevMgmtHost -TierPath $tier -Name dv99obs001v01 | Should -Not -BeNullOrEmpty
    }

    It 'runs a command on a host named in the tier, with the tier''s key and known_hosts' {
        $r = Invoke-DeevHostCommand -TierPath $tier -HostName dv99obs001v01 -Command 'echo' -ArgumentList 'a b', 'c;d'
        $r.ExitStatus | Should -Be 0
        $r.StandardOutput.Trim() | Should -Be 'a b c;d'
    }

    It 'binds hosts from Get-DeevMgmtHost by property name' {
        $r = Get-DeevMgmtHost -TierPath $tier -Name dv99obs001v01 | Invoke-DeevHostCommand -Command 'hostname -I'
        $r.HostName | Should -Be 'dv99obs001v01'
        $r.StandardOutput | Should -Match '10\.231\.0\.2'
    }

    It 'shows the host key of a tier host as known' {
        $k = Get-DeevHostKey -TierPath $tier -HostName dv99obs001v01
        $k.Fingerprint | Should -Match '^SHA256:'
        $k.Status | Should -Be 'Known'
    }

    It 'says a name that is not in the tier is not found' {
        Invoke-DeevHostCommand -TierPath $tier -HostName nosuchhost -Command true -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'HostNotFound,*'
    }
}
