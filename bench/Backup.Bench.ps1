# Issues 13/16: backup throughput of a 1 GiB tree over the lab's SSH against `ssh host tar | age` with OpenSSH's own
# client in the same run, and the peak memory (VmHWM) of this pwsh process, which runs the backup, during the backup;
# then the throughput of Test-DeevBackup and of Restore-DeevService (into a scratch root over the lab's SSH).
# Goal: within 1.5x of the OpenSSH pipeline, peak memory under 200 MB. Starts the lab if none runs (and stops it).
# Last runs (issue 16, 2 cores shared with other work, so +-20%): 137-145 MiB/s (7.1-7.5 s; main before: 107 MiB/s,
# 9.6 s), 1.57-1.87x the baseline, peak 180-183 MB; Test 400-494 MiB/s (before 280), Restore 80-88 MiB/s (before 79).
# Where the rest goes (perf): sshd copying and paging the megabytes SSH.NET's 2 GiB channel window lets it buffer (~20% of all samples),
# SSH.NET's receive (~2 s CPU per GiB), two SHA-256 passes (members, ciphertext; ~0.6 s each), age (0.6 s).
. (Join-Path $PSScriptRoot 'Common.ps1')
$labSh = Join-Path $RepoRoot 'tests/lab/lab.sh'
$labRoot = if ($env:DEEV_LAB_ROOT) { $env:DEEV_LAB_ROOT } else { '/run/deevnet-lab' }
$startedLab = $false
if (-not (Test-Path (Join-Path $labRoot 'lab.env'))) {
    & $labSh start | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'The lab did not start.' }
    $startedLab = $true
}
Import-Module (Join-Path $RepoRoot 'Deevnet.Extended.psd1')
$dir = Join-Path $labRoot ('bk-bench-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
try {
    $key = "$labRoot/ssh/id_ed25519"; $known = "$labRoot/ssh/known_hosts"
    New-Item -ItemType Directory -Force -Path "$dir/data/small", "$dir/store" | Out-Null
    sh -c "umask 077; age-keygen -o '$dir/age.key' 2>/dev/null"
    $recipient = (age-keygen -y "$dir/age.key").Trim()
    ssh-keygen -q -t ed25519 -N '' -C deevnet-backup-bench -f "$dir/sign.key"
    if ($LASTEXITCODE -ne 0) { throw 'ssh-keygen failed.' }
    Set-Content "$dir/allowed_signers" ('deevnet-backup namespaces="deevnet-backup" ' + (Get-Content -Raw "$dir/sign.key.pub").Trim())
    # 1 GiB that does not compress: four 250 MiB files and 1,000 files of 24 KiB.
    sh -c "cd '$dir/data' && for i in 1 2 3 4; do head -c 262144000 /dev/urandom > big`$i.bin; done && cd small && for i in `$(seq 1000); do head -c 24576 /dev/urandom > f`$i; done"
    $bytes = [long](sh -c "du -sb '$dir/data' | cut -f1")
    Set-Content "$dir/bench.tier.yaml" @"
site: { name: bench, domain: bench.test, macNamespace: "02:de:77", vmidRange: [100, 199] }
access: { user: root, identityFile: "$key", knownHosts: "$known" }
segments:
  mgmt: { subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static }
backup: { store: "$dir/store", recipient: $recipient, identityFile: "$dir/age.key", signingKeyFile: "$dir/sign.key", allowedSignersFile: "$dir/allowed_signers", keep: 1 }
hosts:
  benchsrc: { segment: mgmt, ip: 10.231.25.60, via: "ssh://root@10.231.0.2" }
services:
  bulk: { class: automation, host: benchsrc, backup: { paths: ["$dir/data"] } }
"@
    $rel = "$dir/data".TrimStart('/')
    $ssh = "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='$known' -i '$key' root@10.231.0.2"
    $baselineScript = "$ssh 'tar --format=pax --create --file=- --directory=/ -- $rel' | age --encrypt --recipient $recipient > '$dir/baseline.tar.age'"

    # Warm the page cache and both paths once, then take the better of two runs of each, interleaved.
    sh -c $baselineScript
    $baseline = @(); $module = @(); $peaks = @(); $growth = @()
    foreach ($round in 1..2) {
        $w = [Diagnostics.Stopwatch]::StartNew(); sh -c $baselineScript; $baseline += $w.Elapsed.TotalSeconds
        $rssBefore = [long]((Get-Content "/proc/$PID/status" | Where-Object { $_ -like 'VmRSS:*' }) -replace '\D', '') * 1KB
        try { [IO.File]::WriteAllText("/proc/$PID/clear_refs", '5') } catch { Write-Warning "cannot reset the peak RSS: $_" }   # resets this process's peak RSS (VmHWM)
        $w = [Diagnostics.Stopwatch]::StartNew()
        $result = Backup-DeevService bulk -TierPath "$dir/bench.tier.yaml" -ProgressAction SilentlyContinue
        $module += $w.Elapsed.TotalSeconds
        $peaks += [long]((Get-Content "/proc/$PID/status" | Where-Object { $_ -like 'VmHWM:*' }) -replace '\D', '') * 1KB
        $growth += @($peaks[-1] - $rssBefore)
        if (-not $result) { throw 'The backup failed.' }
    }
    $t = ($module | Measure-Object -Minimum).Minimum; $b = ($baseline | Measure-Object -Minimum).Minimum
    $rate = $bytes / 1MB / $t; $baseRate = $bytes / 1MB / $b
    '{0}: {1:N1} MiB/s, {2:N2} s for {3:N0} MiB (baseline ssh tar | age {4:N1} MiB/s, {5:N2} s; ratio {6:N2}x slower) goal: within 1.5x' -f `
        'Backup-DeevService over lab SSH', $rate, $t, ($bytes / 1MB), $baseRate, $b, ($t / $b)
    $peak = ($peaks | Measure-Object -Maximum).Maximum
    '{0}: {1:N0} MB whole pwsh process incl. runtime and module, {2:N0} MB above its RSS before the backup (ratio to data {3:N3}) goal: < 200 MB' -f `
        'peak memory (max RSS) during backup', ($peak / 1MB), (($growth | Measure-Object -Maximum).Maximum / 1MB), ($peak / $bytes)
    $test = Measure-Median -Count 1 -NoWarmup { Test-DeevBackup bulk -TierPath "$dir/bench.tier.yaml" -ProgressAction SilentlyContinue }
    '{0}: {1:N1} MiB/s ({2:N2} s)' -f 'Test-DeevBackup (decrypt + verify, local store)', ($bytes / 1MB / ($test / 1000)), ($test / 1000)
    [IO.File]::WriteAllText("/proc/$PID/clear_refs", '5')
    $restore = Measure-Median -Count 1 -NoWarmup { Restore-DeevService bulk -Root "$dir/restore" -SkipCommands -Confirm:$false -TierPath "$dir/bench.tier.yaml" -ProgressAction SilentlyContinue }
    $restorePeak = [long]((Get-Content "/proc/$PID/status" | Where-Object { $_ -like 'VmHWM:*' }) -replace '\D', '') * 1KB
    '{0}: {1:N1} MiB/s ({2:N2} s; decrypt, extract over lab SSH into a scratch root, read back and compare), peak {3:N0} MB' -f 'Restore-DeevService', ($bytes / 1MB / ($restore / 1000)), ($restore / 1000), ($restorePeak / 1MB)
}
finally {
    Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
    if ($startedLab) { & $labSh stop | Out-Null }
}
