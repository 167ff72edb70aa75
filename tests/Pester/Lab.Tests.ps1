# The Pester side of the lab: Lab.ps1 reads lab.env and drives guests. Fails (not skips) with CI=true and no lab.
# Its space is plab (tests/lab/spaces): guests plab-… with MACs 02:de:37:…, platform addresses 10.231.25.192-207.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

Describe 'Lab helpers' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $space = Get-LabSpace plab
    }

    It 'reads lab.env into a hashtable' {
        $lab.DEEV_LAB_SSH_HOST | Should -Be '10.231.0.2'
        $lab.DEEV_LAB_TIER | Should -Exist
    }

    It 'gives a dnsmasq guest a pool address and removes it again' {
        $name = $space.GuestPrefix + (Get-Random -Maximum 99999)
        $guest = New-LabGuest -Name $name -MacAddress $space.RandomMac()
        try {
            $ip = $guest | Invoke-LabGuestDhcp
            $ip | Should -Match '^10\.231\.99\.(1[0-4][0-9]|150)$'
            (Get-LabGuest | Where-Object Name -eq $name).IPAddress | Should -Be $ip
            Invoke-LabGuestCommand -Name $name -Command ip, '-4', '-o', 'addr', 'show', 'dev', 'eth0' | Should -Match ([regex]::Escape("$ip/24"))
        }
        finally { $guest | Remove-LabGuest }
        Get-LabGuest | Where-Object Name -eq $name | Should -BeNullOrEmpty
    }

    It 'serves a folder over HTTP from a statically addressed platform guest' {
        $name = $space.GuestPrefix + 'h' + (Get-Random -Maximum 99999)
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive $name)
        Set-Content -LiteralPath (Join-Path $dir 'index.html') -Value $name -NoNewline
        $ip = $space.Address('platform', 7)
        $guest = New-LabGuest -Name $name -MacAddress $space.RandomMac() -Segment platform -IPAddress "$ip/24"
        try {
            Start-LabGuestHttp -Name $name -Port 8080 -Path $dir
            (Invoke-WebRequest -Uri "http://$($ip):8080/index.html" -TimeoutSec 10).Content | Should -Be $name
        }
        finally { $guest | Remove-LabGuest; Remove-Item -LiteralPath $dir -Recurse }
    }

    It 'throws with lab.sh''s reason when a command fails' {
        { Invoke-LabGuest dhcp 'no-such-guest' } | Should -Throw '*no guest*'
    }
}
