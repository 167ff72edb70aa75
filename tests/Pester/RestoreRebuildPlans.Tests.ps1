# Saved plans for restores and rebuilds, as an operator uses them: Restore-DeevService / Invoke-DeevRebuild -PlanPath
# write the plan (the backup pinned by name and by its seal's digests), Invoke-DeevPlan applies exactly it later or
# refuses it (PlanStale) when the pinned backup or the tier moved. The backups are real (age, tar, ssh-keygen seals)
# on the local transport; the rebuilds run a small playbook of this file's own (no lab VM is needed).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    # A tier with one service 'files' (observability) on host 'rpsrc' (via local) whose data is backed up into a store
    # under $Dir, with a fresh age key, a signing key, a journal and a playbook folder.
    function New-PlanWorld {
        param([string] $Dir)
        New-Item -ItemType Directory -Force -Path "$Dir/data", "$Dir/playbooks" | Out-Null
        sh -c "umask 077; age-keygen -o '$Dir/age.key' 2>/dev/null; ssh-keygen -q -t ed25519 -N '' -C plan-test -f '$Dir/signing.key'" | Out-Null
        Set-Content -Path "$Dir/allowed_signers" -Value ("deevnet-backup namespaces=`"deevnet-backup`" " + (Get-Content "$Dir/signing.key.pub"))
        $recipient = (age-keygen -y "$Dir/age.key").Trim()
        Set-Content -Path "$Dir/rp.tier.yaml" -Value @"
site: { name: rp, domain: rp.test, macNamespace: "02:de:78", vmidRange: [300, 399] }
segments:
  mgmt: { subnet: 10.231.26.0/24, gateway: 10.231.26.1, addressing: static }
backup: { store: "$Dir/store", recipient: $recipient, identityFile: "$Dir/age.key", signingKeyFile: "$Dir/signing.key", allowedSignersFile: "$Dir/allowed_signers", keep: 5 }
journal: $Dir/changes.jsonl
hosts:
  rpsrc: { segment: mgmt, ip: 10.231.26.60, via: local }
services:
  files: { class: observability, host: rpsrc, backup: { paths: ["$Dir/data"] } }
"@
        # The playbook: Restore writes down which backup the rebuild would restore (Get-RebuildNewestBackup, as the
        # standard Restore step picks it); Done marks the rebuild finished.
        Set-Content -Path "$Dir/playbooks/Observability.ps1" -Value @'
# A playbook for the plan tests.
New-RebuildStep -Name Restore -Description 'note the backup it restores' -Advice 'none' `
    -Test { param($r) $false } `
    -Invoke { param($r) Set-Content -Path (Join-Path $env:PLAN_TEST_DIR 'restored-from') -Value (Get-RebuildNewestBackup $r).BackupName } `
    -Verify { param($r) Test-Path (Join-Path $env:PLAN_TEST_DIR 'restored-from') }
New-RebuildStep -Name Done -Description 'mark the rebuild done' -Advice 'none' `
    -Test { param($r) Test-Path (Join-Path $env:PLAN_TEST_DIR 'done') } `
    -Invoke { param($r) New-Item -Path (Join-Path $env:PLAN_TEST_DIR 'done') | Out-Null }
'@
        $env:PLAN_TEST_DIR = $Dir
        "$Dir/rp.tier.yaml"
    }

    # A backup under a new name (backup names count seconds).
    function New-Backup([string] $Tier) {
        Start-Sleep -Milliseconds 1100
        Backup-DeevService files -TierPath $Tier -Confirm:$false
    }

    # Another archive put under an existing backup's name, with a seal re-signed by the site's own key for that name:
    # authentic, but not the archive a plan pinned.
    function Set-OtherArchive([string] $Dir, [string] $Name, [string] $From) {
        $store = "$Dir/store/files"
        $message = (Get-Content -Raw "$store/$From.seal") -replace '(?s)-----BEGIN SSH SIGNATURE-----.*$', ''
        $time = [regex]::Match((Get-Content -Raw "$store/$Name.seal"), '(?m)^time: .*$').Value
        $message = ($message -replace "(?m)^backup: .*$", "backup: $Name") -replace '(?m)^time: .*$', $time
        [IO.File]::WriteAllText("$Dir/seal.txt", $message)
        ssh-keygen -q -Y sign -n deevnet-backup -f "$Dir/signing.key" "$Dir/seal.txt" 2>$null | Out-Null
        [IO.File]::WriteAllText("$store/$Name.seal", $message + [IO.File]::ReadAllText("$Dir/seal.txt.sig"))
        Copy-Item "$store/$From.tar.age" "$store/$Name.tar.age" -Force
        Remove-Item "$Dir/seal.txt", "$Dir/seal.txt.sig"
    }

    function Get-Sha256([string] $Path) { (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLowerInvariant() }
    function Get-LastRecord([string] $Dir) { Get-Content -LiteralPath "$Dir/changes.jsonl" | Select-Object -Last 1 | ConvertFrom-Json }
    function Get-RecordCount([string] $Dir) { if (Test-Path "$Dir/changes.jsonl") { @(Get-Content "$Dir/changes.jsonl").Count } else { 0 } }
}

AfterAll { Remove-Item Env:PLAN_TEST_DIR -ErrorAction Ignore }

Describe 'Saved restore plans' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'restore'
        $script:tier = New-PlanWorld -Dir $dir
        Set-Content -Path "$dir/data/config" -Value 'as backed up'
        $script:first = New-Backup $tier
    }

    It 'saves the restore instead of restoring: byte-identical twice, the backup pinned by name and seal digests, no key in it' {
        Set-Content -Path "$dir/data/config" -Value 'changed since'
        $plan = "$dir/restore.plan.json"; $again = "$dir/restore-again.plan.json"
        Restore-DeevService files -TierPath $tier -PlanPath $plan 6>$null | Should -BeNullOrEmpty
        Restore-DeevService files -TierPath $tier -PlanPath $again 6>$null
        Get-Sha256 $again | Should -Be (Get-Sha256 $plan)
        Get-Content "$dir/data/config" | Should -Be 'changed since'
        Get-RecordCount $dir | Should -Be 0

        $text = Get-Content -Raw -LiteralPath $plan
        $text | Should -Not -Match 'AGE-SECRET-KEY|PRIVATE KEY|age\.key|signing\.key'
        $saved = $text | ConvertFrom-Json
        $saved.tier.sha256 | Should -Be (Get-Sha256 $tier)
        @($saved.steps).Count | Should -Be 1
        $step = $saved.steps[0]
        $step.service | Should -Be 'restore'
        $step.server | Should -Be 'rpsrc'
        $step.restoreOf.service | Should -Be 'files'
        $step.restoreOf.root | Should -Be '/'
        $step.restoreOf.runCommands | Should -BeTrue
        $step.restoreOf.backup.name | Should -Be $first.BackupName
        $step.restoreOf.backup.archiveSha256 | Should -Be (Get-Sha256 "$dir/store/files/$($first.BackupName).tar.age")
        $step.restoreOf.backup.manifestSha256 | Should -Match '^[0-9a-f]{64}$'
        ($step.changes | Where-Object kind -EQ 'Path').after | Should -Be "from $($first.BackupName)"
    }

    It 'is applied later by Invoke-DeevPlan: exactly the pinned backup, journalled with the plan''s SHA-256' {
        $plan = "$dir/restore.plan.json"
        $newer = New-Backup $tier   # taken from 'changed since': the plan still restores the pinned one
        Invoke-DeevPlan -Path $plan -WhatIf 6>$null | Should -BeNullOrEmpty
        Get-Content "$dir/data/config" | Should -Be 'changed since'
        $result = Invoke-DeevPlan -Path $plan -Confirm:$false
        $result.BackupName | Should -Be $first.BackupName
        $result.Verified | Should -BeTrue
        Get-Content "$dir/data/config" | Should -Be 'as backed up'
        $record = Get-LastRecord $dir
        $record.planSha256 | Should -Be (Get-Sha256 $plan)
        $record.result | Should -Be 'applied'
        $record.server | Should -Be 'rpsrc'
        ($record.changes | Where-Object kind -EQ 'Path').after | Should -Be "from $($first.BackupName)"
        $newer.BackupName | Should -Not -Be $first.BackupName
    }

    It 'is refused (PlanStale) when another authentic archive was put under the pinned name, and restores nothing' {
        $pinned = New-Backup $tier
        $plan = "$dir/replaced.plan.json"
        Restore-DeevService files -BackupName $pinned.BackupName -TierPath $tier -PlanPath $plan 6>$null
        Set-Content -Path "$dir/data/config" -Value 'other data'
        $other = New-Backup $tier
        Set-OtherArchive -Dir $dir -Name $pinned.BackupName -From $other.BackupName
        (Get-DeevBackup files -TierPath $tier | Where-Object BackupName -EQ $pinned.BackupName).Signature | Should -Be 'Valid'
        Set-Content -Path "$dir/data/config" -Value 'live'
        $lines = Get-RecordCount $dir
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*the backup $($pinned.BackupName) was replaced*"
        Get-Content "$dir/data/config" | Should -Be 'live'
        Get-RecordCount $dir | Should -Be $lines
    }

    It 'is refused (PlanStale) when the pinned backup was removed, naming it' {
        $pinned = New-Backup $tier
        $plan = "$dir/removed.plan.json"
        Restore-DeevService files -BackupName $pinned.BackupName -TierPath $tier -PlanPath $plan 6>$null
        Remove-Item "$dir/store/files/$($pinned.BackupName).*"
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*the backup $($pinned.BackupName) is gone*"
        Get-Content "$dir/data/config" | Should -Be 'live'
    }

    It 'is refused (PlanStale) after a tier edit' {
        $plan = "$dir/tier-edit.plan.json"
        Restore-DeevService files -TierPath $tier -PlanPath $plan 6>$null
        Add-Content -LiteralPath $tier -Value '# reviewed by hand'
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage '*tier file*changed*'
        Get-Content "$dir/data/config" | Should -Be 'live'
    }

    It 'refuses to pin an unsigned backup (BackupUnauthenticated) and writes no plan' {
        $unsigned = New-Backup $tier
        Remove-Item "$dir/store/files/$($unsigned.BackupName).seal"
        $plan = "$dir/unsigned.plan.json"
        { Restore-DeevService files -BackupName $unsigned.BackupName -AllowUnsigned -TierPath $tier -PlanPath $plan -ErrorAction Stop 6>$null } |
            Should -Throw -ErrorId 'BackupUnauthenticated*' -ExpectedMessage '*no verified seal*'
        Test-Path $plan | Should -BeFalse
    }
}

