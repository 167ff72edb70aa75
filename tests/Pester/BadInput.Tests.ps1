# Bad input from the user's side: every id docs/errors.md marks "Bad input." has a case here that raises it, and no
# case reaches a server (the tiers point at addresses nothing listens on, or at the lab's, with -WhatIf).
BeforeDiscovery {
    $script:cases = @(
        @{ Id = 'TierPathMissing'; Run = ' $env:DEEV_TIER = $null; Get-DeevMgmtHost ' }
        @{ Id = 'TierFileNotFound'; Run = ' Get-DeevTier -TierPath (Join-Path $TestDrive ''absent.tier.yaml'') ' }
        @{ Id = 'TierFileInvalid'; Run = ' Get-DeevTier -TierPath (New-TestTierFile -Yaml "site: [unclosed`n" -Name ''bad.tier.yaml'') ' }
        @{ Id = 'TierPathMixed'; Run = ' @((Get-DeevMgmtHost -TierPath $lab)[0], (Get-DeevMgmtHost -TierPath $copy)[0]) | Sync-DeevDnsRecord -WhatIf ' }
        @{ Id = 'IdentityFileInvalid'; Run = '
                $tier = New-TestTierFile -Yaml $minimal -Name ''ids.tier.yaml''
                Set-Content (Join-Path $TestDrive ''ids.identity.yaml'') "hosts:`n  h2: { vmid: lots }`n"
                Get-DeevHostIdentity -TierPath $tier ' }
        @{ Id = 'SecretNotFound'; Run = '
                $tier = New-TestTierFile -Yaml ($minimal + "dns: { kind: powerdns, endpoint: ''http://127.0.0.1:9'', apiKeyEnv: DEEV_TEST_UNSET_$PID }`n") -Name ''secret.tier.yaml''
                Get-DeevDnsRecord -TierPath $tier ' }
        @{ Id = 'HostNotFound'; Run = ' Get-DeevMgmtHost -TierPath $lab -Name no-such-host ' }
        @{ Id = 'ServiceNotFound'; Run = ' Get-DeevService -TierPath $lab -Name no-such-service ' }
        @{ Id = 'ViaInvalid'; Run = ' Invoke-DeevHostCommand -Via ''ftp://example'' -Command true ' }
        @{ Id = 'DhcpNotConfigured'; Run = ' Get-DeevDhcpReservation -TierPath (New-TestTierFile -Yaml $minimal -Name ''nodhcp.tier.yaml'') ' }
        @{ Id = 'DnsNotConfigured'; Run = ' Get-DeevDnsRecord -TierPath (New-TestTierFile -Yaml $minimal -Name ''nodns.tier.yaml'') ' }
        @{ Id = 'ReservationInvalid'; Run = ' Set-DeevDhcpReservation -TierPath $lab -ClientId 00:00:00:00:00:00 -IPAddress 10.231.99.50 -WhatIf ' }
        @{ Id = 'ReservationDuplicate'; Run = '
                @([pscustomobject]@{ ClientId = ''02:de:20:00:0f:01''; IPAddress = ''10.231.99.51''; Name = ''one'' },
                  [pscustomobject]@{ ClientId = ''02-DE-20-00-0F-01''; IPAddress = ''10.231.99.52''; Name = ''two'' }) | Set-DeevDhcpReservation -TierPath $lab -WhatIf ' }
        @{ Id = 'InvalidDnsRecord'; Run = ' Set-DeevDnsRecord -TierPath $lab -HostName ''bad_name!'' -IPAddress 10.231.99.53 -WhatIf ' }
        @{ Id = 'BatchRefused'; Run = ' Set-DeevDnsRecord -TierPath $lab -HostName ''bad_name!'' -IPAddress 10.231.99.53 -WhatIf ' }
        @{ Id = 'VmIdentityMismatch'; Run = ' $h = Get-DeevMgmtHost -TierPath $lab | Where-Object VmId | Select-Object -First 1; New-DeevMgmtVm -TierPath $lab -Name $h.Name -VmId ($h.VmId + 1) -WhatIf ' }
        @{ Id = 'CheckReportFormatUnknown'; Run = ' Test-DeevExtendedTier -TierPath (New-TestTierFile -Yaml $minimal -Name ''report.tier.yaml'') -OutFile (Join-Path $TestDrive ''report.txt'') ' }
        @{ Id = 'InventoryNotFound'; Run = ' ConvertFrom-DeevAnsibleInventory -Path (Join-Path $TestDrive ''no-inventory'') -TierPath (Join-Path $TestDrive ''inv.tier.yaml'') ' }
        @{ Id = 'InventoryNotConvertible'; Run = '
                $site = New-Item -ItemType Directory -Force (Join-Path $TestDrive ''inventory'')
                Set-Content (Join-Path $site ''hosts.yml'') "all:`n  hosts:`n    h1:`n"
                ConvertFrom-DeevAnsibleInventory -Path $site -TierPath (Join-Path $TestDrive ''inv.tier.yaml'') ' }
        @{ Id = 'BackupNotConfigured'; Run = ' Get-DeevBackup -TierPath (New-TestTierFile -Yaml $minimalNoBackup -Name ''nobackup.tier.yaml'') ' }
        @{ Id = 'TlsCaFileInvalid'; Run = '
                $yaml = $minimal + "dhcp: { kind: opnsense, endpoint: ''https://127.0.0.1:9'', apiKeyEnv: HOME, apiSecretEnv: HOME, caFile: /no/such/ca.pem }`n"
                Get-DeevDhcpReservation -TierPath (New-TestTierFile -Yaml $yaml -Name ''ca.tier.yaml'') ' }
        @{ Id = 'VmHypervisorMissing'; Run = '
                $yaml = $minimal.Replace(''h2: { segment: mgmt, ip: 10.1.99.11, hypervisor: hv }'', ''h2: { segment: mgmt, ip: 10.1.99.11, vmid: 209 }'')
                New-DeevMgmtVm -TierPath (New-TestTierFile -Yaml $yaml -Name ''nohv.tier.yaml'') -Name h2 -WhatIf ' }
        @{ Id = 'PlaybookNotFound'; Run = ' Get-DeevPlaybook -Class no-such-class ' }
        @{ Id = 'PlaybookPathInvalid'; Run = ' Get-DeevPlaybook -PlaybookPath (Join-Path $TestDrive ''no-such-folder'') ' }
        @{ Id = 'RebuildTargetInvalid'; Run = ' Invoke-DeevRebuild -TierPath $lab -Service no-such-service -WhatIf ' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:lab = Join-Path $RepoRoot 'examples/lab.tier.yaml'
    $script:copy = New-TestTierFile -Example 'lab.tier.yaml' -Name 'copy.tier.yaml'
    # A small valid tier with no dhcp, dns or isolation section (line layout as in the xunit TierTestFiles).
    $script:minimalNoBackup = @"
site: { name: t, domain: t.deevnet.test, macNamespace: "02:de:20", vmidRange: [200, 299] }
segments:
  mgmt: { vlan: 99, subnet: 10.1.99.0/24, gateway: 10.1.99.1, addressing: reservation }
hypervisors:
  hv: { kind: libvirt, via: local, template: t- }
hosts:
  h1: { segment: mgmt, ip: 10.1.99.10, hypervisor: hv, vmid: 207 }
  h2: { segment: mgmt, ip: 10.1.99.11, hypervisor: hv }
services:
  s1: { class: observability, host: h1, names: [s1], checks: [{ tcp: 80 }], backup: { none: "stateless" } }

"@
    $script:minimal = $minimalNoBackup.Replace("hosts:`n", "backup: { store: /srv/b, recipient: age1q66nmj3n5xftvkt7rn479ht6a0a6ahtrfhpqvnkjskya6tvk0czq0rxagz }`nhosts:`n")
}

Describe 'Bad input: <Id>' -ForEach $cases {
    BeforeEach { $saved = $env:DEEV_TIER }
    AfterEach { $env:DEEV_TIER = $saved }

    It 'is refused with the id <Id>' {
        $ErrorActionPreference = 'Continue'   # every error of the case, not just the first (another file may have set Stop)
        $block = [scriptblock]::Create($Run)
        $errors = @(try { & $block 2>&1 6>$null } catch { $_ }) | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }
        $ids = @($errors | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] })
        $ids | Should -Contain $Id -Because "the errors were: $(($errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) -join ' | ')"
    }
}

Describe 'The bad-input ids of docs/errors.md' -ForEach @(@{ Covered = @($cases.Id) }) {
    It 'each has a case above' {
        $documented = Select-String -Path (Join-Path $RepoRoot 'docs/errors.md') -Pattern '^\| `(\w+)` \|.*Bad input\. \|$' |
            ForEach-Object { $_.Matches[0].Groups[1].Value }
        $documented | Where-Object { $_ -notin $Covered } | Should -BeNullOrEmpty -Because 'every bad-input id needs a case from the user''s side'
    }
}

# One rule, one message: a value a cmdlet parameter refuses while binding (the parameter named by PowerShell) is refused
# with the same words by the tier loader (after file:line:col). Nothing here reaches a server: binding fails first.
Describe 'Rule <Rule>: the same words from a parameter and from the tier file' -ForEach @(
    @{ Rule = 'names'; Words = "'Bad_Host' is not a valid host name (lowercase a-z, 0-9 and '-', 1-63 characters, not starting or ending with '-')"
        Run = ' Start-DeevMgmtVm -TierPath $lab -Name Bad_Host -WhatIf '
        Find = '  h2: { segment'; Replace = "  Bad_Host: { segment: mgmt, ip: 10.1.99.12, hypervisor: hv }`n  h2: { segment" }
    @{ Rule = 'VMIDs'; Words = '50 is not a VMID (a whole number 100–16777215)'
        Run = ' New-DeevMgmtVm -TierPath $lab -Name h1 -VmId 50 -WhatIf '
        Find = 'vmid: 207'; Replace = 'vmid: 50' }
    @{ Rule = 'paths'; Words = "'srv/x' is not an absolute path (it must start with '/')"
        Run = ' Restore-DeevService -TierPath $lab -Service s1 -Root srv/x -WhatIf '
        Find = 'backup: { none: "stateless" } }'; Replace = 'backup: { paths: [srv/x] } }' }
    @{ Rule = 'durations'; Words = '0s is outside 100ms–1d'
        Run = ' Wait-DeevMgmtHost -TierPath $lab -Name h1 -TimeoutSec 0 '
        Find = 'checks: [{ tcp: 80 }]'; Replace = 'checks: [{ tcp: 80, timeout: 0s }]' }
) {
    It 'refuses the parameter with the rule''s words' {
        $ErrorActionPreference = 'Continue'
        $errors = @(try { & ([scriptblock]::Create($Run)) 2>&1 6>$null } catch { $_ }) | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }
        $errors | Should -Not -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*'
        $errors[0].Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($Words))*"
    }

    It 'refuses the same value in the tier file with the same words' {
        $minimal.Contains($Find) | Should -BeTrue -Because 'the case edits the minimal tier'
        $tier = New-TestTierFile -Yaml $minimal.Replace($Find, $Replace) -Name "rule-$Rule.tier.yaml"
        $failure = try { Get-DeevTier -TierPath $tier -ErrorAction Stop; $null } catch { $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'TierFileInvalid*'
        $failure.Exception.Message | Should -BeLike "*rule-$Rule.tier.yaml:*: *$([WildcardPattern]::Escape($Words))*"
    }
}
