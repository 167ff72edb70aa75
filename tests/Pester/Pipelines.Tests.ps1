# Pipelines that look right must bind: each noun binds the same way everywhere it is taken.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:examples = Join-Path $RepoRoot 'examples'
}

Describe 'Get-DeevTier takes the tier file the way file cmdlets do' {
    BeforeEach { Push-Location $examples }
    AfterEach { Pop-Location }

    It 'takes the path positionally, relative to the current location' {
        (Get-DeevTier ./lab.tier.yaml).Name | Should -Be 'lab'
    }

    It 'takes files from Get-ChildItem (FullName) and summarises each' {
        $names = (Get-ChildItem *.tier.yaml | Get-DeevTier).Name
        $names | Should -Be @('lab', 'mobile')
    }

    It 'still takes -TierPath and its alias -Tier' {
        (Get-DeevTier -TierPath ./lab.tier.yaml).Name | Should -Be 'lab'
        (Get-DeevTier -Tier ./mobile.tier.yaml).Name | Should -Be 'mobile'
    }
}

Describe 'A host piped into the backup cmdlets selects its services' {
    It '<Command> -WhatIf plans the host''s services only, with no ServiceNotFound' -ForEach @(
        @{ Command = 'Backup-DeevService -WhatIf' }
    ) {
        $tier = Join-Path $examples 'lab.tier.yaml'
        $hostName = (Get-DeevService -TierPath $tier -Name jump).HostName
        # -WhatIf lines go to the host, so the pipeline runs in a pwsh of its own and its screen is read.
        $script = "Import-Module '$ManifestPath'; Get-DeevMgmtHost -TierPath '$tier' -Name $hostName | $Command -TierPath '$tier'"
        $lines = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script 2>&1
        $text = $lines -join "`n"
        $text | Should -Match "on target `"jump on $hostName`"" -Because $text
        $text | Should -Not -Match 'metrics on|runner on|ServiceNotFound' -Because $text
    }

    It 'a service name piped as a string selects that service, and an object that names none selects nothing' {
        $tier = Join-Path $examples 'lab.tier.yaml'
        $script = "Import-Module '$ManifestPath'; 'metrics' | Backup-DeevService -TierPath '$tier' -WhatIf; [pscustomobject]@{ X = 1 } | Backup-DeevService -TierPath '$tier' -WhatIf"
        $text = (& dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script 2>&1) -join "`n"
        $text | Should -Match 'on target "metrics on '
        $text | Should -Not -Match 'jump on|runner on'
        $text | Should -Match 'names no service'
    }
}

Describe 'A host piped into Invoke-DeevRebuild is a host' {
    It 'selects the host''s services, not a service named like the host' {
        $tier = New-TestTierFile -Yaml @"
site: { name: t, domain: t.deevnet.test, macNamespace: "02:de:20", vmidRange: [200, 299] }
segments:
  mgmt: { vlan: 99, subnet: 10.1.99.0/24, gateway: 10.1.99.1, addressing: reservation }
hosts:
  h1: { segment: mgmt, ip: 10.1.99.10, vmid: 207 }
  h2: { segment: mgmt, ip: 10.1.99.11, vmid: 208 }
services:
  s1: { class: observability, host: h1, backup: { none: "stateless" } }
"@ -Name 'rebuild-pipe.tier.yaml'
        $warnings = @()
        Get-DeevMgmtHost -TierPath $tier -Name h2 | Invoke-DeevRebuild -TierPath $tier -WarningVariable +warnings -WarningAction SilentlyContinue -ErrorAction Stop
        ($warnings | Out-String) | Should -Match 'Host h2 runs no service of the tier'
    }
}
