# The VM cmdlets as a user meets them: pipeline binding from Get-DeevMgmtHost, -WhatIf printing the plan, error ids.
# Runs against libvirt's test driver through a local virsh (test:///default: a fresh, private state per call), so it
# needs libvirt-clients but no lab.
BeforeDiscovery {
    # Skipped only outside CI; in CI a missing virsh is a failure, as for the lab.
    $script:HasVirsh = [bool](Get-Command virsh -ErrorAction SilentlyContinue) -or $env:CI -eq 'true'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $images = Join-Path $TestDrive 'images'
    New-Item -ItemType Directory $images | Out-Null
    New-Item -ItemType File (Join-Path $images 'lab-base-1.0.qcow2'), (Join-Path $images 'lab-base-1.10.qcow2') | Out-Null
    $script:Tier = New-TestTierFile -Yaml @"
site: { name: p, domain: p.deevnet.test, macNamespace: "02:de:77", vmidRange: [500, 599] }
segments:
  management: { vlan: 99, subnet: 10.77.99.0/24, gateway: 10.77.99.1, addressing: reservation, bridge: br-mgmt }
  platform:   { vlan: 25, subnet: 10.77.25.0/24, gateway: 10.77.25.1, addressing: static, bridge: br-plat, dns: [10.77.25.1] }
hypervisors:
  virt: { kind: libvirt, via: local, uri: "test:///default", template: lab-base-, imageDir: "$images", ciUser: deev }
hosts:
  dv77web001v01: { segment: platform, ip: 10.77.25.20, hypervisor: virt, vmid: 510, cores: 2, memory: 1024 }
  dv77obs001v01: { segment: management, ip: 10.77.99.21, hypervisor: virt, vmid: 511 }
  dv77new001v01: { segment: platform, ip: 10.77.25.21, hypervisor: virt }
services:
  web: { class: observability, host: dv77web001v01, backup: { none: "static" } }
"@
}

Describe 'New-DeevMgmtVm' {
    It 'binds Name, VmId, MacAddress and TierPath by property name from Get-DeevMgmtHost' {
        $p = (Get-Command New-DeevMgmtVm).Parameters
        foreach ($name in 'Name', 'VmId', 'MacAddress', 'TierPath') {
            $p[$name].Attributes.Where({ $_ -is [Parameter] }).ValueFromPipelineByPropertyName | Should -Contain $true -Because $name
        }
        $p['Name'].Aliases | Should -Contain 'HostName'
    }

    It '-WhatIf prints the plan (the VM from the newest template and every setting) and creates nothing' -Skip:(-not $HasVirsh) {
        $log = Join-Path $TestDrive 'whatif.txt'
        Start-Transcript -Path $log -UseMinimalHeader | Out-Null
        try { $out = Get-DeevMgmtHost dv77web001v01 -TierPath $Tier | New-DeevMgmtVm -WhatIf -ErrorVariable err }
        finally { Stop-Transcript | Out-Null }
        $err | Should -BeNullOrEmpty
        $out | Should -BeNullOrEmpty
        $text = Get-Content -Raw $log
        $text | Should -Match 'What if: dv77web001v01 \(VMID 510\) on virt: created'
        $text | Should -Match ([regex]::Escape('Add VM 510: (none) -> dv77web001v01 from lab-base-1.10'))
        $text | Should -Match ([regex]::Escape('Add VmSetting dv77web001v01.interface: (none) -> mac=02:de:77:00:01:fe bridge=br-plat vlan=25'))
        $text | Should -Match ([regex]::Escape('dv77web001v01.vcpu: (none) -> 2'))
        Test-Path (Join-Path $TestDrive 'images/dv77web001v01.qcow2') | Should -BeFalse
    }

    It 'refuses a reservation-segment VM whose reservation cannot exist: ReservationMissing' {
        $r = Get-DeevMgmtHost dv77obs001v01 -TierPath $Tier | New-DeevMgmtVm -NoWait -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ReservationMissing,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'says how to allocate a host without a VMID: VmIdentityMissing' {
        New-DeevMgmtVm dv77new001v01 -TierPath $Tier -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'VmIdentityMissing,*'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'New-DeevHostIdentity'
    }

    It 'reports an unknown host per item and goes on with the next' -Skip:(-not $HasVirsh) {
        New-DeevMgmtVm nosuchhost, dv77web001v01 -TierPath $Tier -WhatIf -ErrorVariable err -ErrorAction SilentlyContinue
        @($err).Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'HostNotFound,*'
    }
}

Describe 'Remove-DeevMgmtVm' {
    It 'has high confirm impact' {
        $attr = (Get-Command Remove-DeevMgmtVm).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be 'High'
    }

    It 'refuses a VM that is not in the tier unless named with -VmId and -Name: VmNotInTier' {
        Remove-DeevMgmtVm -Name test -TierPath $Tier -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'VmNotInTier,*'
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-VmId'
    }
}

Describe 'Get-DeevMgmtVm' {
    It 'lists an absent VM with State absent and its declared identity' -Skip:(-not $HasVirsh) {
        $vm = Get-DeevMgmtVm dv77web001v01 -TierPath $Tier
        $vm.State | Should -Be 'absent'
        $vm.VmId | Should -Be 510
        $vm.MacAddress | Should -Be '02:de:77:00:01:fe'
        $vm.IPAddress | Should -Be '10.77.25.20'
        $vm.TierPath | Should -Be $Tier
    }

    It 'shows VMs the tier does not declare with -IncludeUnmanaged' -Skip:(-not $HasVirsh) {
        # The test driver always has its built-in domain 'test'.
        $other = Get-DeevMgmtVm -TierPath $Tier -IncludeUnmanaged | Where-Object { -not $_.InTier }
        $other.Name | Should -Contain 'test'
    }
}