Describe 'Saved rebuild plans' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'rebuild'
        $script:tier = New-PlanWorld -Dir $dir
        New-DeevHostIdentity -TierPath $tier -Confirm:$false | Out-Null
        Set-Content -Path "$dir/data/config" -Value 'as backed up'
        $script:pinned = New-Backup $tier
        $script:playbooks = "$dir/playbooks"
    }

    It 'saves the rebuild instead of running it: playbook, ordered steps, pinned backup and the host''s identity; byte-identical twice' {
        $plan = "$dir/rebuild.plan.json"; $again = "$dir/rebuild-again.plan.json"
        $lines = Get-RecordCount $dir   # the identity allocation
        Invoke-DeevRebuild -Service files -TierPath $tier -PlaybookPath $playbooks -PlanPath $plan 6>$null | Should -BeNullOrEmpty
        Invoke-DeevRebuild -Service files -TierPath $tier -PlaybookPath $playbooks -PlanPath $again 6>$null
        Get-Sha256 $again | Should -Be (Get-Sha256 $plan)
        Test-Path "$dir/restored-from", "$dir/done" | Should -Be @($false, $false)
        Get-RecordCount $dir | Should -Be $lines

        $steps = @((Get-Content -Raw $plan | ConvertFrom-Json).steps)
        $steps.Count | Should -Be 1
        $step = $steps[0]
        $step.service | Should -Be 'rebuild'
        $step.server | Should -Be 'rpsrc'
        $rebuild = $step.rebuildOf
        $rebuild.service | Should -Be 'files'
        $rebuild.class | Should -Be 'Observability'
        $rebuild.steps | Should -Be @('Restore', 'Done')
        $rebuild.playbook.path | Should -Be "$playbooks/Observability.ps1"
        $rebuild.playbook.sha256 | Should -Be (Get-Sha256 "$playbooks/Observability.ps1")
        $rebuild.backup.name | Should -Be $pinned.BackupName
        $rebuild.backup.archiveSha256 | Should -Be (Get-Sha256 "$dir/store/files/$($pinned.BackupName).tar.age")
        $identity = Get-DeevHostIdentity -TierPath $tier -HostName rpsrc
        $rebuild.host.vmId | Should -Be $identity.VmId
        $rebuild.host.macAddress | Should -Be $identity.MacAddress
        $rebuild.host.ipAddress | Should -Be '10.231.26.60'
        $step.changes.key | Should -Be @('files 01 Restore', 'files 02 Done')
    }

    It 'is applied later by Invoke-DeevPlan with the pinned backup, though a newer one exists, journalled with the plan''s SHA-256' {
        $plan = "$dir/rebuild.plan.json"
        $newer = New-Backup $tier
        $results = @(Invoke-DeevPlan -Path $plan -Confirm:$false)
        $results.Step | Should -Be @('Restore', 'Done')
        $results.Status | Should -Be @('Done', 'Done')
        Get-Content "$dir/restored-from" | Should -Be $pinned.BackupName
        $newer.BackupName | Should -Not -Be $pinned.BackupName
        $record = Get-LastRecord $dir
        $record.planSha256 | Should -Be (Get-Sha256 $plan)
        $record.result | Should -Be 'applied'
        $record.changes[0].kind | Should -Be 'rebuild'
        $record.changes[0].after | Should -Be 'rebuilt: Restore, Done done, 0 already done'
    }

    It 'is refused (PlanStale) when the pinned backup was removed, and runs no step' {
        $plan = "$dir/rebuild-gone.plan.json"
        Remove-Item "$dir/restored-from", "$dir/done"
        Invoke-DeevRebuild -Service files -TierPath $tier -PlaybookPath $playbooks -PlanPath $plan 6>$null
        $newest = (Get-Content -Raw $plan | ConvertFrom-Json).steps[0].rebuildOf.backup.name
        Remove-Item "$dir/store/files/$newest.*"
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*the backup $newest is gone*"
        Test-Path "$dir/restored-from", "$dir/done" | Should -Be @($false, $false)
    }

    It 'is refused (PlanStale) after a tier edit, and runs no step' {
        $plan = "$dir/rebuild-tier.plan.json"
        Invoke-DeevRebuild -Service files -TierPath $tier -PlaybookPath $playbooks -PlanPath $plan 6>$null
        Add-Content -LiteralPath $tier -Value '# reviewed by hand'
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage '*tier file*changed*'
        Test-Path "$dir/restored-from", "$dir/done" | Should -Be @($false, $false)
    }

    It 'is refused (PlanStale) after the playbook changed' {
        $plan = "$dir/rebuild-playbook.plan.json"
        Invoke-DeevRebuild -Service files -TierPath $tier -PlaybookPath $playbooks -PlanPath $plan 6>$null
        Add-Content -LiteralPath "$playbooks/Observability.ps1" -Value '# edited'
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage '*playbook*Observability.ps1 changed*'
        Test-Path "$dir/restored-from", "$dir/done" | Should -Be @($false, $false)
    }
}

