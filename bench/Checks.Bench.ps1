# Issue 6: 1,000 checks (HTTP and TCP against lab servers, DNS against the lab resolver) with the default throttle,
# against the very same checks run one after another (-ThrottleLimit 1), in the same run.
# Goal: all 1,000 in under 2 s, and at least 20 times faster than serial.
. (Join-Path $PSScriptRoot 'Common.ps1')
$manifest = Join-Path $RepoRoot 'Deevnet.Extended.psd1'
$labSh = Join-Path $RepoRoot 'tests/lab/lab.sh'
Import-Module $manifest

# The lab is shared by every helper and CI job on this machine: hold its lock (flock(2), the same lock as
# `flock /tmp/deevnet-lab.lock`) for as long as the bench uses the lab. .NET takes flock for FileShare.None.
$lock = $null
$deadline = [DateTime]::UtcNow.AddMinutes(10)
while ($null -eq $lock) {
    try { $lock = [IO.File]::Open('/tmp/deevnet-lab.lock', 'OpenOrCreate', 'ReadWrite', 'None') }
    catch [IO.IOException] {
        if ([DateTime]::UtcNow -gt $deadline) { throw 'The lab lock /tmp/deevnet-lab.lock stayed taken for 10 minutes.' }
        Start-Sleep -Milliseconds 500
    }
}
$started = $false
$dir = Join-Path ([IO.Path]::GetTempPath()) ("deev-checks-bench-" + [guid]::NewGuid().ToString('n'))
try {
    & bash $labSh status *> $null
    if ($LASTEXITCODE -ne 0) {
        & bash $labSh start | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "The lab did not start: $(Get-Content -Raw /run/deevnet-lab/lab.error -ErrorAction Ignore)" }
        $started = $true
    }
    # Four lab guests serve HTTP (busybox httpd; /health answers at once, /cgi-bin/slow after 20 ms of "service
    # time"), Unbound takes TCP, and the site server's dnsmasq answers the hand-made record.
    # 100 services x (4 http + 3 tcp + 3 dns) = 1,000 checks.
    New-Item -ItemType Directory -Path $dir, (Join-Path $dir 'cgi-bin') | Out-Null
    Set-Content -LiteralPath (Join-Path $dir 'health') -Value 'status: ok' -NoNewline
    $cgi = Join-Path $dir 'cgi-bin/slow'
    Set-Content -LiteralPath $cgi -Value "#!/bin/sh`nsleep 0.02`nprintf 'Content-Type: text/plain\r\n\r\nstatus: ok'`n" -NoNewline
    & chmod 755 $cgi
    $guests = 0..3 | ForEach-Object { [pscustomobject]@{ Name = "ckbench$_"; IP = "10.231.25.$(70 + $_)"; Mac = '02:de:3c:00:00:{0:x2}' -f (112 + $_) } }
    foreach ($g in $guests) {
        & bash $labSh guest del $g.Name *> $null
        & bash $labSh guest add $g.Name --mac $g.Mac --segment platform --ip "$($g.IP)/24" | Out-Null
        & bash $labSh guest http $g.Name 8080 $dir | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "The lab guest $($g.Name) did not serve HTTP." }
    }
    function New-BenchTier([string] $Path, [string] $HttpPath) {
        $sb = [Text.StringBuilder]::new()
        [void]$sb.AppendLine('site: { name: lab, domain: lab.deevnet.test, macNamespace: "02:de:99", vmidRange: [900, 999] }')
        [void]$sb.AppendLine('segments: { platform: { subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static } }')
        [void]$sb.AppendLine('dns: { kind: dnsmasq, via: "ssh://root@10.231.0.2", server: 10.231.0.2, port: 53, recordsFile: /tmp/r, pidFile: /tmp/p }')
        [void]$sb.AppendLine('hosts: { bench: { segment: platform, ip: 10.231.25.69, vmid: 969 } }')
        [void]$sb.AppendLine('services:')
        foreach ($i in 1..100) {
            $checks = @(foreach ($g in $guests) { "{ http: `"http://$($g.IP):8080$HttpPath`", body: ok }" }) +
                @(1..3 | ForEach-Object { '{ tcp: "10.231.0.2:5354" }' }) +
                @(1..3 | ForEach-Object { '{ dns: handmade.lab.deevnet.test, expect: 10.231.99.250 }' })
            [void]$sb.AppendLine("  svc$($i): { class: observability, host: bench, backup: { none: bench }, checks: [ $($checks -join ', ') ] }")
        }
        [IO.File]::WriteAllText($Path, $sb.ToString())
        $Path
    }
    $checks = 'http', 'tcp', 'dns'
    function Measure-Checks([string] $Tier, [string] $What) {
        $first = Test-DeevExtendedTier -TierPath $Tier -Check $checks -Summary
        if ($first.Total -ne 1000 -or $first.Failed -gt 0) {
            $first.Failures | Select-Object -First 5 | ForEach-Object { "  failed: $($_.Check) $($_.Target): $($_.Detail)" }
            throw "$What`: expected 1,000 passing checks, got $($first.Total) with $($first.Failed) failed."
        }
        $parallel = Measure-Median -Count 5 { Test-DeevExtendedTier -TierPath $Tier -Check $checks -Summary }
        $serial = Measure-Median -Count 1 -NoWarmup { Test-DeevExtendedTier -TierPath $Tier -Check $checks -Summary -ThrottleLimit 1 }
        Write-BenchResult -What $What -ValueMs $parallel -BaselineName 'serial (-ThrottleLimit 1)' -BaselineMs $serial -Goal '< 2000 ms and ratio >= 20x'
    }
    Measure-Checks (New-BenchTier (Join-Path $dir 'fast.tier.yaml') '/health') '1,000 checks (400 http, 300 tcp, 300 dns), default throttle'
    Measure-Checks (New-BenchTier (Join-Path $dir 'slow.tier.yaml') '/cgi-bin/slow') '1,000 checks, http endpoints taking 20 ms, default throttle'
}
finally {
    if (-not $started) { foreach ($g in $guests) { & bash $labSh guest del $g.Name *> $null } }
    Remove-Item $dir -Recurse -Force -ErrorAction Ignore
    if ($started) { & bash $labSh stop | Out-Null }
    $lock.Dispose()
}
