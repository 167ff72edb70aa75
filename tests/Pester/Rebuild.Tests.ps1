# Invoke-DeevRebuild and Get-DeevPlaybook: the framework with fake playbooks (no lab), then the rebuild drills
# on the lab (one per service class, and an interrupted rebuild that is resumed).
BeforeDiscovery {
    # The framework tests need no lab; the drills do (their BeforeAll fails them when CI=true and no lab runs).
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:RunDrills = $null -ne (Get-LabEnvironment) -or $env:CI -eq 'true'
    . (Join-Path $PSScriptRoot 'RebuildLab.ps1')
    $script:DrillCases = foreach ($entry in $RebuildDrillServices.GetEnumerator()) { @{ Class = $entry.Key; Service = $entry.Value } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    # A tier without servers: the fake playbooks below never call a back end. Services are listed out of
    # dependency order on purpose; two services share a host.
    $script:FakeTier = @'
site: { name: fake, domain: fake.test, macNamespace: "02:de:77", vmidRange: [700, 799] }
segments:
  management: { subnet: 10.77.99.0/24, gateway: 10.77.99.1, addressing: reservation }
hosts:
  dv77obs001v01: { segment: management, ip: 10.77.99.21, vmid: 701 }
  dv77aut001v01: { segment: management, ip: 10.77.99.22, vmid: 702 }
  dv77acc001v01: { segment: management, ip: 10.77.99.23, vmid: 703 }
services:
  metrics: { class: observability, host: dv77obs001v01, backup: { none: "test" } }
  logs:    { class: observability, host: dv77obs001v01, backup: { none: "test" } }
  runner:  { class: automation, host: dv77aut001v01, backup: { none: "test" } }
  jump:    { class: access, host: dv77acc001v01, backup: { none: "test" } }
'@

    # A fake playbook: three steps that keep their "done" state in files and log every Invoke, so the tests see
    # exactly which Invoke ran. A file fail.<service>.<step> makes that step's Invoke throw; a file
    # lie.<service>.<step> makes it return without doing its work (so its verification must catch it).
    $script:FakePlaybook = @'
# A fake playbook for the framework tests.
foreach ($name in 'One', 'Two', 'Three') {
    New-RebuildStep -Name $name -Description "fake step $name" -Advice "Fix fake step $name." `
        -Test ([scriptblock]::Create("param(`$r) Test-Path (Join-Path `$env:REBUILD_FAKE_DIR (`$r.Service + '.$name'))")) `
        -Invoke ([scriptblock]::Create(@"
param(`$r)
Add-Content (Join-Path `$env:REBUILD_FAKE_DIR 'invoked.log') (`$r.Service + '.$name')
if (Test-Path (Join-Path `$env:REBUILD_FAKE_DIR ('fail.' + `$r.Service + '.$name'))) { throw 'fake failure' }
if (Test-Path (Join-Path `$env:REBUILD_FAKE_DIR ('other.' + `$r.Service + '.$name'))) { [pscustomobject]@{ HostName = 'dv77zzz001v01' } }
if (-not (Test-Path (Join-Path `$env:REBUILD_FAKE_DIR ('lie.' + `$r.Service + '.$name')))) { New-Item (Join-Path `$env:REBUILD_FAKE_DIR (`$r.Service + '.$name')) | Out-Null }
'did $name'
"@)) `
        -Plan ([scriptblock]::Create("param(`$r) [IO.File]::AppendAllText((Join-Path `$env:REBUILD_FAKE_DIR 'plan.log'), `$r.Service + '.$name ' + `$WhatIfPreference + [Environment]::NewLine); 'plan $name'"))
}
'@

    function New-FakeRebuild {
        # A fresh folder with the tier and a fake playbook for every class; returns the paths.
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $playbooks = Join-Path $dir 'playbooks'
        New-Item -ItemType Directory -Path $playbooks | Out-Null
        foreach ($class in 'Access', 'Automation', 'Observability') { Set-Content (Join-Path $playbooks "$class.ps1") $FakePlaybook }
        Set-Content (Join-Path $dir 'fake.tier.yaml') $FakeTier
        $env:REBUILD_FAKE_DIR = $dir
        [pscustomobject]@{ Dir = $dir; Tier = Join-Path $dir 'fake.tier.yaml'; Playbooks = $playbooks }
    }

    function Get-Invoked([string] $Dir) {
        $log = Join-Path $Dir 'invoked.log'
        if (Test-Path $log) { @(Get-Content $log) } else { @() }
    }
}

AfterAll { Remove-Item Env:REBUILD_FAKE_DIR -ErrorAction Ignore }

Describe 'Get-DeevPlaybook' {
    It 'lists the three built-in playbooks in dependency order, each from identity to verification' {
        $steps = @(Get-DeevPlaybook)
        ($steps.Class | Select-Object -Unique) | Should -Be @('Access', 'Automation', 'Observability')
        foreach ($group in $steps | Group-Object Class) {
            $group.Group[0].Step | Should -Be 'Identity'
            $group.Group[-1].Step | Should -Be 'Verify'
            $group.Group.Step | Should -Contain 'Restore'
            $group.Group.Step | Should -Contain 'Configure'
            $group.Group | ForEach-Object { $_.Description | Should -Not -BeNullOrEmpty }
            $group.Group.Order | Should -Be (1..$group.Count)
        }
    }

    It 'shows the class-specific steps where they belong' {
        (Get-DeevPlaybook -Class Access).Step | Should -Contain 'HostKeysRestored'
        (Get-DeevPlaybook -Class Observability).Step | Should -Contain 'DataDisk'
        (Get-DeevPlaybook -Class Automation | Where-Object Step -EQ Configure).Description | Should -Match 'register'
        $access = (Get-DeevPlaybook -Class Access).Step
        [array]::IndexOf($access, 'HostKeysRestored') | Should -BeGreaterThan ([array]::IndexOf($access, 'Restore'))
    }

    It 'picks up a playbook dropped into a -PlaybookPath folder and runs none of its steps' {
        $fake = New-FakeRebuild
        Set-Content (Join-Path $fake.Playbooks 'Storage.ps1') $FakePlaybook
        $steps = @(Get-DeevPlaybook -Class Storage -PlaybookPath $fake.Playbooks)
        $steps.Step | Should -Be @('One', 'Two', 'Three')
        $steps[0].Playbook | Should -Be 'A fake playbook for the framework tests.'
        Get-Invoked $fake.Dir | Should -BeNullOrEmpty
        Test-Path (Join-Path $fake.Dir 'plan.log') | Should -BeFalse
    }

    It 'reports a class without a playbook as PlaybookNotFound' {
        Get-DeevPlaybook -Class NoSuchClass -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'PlaybookNotFound*'
    }
}

Describe 'Invoke-DeevRebuild with fake playbooks' {
    BeforeEach { $script:fake = New-FakeRebuild }

    It 'runs every step in order and emits one result per step' {
        $results = @(Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false)
        $results.Step | Should -Be @('One', 'Two', 'Three')
        $results.Status | Should -Be @('Done', 'Done', 'Done')
        $results | ForEach-Object {
            $_.Service | Should -Be 'runner'
            $_.HostName | Should -Be 'dv77aut001v01'
            $_.Duration | Should -BeOfType [timespan]
        }
        $results[1].Detail | Should -Be 'did Two'
        Get-Invoked $fake.Dir | Should -Be @('runner.One', 'runner.Two', 'runner.Three')
    }

    It 'records each rebuilt service in the tier''s change journal with its result, and a rebuild with nothing to do not at all' {
        Add-Content $fake.Tier 'journal: changes.jsonl'
        New-Item (Join-Path $fake.Dir 'fail.jump.Three') | Out-Null
        Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false | Out-Null
        { Invoke-DeevRebuild -Service jump -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false | Out-Null } | Should -Throw
        Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false | Out-Null   # all verified: no change

        $records = @(Get-DeevChange -TierPath $fake.Tier | Where-Object Kind -EQ 'rebuild')
        $records.Key | Should -Be @('runner', 'jump')
        $records.Server | Should -Be @('dv77aut001v01', 'dv77acc001v01')
        $records[0].Result | Should -Be 'applied'
        $records[0].After | Should -Be 'rebuilt: One, Two, Three done, 0 already done'
        $records[1].Result | Should -Be 'failed at step Three'
        $records[1].After | Should -Be 'stopped at Three after One, Two'
    }

    It 'stops at a failed step with RebuildStepFailed naming the step, and a second run resumes without redoing finished steps' {
        New-Item (Join-Path $fake.Dir 'fail.runner.Two') | Out-Null
        $first = [System.Collections.Generic.List[object]]::new()
        { Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false | ForEach-Object { $first.Add($_) } } |
            Should -Throw -ErrorId 'RebuildStepFailed,Deevnet.Extended.Commands.InvokeDeevRebuildCommand'
        $first.Step | Should -Be @('One', 'Two')
        $first.Status | Should -Be @('Done', 'Failed')
        $first[1].Detail | Should -Match 'fake failure'

        try { Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false | Out-Null }
        catch { $failure = $_ }
        $failure.Exception.Message | Should -Match "stopped at Step 2/3 Two"
        $failure.ErrorDetails.RecommendedAction | Should -Match 'Fix fake step Two\..*Invoke-DeevRebuild -Service runner'
        $failure.TargetObject | Should -Be 'runner'

        Remove-Item (Join-Path $fake.Dir 'fail.runner.Two')
        Remove-Item (Join-Path $fake.Dir 'invoked.log')
        $second = @(Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false)
        $second.Status | Should -Be @('Skipped', 'Done', 'Done')
        $second[0].Detail | Should -Match 'verified'
        Get-Invoked $fake.Dir | Should -Be @('runner.Two', 'runner.Three')
    }

    It 'fails a step whose Invoke returns without doing its work (it is verified, not assumed)' {
        New-Item (Join-Path $fake.Dir 'lie.runner.One') | Out-Null
        { Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false } |
            Should -Throw -ErrorId 'RebuildStepFailed,Deevnet.Extended.Commands.InvokeDeevRebuildCommand' -ExpectedMessage '*One*check still fails*'
        Get-Invoked $fake.Dir | Should -Be @('runner.One')
    }

    It '-WhatIf runs no Invoke, lists every step and passes -WhatIf down to the plans' {
        New-Item (Join-Path $fake.Dir 'runner.One') | Out-Null   # already done: listed as verified
        $results = @(Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -WhatIf)
        Get-Invoked $fake.Dir | Should -BeNullOrEmpty
        $results.Step | Should -Be @('One', 'Two', 'Three')
        $results.Status | Should -Be @('Skipped', 'WhatIf', 'WhatIf')
        $results[1].Detail | Should -Match 'plan Two'
        Get-Content (Join-Path $fake.Dir 'plan.log') | Should -Be @('runner.Two True', 'runner.Three True')
    }

    It '-WhatIf makes the cmdlets a plan calls print their plan instead of acting' {
        $target = Join-Path $fake.Dir 'must-not-exist'
        Set-Content (Join-Path $fake.Playbooks 'Automation.ps1') @"
New-RebuildStep -Name Write -Description 'writes a file' -Test { `$false } -Invoke { throw 'Invoke must not run' } -Plan { Set-Content -Path '$target' -Value x }
"@
        $results = @(Invoke-DeevRebuild -Service runner -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -WhatIf)
        $results.Status | Should -Be 'WhatIf'
        Test-Path $target | Should -BeFalse
    }

    It '-All rebuilds access first, then automation, then observability' {
        $results = @(Invoke-DeevRebuild -All -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Force -Confirm:$false)
        ($results.Service | Select-Object -Unique) | Should -Be @('jump', 'runner', 'metrics', 'logs')
        (Get-Invoked $fake.Dir | ForEach-Object { ($_ -split '\.')[0] } | Select-Object -Unique) | Should -Be @('jump', 'runner', 'metrics', 'logs')
    }

    It '-Class rebuilds only the services of that class' {
        $results = @(Invoke-DeevRebuild -Class Access -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false)
        $results.Service | Select-Object -Unique | Should -Be 'jump'
    }

    It 'says when the host holds other services and does nothing without confirmation' {
        $results = @(Invoke-DeevRebuild -Service metrics -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false `
                -WarningVariable warnings -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $results | Should -BeNullOrEmpty
        Get-Invoked $fake.Dir | Should -BeNullOrEmpty
        $warnings -join ' ' | Should -Match 'dv77obs001v01 also holds logs'
        $problems.FullyQualifiedErrorId | Should -Contain 'RebuildSharedHostNotConfirmed,Deevnet.Extended.Commands.InvokeDeevRebuildCommand'
    }

    It 'rebuilds a shared host with -Force' {
        $results = @(Invoke-DeevRebuild -Service metrics -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Force -Confirm:$false -WarningAction SilentlyContinue)
        $results.Status | Should -Be @('Done', 'Done', 'Done')
    }

    It 'stops a step that acted on another host (RebuildScopeViolation)' {
        New-Item (Join-Path $fake.Dir 'other.jump.Two') | Out-Null
        { Invoke-DeevRebuild -Service jump -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false } |
            Should -Throw -ErrorId 'RebuildScopeViolation,Deevnet.Extended.Commands.InvokeDeevRebuildCommand' -ExpectedMessage '*dv77zzz001v01*'
        Get-Invoked $fake.Dir | Should -Be @('jump.One', 'jump.Two')
    }

    It 'refuses an unknown service before touching anything' {
        { Invoke-DeevRebuild -Service nosuch -TierPath $fake.Tier -PlaybookPath $fake.Playbooks -Confirm:$false } |
            Should -Throw -ErrorId 'RebuildTargetInvalid,Deevnet.Extended.Commands.InvokeDeevRebuildCommand'
    }

    It 'takes services from the pipeline (Get-DeevService)' {
        $results = @(Get-DeevService -TierPath $fake.Tier -Name jump | Invoke-DeevRebuild -PlaybookPath $fake.Playbooks -Confirm:$false)
        $results.Service | Select-Object -Unique | Should -Be 'jump'
    }
}

Describe 'Wait-DeevMgmtHost (the rebuild''s readiness wait, on Core''s TCP probe)' {
    BeforeAll {
        $script:Listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $Listener.Start()
        $port = $Listener.LocalEndpoint.Port
        $closed = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $closed.Start(); $script:ClosedPort = $closed.LocalEndpoint.Port; $closed.Stop()
        $script:WaitTier = Join-Path $TestDrive 'wait.tier.yaml'
        Set-Content $WaitTier @"
site: { name: fake, domain: fake.test, macNamespace: "02:de:77", vmidRange: [700, 799] }
segments:
  management: { subnet: 10.77.99.0/24, gateway: 10.77.99.1, addressing: reservation }
hosts:
  dv77up0001v01: { segment: management, ip: 10.77.99.21, vmid: 701, via: "ssh://root@127.0.0.1:$port" }
  dv77down001v01: { segment: management, ip: 10.77.99.22, vmid: 702, via: "ssh://root@127.0.0.1:$ClosedPort" }
services:
  metrics: { class: observability, host: dv77up0001v01, backup: { none: "test" } }
"@
    }
    AfterAll { $Listener.Stop() }

    It 'returns as soon as the host''s SSH endpoint (its via) accepts, and -PassThru emits the host' {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $up = @(Wait-DeevMgmtHost -Name dv77up0001v01 -TierPath $WaitTier -TimeoutSec 30 -PassThru)
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        $up.Name | Should -Be 'dv77up0001v01'
        Wait-DeevMgmtHost -Name dv77up0001v01 -TierPath $WaitTier -TimeoutSec 30 | Should -BeNullOrEmpty
    }

    It 'gives up after -TimeoutSec with VmWaitTimeout naming the host, address and port, and still waits for the others' {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $up = @(Wait-DeevMgmtHost -Name dv77down001v01, dv77up0001v01 -TierPath $WaitTier -TimeoutSec 2 -PassThru -ErrorVariable problems -ErrorAction SilentlyContinue)
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        $up.Name | Should -Be 'dv77up0001v01'
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'VmWaitTimeout*'
        $problems[0].Exception.Message | Should -Match "dv77down001v01 did not answer at 127\.0\.0\.1:$ClosedPort within 2 s.*refused"
    }
}

# The drills: on the lab, per class, a service with data is backed up, destroyed completely and rebuilt; then the
# checks must pass and the data must be back byte for byte. How the lab stands in for a booted VM is explained in
# tests/Pester/RebuildLab.ps1 (a guest namespace with the VM's MAC, started when its libvirt domain runs).
# Everything is in the space prb (tests/lab/spaces): hosts prbobs001v01… (VMIDs 1600-1699, MACs 02:de:33:…,
# 10.231.99.192-207), names under prb.lab.deevnet.test, its own dnsmasq files, backup store and known_hosts.
Describe 'Rebuild drills on the lab' -Skip:(-not $RunDrills) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        . (Join-Path $PSScriptRoot 'RebuildLab.ps1')
        Assert-LabRunning | Out-Null   # throws when CI=true and no lab runs: the drills fail, never skip silently
        $script:Space = New-LabSpace prb
        $script:DrillTier = New-RebuildDrillTier -Space $Space
        $script:Boot = Start-RebuildLabBoot -TierPath $DrillTier
        $script:FirstBuild = New-RebuildFirstBuildPlaybooks -Folder (Join-Path $TestDrive 'first-build')
        $env:DEEV_REBUILD_BOOT_TIMEOUT = '60'
        $script:KnownHosts = Get-RebuildDrillKnownHosts -TierPath $DrillTier

        function Initialize-DrillService([string] $Service) {
            # A running service with data, and a good backup of it.
            Invoke-DeevRebuild -Service $Service -TierPath $DrillTier -PlaybookPath $FirstBuild -Confirm:$false | Out-Null
            Write-RebuildDrillData -Service $Service -TierPath $DrillTier
            Backup-DeevService -Service $Service -TierPath $DrillTier -Confirm:$false | Out-Null
        }
    }

    AfterAll {
        Stop-RebuildLabBoot $Boot
        foreach ($service in $RebuildDrillServices.Values) { Remove-RebuildDrillService -Service $service -TierPath $DrillTier -ErrorAction SilentlyContinue }
        Remove-Item Env:DEEV_REBUILD_BOOT_TIMEOUT -ErrorAction Ignore
        if ($Space) { Remove-LabSpace prb }
    }

    It '<Class>: <Service> is backed up, destroyed completely, rebuilt, passes its checks and has its data back byte for byte' -ForEach $DrillCases {
        $service = $Service
        Initialize-DrillService $service
        $data = Get-RebuildDrillData -Service $service -TierPath $DrillTier
        $data.Count | Should -BeGreaterThan 1
        $hostInfo = Get-DeevMgmtHost -Name (Get-DeevService -Name $service -TierPath $DrillTier).HostName -TierPath $DrillTier
        $keyBefore = Get-DeevHostKey -Via "ssh://root@$($hostInfo.IPAddress)" -KnownHostsPath $KnownHosts

        Remove-RebuildDrillService -Service $service -TierPath $DrillTier
        $gone = Get-RebuildDrillState -Service $service -TierPath $DrillTier
        $gone.Vms.Count + $gone.Domains.Count + $gone.Reservations.Count + $gone.Records.Count | Should -Be 0
        $gone.FilesExist | Should -BeFalse

        $results = @(Invoke-DeevRebuild -Service $service -TierPath $DrillTier -Confirm:$false)
        $results.Status | Should -Not -Contain 'Failed'
        $results.Step | Should -Be (Get-DeevPlaybook -Class $Class).Step

        @(Test-DeevExtendedTier -Service $service -TierPath $DrillTier | Where-Object { $_.Status.ToString() -eq 'Failed' }) | Should -BeNullOrEmpty
        $after = Get-RebuildDrillData -Service $service -TierPath $DrillTier
        $after.Keys | Should -Be @($data.Keys)
        foreach ($file in $data.Keys) { $after[$file] | Should -Be $data[$file] -Because "$file must be back byte for byte" }

        # The new VM booted with the host key the rebuild made and handed in through its seed, never one it learnt
        # from the network; known_hosts keeps no temporary first-boot line once the rebuild succeeded.
        $seeded = Get-RebuildDrillSeededKey -HostName $hostInfo.Name -TierPath $DrillTier
        $seeded | Should -Not -BeNullOrEmpty -Because 'the VM step must hand a host key in through the seed'
        Get-Content $KnownHosts | Where-Object { $_ -match 'deevnet-rebuild-first-boot' } | Should -BeNullOrEmpty
        $keyAfter = Get-DeevHostKey -Via "ssh://root@$($hostInfo.IPAddress)" -KnownHostsPath $KnownHosts
        $keyAfter.Status.ToString() | Should -Be 'Known'
        $keyAfter.IsFirstBootKey | Should -BeFalse
        if ($Class -eq 'Access') {
            # Clients keep trusting the jump host: it offers the key known_hosts recorded before it was destroyed.
            # Until the restore the new VM offered the seeded key, trusted before it booted: the first-boot step
            # found it verified and recorded nothing it learnt from the network.
            $keyAfter.Fingerprint | Should -Be $keyBefore.Fingerprint
            $seeded.Fingerprint | Should -Not -Be $keyBefore.Fingerprint
            ($results | Where-Object Step -EQ FirstBootKey).Status | Should -Be 'Skipped'
        }
        else {
            # The seeded key is the host's lasting key now (the destroyed VM's key is forgotten).
            $keyAfter.Fingerprint | Should -Be $seeded.Fingerprint
        }

        # A rebuild of a healthy service changes nothing: every step is verified and skipped.
        (Invoke-DeevRebuild -Service $service -TierPath $DrillTier -Confirm:$false).Status | Select-Object -Unique | Should -Be 'Skipped'
    }

    It 'Access: a jump host offering a key neither recorded nor handed in stops the rebuild before Restore (HostKeyMismatch), nothing restored; -AcceptChangedHostKey lets it through' {
        $service = 'jump'
        Initialize-DrillService $service
        $data = Get-RebuildDrillData -Service $service -TierPath $DrillTier
        $hostInfo = Get-DeevMgmtHost -Name (Get-DeevService -Name $service -TierPath $DrillTier).HostName -TierPath $DrillTier
        $keyBefore = Get-DeevHostKey -Via "ssh://root@$($hostInfo.IPAddress)" -KnownHostsPath $KnownHosts
        $keyBefore.Status.ToString() | Should -Be 'Known'
        Remove-RebuildDrillService -Service $service -TierPath $DrillTier
        # Whatever boots at the jump host's address ignores the seed and offers a key of its own (rebuild-lab-boot.sh).
        $impostor = Join-Path (Get-LabRoot) "impostor-$($hostInfo.Name)"
        New-Item -ItemType File -Force -Path $impostor | Out-Null
        try {
            $first = [System.Collections.Generic.List[object]]::new()
            $failure = $null
            try { Invoke-DeevRebuild -Service $service -TierPath $DrillTier -Confirm:$false | ForEach-Object { $first.Add($_) } }
            catch { $failure = $_ }
            $failure | Should -Not -BeNullOrEmpty -Because 'a changed host key must stop the rebuild'
            $failure.FullyQualifiedErrorId | Should -Be 'HostKeyMismatch,Deevnet.Extended.Commands.InvokeDeevRebuildCommand'
            $offered = Get-DeevHostKey -Via "ssh://root@$($hostInfo.IPAddress)" -KnownHostsPath $KnownHosts
            $seeded = Get-RebuildDrillSeededKey -HostName $hostInfo.Name -TierPath $DrillTier
            # The error shows every fingerprint: the one offered, the recorded one and the one handed in.
            foreach ($fingerprint in $offered.Fingerprint, $keyBefore.Fingerprint, $seeded.Fingerprint) {
                $failure.Exception.Message | Should -Match ([regex]::Escape($fingerprint))
            }
            $failure.ErrorDetails.RecommendedAction | Should -Match 'AcceptChangedHostKey'
            $first[-1].Step | Should -Be 'FirstBootKey'
            $first[-1].Status | Should -Be 'Failed'
            $first.Step | Should -Not -Contain 'Restore'
            # Nothing of the backup reached the impostor, and its key is not trusted.
            $onHost = Get-RebuildDrillData -Service $service -TierPath $DrillTier
            foreach ($file in $data.Keys) { $onHost[$file] | Should -Not -Be $data[$file] -Because "$file must not have been restored to the impostor" }
            $offered.Status.ToString() | Should -Not -Be 'Known'
            Get-Content $KnownHosts | Where-Object { $_ -match [regex]::Escape($offered.Key.Base64) } | Should -BeNullOrEmpty

            # The operator compared the fingerprint with the VM's console and accepts it explicitly.
            $second = @(Invoke-DeevRebuild -Service $service -TierPath $DrillTier -AcceptChangedHostKey -Confirm:$false)
            $second.Status | Should -Not -Contain 'Failed'
            $after = Get-RebuildDrillData -Service $service -TierPath $DrillTier
            foreach ($file in $data.Keys) { $after[$file] | Should -Be $data[$file] -Because "$file must be back byte for byte" }
            $keyAfter = Get-DeevHostKey -Via "ssh://root@$($hostInfo.IPAddress)" -KnownHostsPath $KnownHosts
            $keyAfter.Fingerprint | Should -Be $keyBefore.Fingerprint
            $keyAfter.IsFirstBootKey | Should -BeFalse
            Get-Content $KnownHosts | Where-Object { $_ -match 'deevnet-rebuild-first-boot' } | Should -BeNullOrEmpty
        }
        finally { Remove-Item -LiteralPath $impostor -ErrorAction Ignore }
    }

    It 'completes a rebuild killed halfway without redoing finished steps and without duplicates' {
        $service = 'runner'
        Initialize-DrillService $service
        Remove-RebuildDrillService -Service $service -TierPath $DrillTier

        # The first run, in a pwsh of its own, writes each step's result as it finishes; it is killed during the step
        # after the VM's (the boot wait), as an operator's Ctrl+C or a dying terminal would.
        $log = Join-Path $TestDrive 'interrupted.jsonl'
        $script = Join-Path $TestDrive 'interrupted.ps1'
        @"
Import-Module '$ManifestPath'
Invoke-DeevRebuild -Service $service -TierPath '$DrillTier' -Confirm:`$false | ForEach-Object { `$_ | Select-Object Step, Status | ConvertTo-Json -Compress | Add-Content '$log' }
"@ | Set-Content $script
        $start = [System.Diagnostics.ProcessStartInfo]::new((Get-Process -Id $PID).Path)
        foreach ($argument in (Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $script) { $start.ArgumentList.Add($argument) }
        $child = [System.Diagnostics.Process]::Start($start)
        try {
            while (-not $child.HasExited -and -not ((Test-Path $log) -and (Get-Content $log | ConvertFrom-Json | Where-Object Step -EQ 'Vm'))) { Start-Sleep -Milliseconds 50 }
            $child.Kill($true)
        }
        finally { $child.WaitForExit() }
        $first = @(Get-Content $log | ConvertFrom-Json)
        $finished = @($first | Where-Object Status -EQ 'Done' | ForEach-Object Step)
        $finished | Should -Contain 'Vm'
        $first.Count | Should -BeLessThan (Get-DeevPlaybook -Class Automation).Count -Because 'the first run must have been stopped halfway'

        $second = @(Invoke-DeevRebuild -Service $service -TierPath $DrillTier -Confirm:$false)
        $second.Status | Should -Not -Contain 'Failed'
        foreach ($step in $finished) { ($second | Where-Object Step -EQ $step).Status | Should -Be 'Skipped' -Because "$step finished in the first run" }

        $state = Get-RebuildDrillState -Service $service -TierPath $DrillTier
        $state.Vms.Count | Should -Be 1
        $state.Domains.Count | Should -Be 1
        $state.Reservations.Count | Should -Be 1
        @($state.Records | Group-Object { "$($_.Name) $($_.Type)" } | Where-Object Count -GT 1) | Should -BeNullOrEmpty
        @($state.Records).Count | Should -Be (1 + @((Get-DeevService -HostName $state.Vms[0].Name -TierPath $DrillTier).Names).Count)
        Test-DeevExtendedTier -Service $service -TierPath $DrillTier -Quiet | Should -BeTrue
    }
}