Describe 'Saved rebuild plans for a service without a backup yet' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'nobackup'
        $script:tier = New-PlanWorld -Dir $dir
    }

    It 'says the Restore step has nothing to restore, and is refused (PlanStale) once a backup appeared that nobody reviewed' {
        $plan = "$dir/rebuild.plan.json"
        Invoke-DeevRebuild -Service files -TierPath $tier -PlaybookPath "$dir/playbooks" -PlanPath $plan -WarningVariable warned 3>$null 6>$null
        ($warned -join "`n") | Should -Match "'files' has no good backup"
        (Get-Content -Raw $plan | ConvertFrom-Json).steps[0].rebuildOf.PSObject.Properties.Name | Should -Not -Contain 'backup'
        $appeared = New-Backup $tier
        { Invoke-DeevPlan -Path $plan -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlanStale*' -ExpectedMessage "*the backup $($appeared.BackupName) appeared*"
        Test-Path "$dir/restored-from", "$dir/done" | Should -Be @($false, $false)
    }

    It 'restores from a plan with the key given to Invoke-DeevPlan -IdentityFile, the plan holding none' {
        Set-Content -Path "$dir/data/config" -Value 'backed up here'
        $backup = New-Backup $tier
        Set-Content -Path "$dir/data/config" -Value 'changed'
        $plan = "$dir/restore.plan.json"
        Restore-DeevService files -BackupName $backup.BackupName -TierPath $tier -PlanPath $plan 6>$null
        Move-Item "$dir/age.key" "$dir/elsewhere.key"
        try {
            $result = Invoke-DeevPlan -Path $plan -IdentityFile "$dir/elsewhere.key" -Confirm:$false
        }
        finally { Move-Item "$dir/elsewhere.key" "$dir/age.key" }
        $result.Verified | Should -BeTrue
        Get-Content "$dir/data/config" | Should -Be 'backed up here'
        Get-Content -Raw $plan | Should -Not -Match 'elsewhere|age\.key'
    }
}

