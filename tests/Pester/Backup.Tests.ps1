# The backup cmdlets as a user runs them: the local transport for the whole cycle, the lab's sshd for a backup over SSH.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning   # use it under `flock /tmp/deevnet-lab.lock`
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Lab.ps1')

    # A tier with one service 'files' on host 'bksrc' (via $Via), a store folder and a fresh age key, under $Dir.
    function New-BackupTier {
        param([string] $Dir, [string] $Via = 'local', [string] $Access = '', [string] $After = '')
        New-Item -ItemType Directory -Force -Path "$Dir/data" | Out-Null
        sh -c "umask 077; age-keygen -o '$Dir/age.key' 2>/dev/null" | Out-Null
        $recipient = (age-keygen -y "$Dir/age.key").Trim()
        New-SigningKey -Key "$Dir/signing.key" -AllowedSigners "$Dir/allowed_signers"
        $afterYaml = if ($After) { ", after: `"$After`"" } else { '' }
        $yaml = @"
site: { name: bk, domain: bk.test, macNamespace: "02:de:77", vmidRange: [100, 199] }
$Access
segments:
  mgmt: { subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static }
backup: { store: "$Dir/store", recipient: $recipient, identityFile: "$Dir/age.key", signingKeyFile: "$Dir/signing.key", allowedSignersFile: "$Dir/allowed_signers", keep: 2 }
hosts:
  bksrc: { segment: mgmt, ip: 10.231.25.60, via: "$Via" }
  bkdst: { segment: mgmt, ip: 10.231.25.61, via: local }
services:
  files: { class: observability, host: bksrc, backup: { paths: ["$Dir/data"]$afterYaml } }
  quiet: { class: access, host: bksrc, backup: { none: "stateless" } }
"@
        Set-Content -Path "$Dir/bk.tier.yaml" -Value $yaml
        "$Dir/bk.tier.yaml"
    }

    # An OpenSSH key that signs backups, listed in an allowed-signers file (made per test, never committed).
    function New-SigningKey {
        param([string] $Key, [string] $AllowedSigners)
        sh -c "umask 077; ssh-keygen -q -t ed25519 -N '' -C deevnet-backup-test -f '$Key'" | Out-Null
        Add-Content -Path $AllowedSigners -Value ("deevnet-backup namespaces=`"deevnet-backup`" " + (Get-Content "$Key.pub"))
    }

    # A backup of 'files' planted in the store by someone with only the public recipient: their own tree (holding
    # planted.txt) as a pax tar with a MANIFEST member, encrypted with age, named a minute newer than anything there,
    # with a plausible .meta naming their path. Returns the planted name and their data folder.
    function New-PlantedBackup {
        param([string] $Dir, [string] $Name)
        $evil = "$Dir/$Name"
        New-Item -ItemType Directory -Force -Path $evil | Out-Null
        Set-Content -Path "$evil/planted.txt" -Value 'planted by someone else'
        $recipient = (age-keygen -y "$Dir/age.key").Trim()
        $stamp = [datetime]::UtcNow.AddMinutes(1).ToString("yyyyMMdd'T'HHmmss'Z'")
        $backup = "files-bksrc-$stamp"
        $rel = $evil.TrimStart('/')
        $manifest = "# deevnet-backup manifest 1`n# service: files`n# host: bksrc`n# time: $([datetime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'))`n# path: $evil`n"
        Set-Content -Path "$Dir/$Name.MANIFEST" -Value $manifest -NoNewline
        sh -c "set -e; mkdir -p '$Dir/$Name.m'; cp '$Dir/$Name.MANIFEST' '$Dir/$Name.m/MANIFEST'; tar --format=pax -C / -cf '$Dir/$Name.tar' '$rel'; tar --format=pax -C '$Dir/$Name.m' -rf '$Dir/$Name.tar' MANIFEST; age -r '$recipient' -o '$Dir/store/files/$backup.tar.age' '$Dir/$Name.tar'"
        Set-Content -Path "$Dir/store/files/$backup.meta" -Value "format=deevnet-backup-1`nservice=files`nhost=bksrc`ntime=$([datetime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'))`npath=$evil`n" -NoNewline
        [pscustomobject]@{ BackupName = $backup; Data = $evil }
    }

    function New-OddTree {
        param([string] $Data)
        sh -c @"
set -e; cd '$Data'
printf 'hello\n' > 'with space.txt'; printf 'x\n' > "`$(printf 'new\nline')"; ln -sf 'with space.txt' link
mkdir -p sub; printf 'owned\n' > sub/owned; chown 1234:2345 sub/owned; chmod 0640 sub/owned
head -c 3000000 /dev/urandom > big.bin
"@
    }
}

Describe 'Backup, list, test and restore with the cmdlets' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'world'
        $script:tier = New-BackupTier -Dir $dir -After "touch '$TestDrive/after-ran'"
        New-OddTree -Data "$dir/data"
    }

    It 'backs up a service from the pipeline and outputs the result' {
        $result = Get-DeevService files -TierPath $tier | Backup-DeevService
        $result.Service | Should -Be 'files'
        $result.BackupName | Should -Match '^files-bksrc-\d{8}T\d{6}Z$'
        $result.Size | Should -BeGreaterThan 3000000
        Test-Path "$TestDrive/after-ran" | Should -BeTrue
        (Get-ChildItem "$dir/store/files").Name | Should -Be @("$($result.BackupName).meta", "$($result.BackupName).seal", "$($result.BackupName).tar.age")
    }

    It 'skips services that declare nothing to back up' {
        Backup-DeevService quiet -TierPath $tier -Verbose 4>&1 | Out-String | Should -Match 'nothing to back up \(stateless\)'
    }

    It 'lists backups with time, size, age and status, without the key' {
        Rename-Item "$dir/age.key" 'age.key.away'
        try { $b = Get-DeevBackup -TierPath $tier } finally { Rename-Item "$dir/age.key.away" 'age.key' }
        @($b).Count | Should -Be 1
        $b.Status | Should -Be 'Unverified'
        $b.Signature | Should -Be 'Valid'
        $b.Age | Should -BeLessThan ([timespan]::FromMinutes(5))
        ($b | Format-Table | Out-String -Width 250) | Should -Match 'Unverified'
    }

    It 'tests the listed backup from the pipeline and records the result' {
        $t = Get-DeevBackup -TierPath $tier | Test-DeevBackup
        $t.Passed | Should -BeTrue
        (Get-DeevBackup -TierPath $tier).Status | Should -Be 'Verified'
    }

    It 'fails clearly with a wrong key' {
        sh -c "age-keygen -o '$TestDrive/wrong.key' 2>/dev/null"
        Test-DeevBackup files -TierPath $tier -IdentityFile "$TestDrive/wrong.key" -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BackupKeyMismatch,*'
    }

    It 'prints the restore plan with -WhatIf and touches nothing' {
        $root = Join-Path $TestDrive 'restored-whatif'
        $out = Restore-DeevService files -TierPath $tier -TargetHost bkdst -Root $root -WhatIf -Verbose 4>&1 | Out-String
        $out | Should -Match 'Restore plan for files on bkdst'
        $out | Should -Match ([regex]::Escape("$root$dir/data"))
        Test-Path $root | Should -BeFalse
    }

    It 'shows in -WhatIf the paths of the signed seal, never those of a rewritten .meta sidecar' {
        $b = Get-DeevBackup -TierPath $tier
        $meta = "$dir/store/files/$($b.BackupName).meta"
        $pristine = Get-Content -Raw $meta
        Set-Content -Path $meta -Value $pristine.Replace("path=$dir/data", 'path=/etc/planted-by-sidecar') -NoNewline
        try {
            $root = Join-Path $TestDrive 'restored-whatif-meta'
            $out = Restore-DeevService files -TierPath $tier -TargetHost bkdst -Root $root -WhatIf -Verbose 4>&1 | Out-String
            $out | Should -Not -Match 'planted-by-sidecar'
            $out | Should -Match ([regex]::Escape("$root$dir/data"))
            $out | Should -CMatch "$($b.BackupName) is signed by deevnet-backup"
        }
        finally { Set-Content -Path $meta -Value $pristine -NoNewline }
    }

    It 'restores onto another host under another root and verifies every file' {
        $root = Join-Path $TestDrive 'restored'
        Remove-Item "$TestDrive/after-ran"
        $r = Restore-DeevService files -TierPath $tier -TargetHost bkdst -Root $root -Confirm:$false
        $r.Verified | Should -BeTrue
        $r.HostName | Should -Be 'bkdst'
        Test-Path "$TestDrive/after-ran" | Should -BeTrue
        (Get-FileHash "$root$dir/data/big.bin").Hash | Should -Be (Get-FileHash "$dir/data/big.bin").Hash
        sh -c "stat -c '%a %u:%g' '$root$dir/data/sub/owned'" | Should -Be '640 1234:2345'
        (Get-Item "$root$dir/data/link").LinkTarget | Should -Be 'with space.txt'
    }

    It 'reports a damaged backup naming the file and no longer counts it as good' {
        $b = Get-DeevBackup -TierPath $tier
        $file = "$dir/store/files/$($b.BackupName).tar.age"
        $bytes = [IO.File]::ReadAllBytes($file); $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 1
        [IO.File]::WriteAllBytes($file, $bytes)
        $t = Test-DeevBackup files -TierPath $tier -ErrorVariable err -ErrorAction SilentlyContinue
        $t.Passed | Should -BeFalse
        $t.Problems[0].Path | Should -BeLike '*/data/big.bin'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BackupVerificationFailed,*'
        Get-DeevBackup -TierPath $tier -Latest | Should -BeNullOrEmpty
    }
}