Describe 'Invoke-DeevRebuild and its journal (plans apart)' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'journal'
        $script:tier = New-PlanWorld -Dir $dir
        New-Backup $tier | Out-Null
        # The journal is a folder: it cannot be written.
        $script:broken = "$dir/broken.tier.yaml"
        Set-Content -Path $broken -Value ((Get-Content -Raw $tier).Replace("journal: $dir/changes.jsonl", "journal: $dir")) -NoNewline
    }

    It 'stops before any step when the journal cannot be written (JournalUnwritable)' {
        { Invoke-DeevRebuild -Service files -TierPath $broken -PlaybookPath "$dir/playbooks" -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'JournalUnwritable*'
        Test-Path "$dir/restored-from", "$dir/done" | Should -Be @($false, $false)
    }

    It 'runs with -SkipJournal, saying so as a warning' {
        $results = @(Invoke-DeevRebuild -Service files -TierPath $broken -PlaybookPath "$dir/playbooks" -SkipJournal -Confirm:$false -WarningVariable warned 3>$null)
        $results.Status | Should -Be @('Done', 'Done')
        Test-Path "$dir/done" | Should -BeTrue
        ($warned -join "`n") | Should -Match '-SkipJournal: this change is not recorded'
    }
}

Describe 'Saving a plan under -WhatIf' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'whatif'
        $script:tier = New-PlanWorld -Dir $dir
        New-Backup $tier | Out-Null
    }

    It '<Command> -PlanPath -WhatIf writes no plan' -ForEach @(
        @{ Command = 'Restore-DeevService'; Arguments = @{ Service = 'files' } }
        @{ Command = 'Invoke-DeevRebuild'; Arguments = @{ Service = 'files'; PlaybookPath = 'playbooks' } }
        @{ Command = 'New-DeevHostIdentity'; Arguments = @{} }
    ) {
        $plan = "$dir/$Command.plan.json"
        if ($Arguments.PlaybookPath) { $Arguments.PlaybookPath = "$dir/playbooks" }
        & $Command @Arguments -TierPath $tier -PlanPath $plan -WhatIf 6>$null
        Test-Path $plan | Should -BeFalse
        Get-ChildItem $dir -Filter '*.tmp' -Force | Should -BeNullOrEmpty
    }

    It 'says "What if: Writing plan to" the file, once, and writes nothing' {
        $plan = "$dir/said.plan.json"
        # "What if" lines go to the host, which a transcript records.
        Start-Transcript -LiteralPath "$dir/transcript.txt" | Out-Null
        try { Restore-DeevService files -TierPath $tier -PlanPath $plan -WhatIf 6>$null }
        finally { Stop-Transcript | Out-Null }
        $said = @(Get-Content "$dir/transcript.txt") -match '^What if: '
        $said | Should -Be @("What if: Writing plan to $plan")
        Test-Path $plan | Should -BeFalse
    }
}