Describe 'Backups planted in the store by someone with the public recipient' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'planted-world'
        $script:tier = New-BackupTier -Dir $dir
        New-OddTree -Data "$dir/data"
        $script:real = Backup-DeevService files -TierPath $tier
        $script:planted = New-PlantedBackup -Dir $dir -Name 'evil'
    }

    It 'lists the planted backup as Unauthenticated and never as the newest good one' {
        $all = Get-DeevBackup -TierPath $tier
        $all[0].BackupName | Should -Be $planted.BackupName
        $all[0].Status | Should -Be 'Unauthenticated'
        $all[0].Signature | Should -Be 'Missing'
        (Get-DeevBackup -TierPath $tier -Latest).BackupName | Should -Be $real.BackupName
    }

    It 'refuses to test it, by default and by name' {
        Test-DeevBackup files -BackupName $planted.BackupName -TierPath $tier -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BackupUnauthenticated,*'
        (Test-DeevBackup files -TierPath $tier).BackupName | Should -Be $real.BackupName
    }

    It 'never restores it: the default is the real backup, and naming it is refused with nothing written' {
        $root = Join-Path $TestDrive 'restored-planted'
        Restore-DeevService files -BackupName $planted.BackupName -TierPath $tier -TargetHost bkdst -Root $root -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BackupUnauthenticated,*'
        Test-Path "$root$($planted.Data)" | Should -BeFalse
        $out = Restore-DeevService files -TierPath $tier -TargetHost bkdst -Root $root -WhatIf -Verbose 4>&1 | Out-String
        $out | Should -Match ([regex]::Escape($real.BackupName))
        $out | Should -Not -Match ([regex]::Escape($planted.Data))
        $r = Restore-DeevService files -TierPath $tier -TargetHost bkdst -Root $root -Confirm:$false
        $r.BackupName | Should -Be $real.BackupName
        Test-Path "$root$($planted.Data)" | Should -BeFalse
    }

    It 'accepts an unsigned backup only when it is named with -AllowUnsigned, showing the tier''s paths' {
        $root = Join-Path $TestDrive 'restored-unsigned'
        $out = Restore-DeevService files -BackupName $planted.BackupName -AllowUnsigned -TierPath $tier -TargetHost bkdst -Root $root -WhatIf -Verbose 4>&1 | Out-String
        $out | Should -CMatch "$($planted.BackupName) is UNSIGNED"
        $out | Should -Match ([regex]::Escape("$root$dir/data"))
        $out | Should -Not -Match ([regex]::Escape($planted.Data))
    }
}

Describe 'Backup over the lab''s SSH' -Skip:(-not $LabUp) {
    BeforeAll {
        $lab = Get-LabEnvironment
        $script:dir = Join-Path $lab.DEEV_LAB_ROOT ("bk-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $access = "access: { user: root, identityFile: `"$($lab.DEEV_LAB_SSH_KEY)`", knownHosts: `"$($lab.DEEV_LAB_KNOWN_HOSTS)`" }"
        $script:tier = New-BackupTier -Dir $dir -Via 'ssh://root@10.231.0.2' -Access $access
        New-OddTree -Data "$dir/data"
    }
    AfterAll { if ($dir) { Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue } }

    It 'backs up from the lab server and the backup tests good' {
        $result = Backup-DeevService files -TierPath $tier
        $result.HostName | Should -Be 'bksrc'
        (Test-DeevBackup files -TierPath $tier).Passed | Should -BeTrue
    }
}
