# Issues 6 and 16: Test-DeevExtendedTier's concurrency, against the very same checks run one after another
# (-ThrottleLimit 1) in the same run.
#  1. 1,000 mixed checks (HTTP, TCP, DNS) against servers that answer at once. Goal: < 2 s.
#  2. 1,000 HTTP checks against endpoints that answer in 20 ms (a service's real latency). Goal: >= 20x over serial
#     and within 1.5x of the bound N x latency / throttle (what perfect overlap would take).
#  3. The same at 10,000 checks, each size in a fresh process with its peak memory (VmHWM): the cost must grow
#     linearly, not with the square of the run.
# The endpoints are two lab guests of the bench's own space (tests/lab/spaces, row "bench": guests bench-*,
# 10.231.25.208-223), each running bench/lib/latency-server.py on four ports: eight endpoints, so the runner's
# per-endpoint limit (6) is not what bounds a throttle of 32. The bench also prints the checks' mean duration and
# how busy the runner kept its slots (N x mean duration / throttle / wall time): near 100% means the time above the
# bound is spent inside the checks (connection set-up, the server, a CPU shared with other jobs), not between them.
. (Join-Path $PSScriptRoot 'Common.ps1')
$manifest = Join-Path $RepoRoot 'Deevnet.Extended.psd1'
$labSh = Join-Path $RepoRoot 'tests/lab/lab.sh'
Import-Module $manifest

if (Invoke-BenchUnderLabLock $PSCommandPath) { exit $LASTEXITCODE }
$started = $false
$dir = Join-Path ([IO.Path]::GetTempPath()) ("deev-checks-bench-" + [guid]::NewGuid().ToString('n'))
$guests = 0..1 | ForEach-Object { [pscustomobject]@{ Name = "bench-ck$_"; IP = "10.231.25.$(208 + $_)"; Mac = '02:de:2e:00:00:{0:x2}' -f (16 + $_) } }
$ports = 8080..8083
$endpoints = foreach ($g in $guests) { foreach ($p in $ports) { "$($g.IP):$p" } }
$throttle = 32   # Test-DeevExtendedTier's default
$latencyMs = 20
try {
    $started = Start-BenchLab
    New-Item -ItemType Directory -Path $dir | Out-Null
    $server = Join-Path $PSScriptRoot 'lib/latency-server.py'
    foreach ($g in $guests) {
        & bash $labSh guest del $g.Name *> $null
        & bash $labSh guest add $g.Name --mac $g.Mac --segment platform --ip "$($g.IP)/24" | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "The lab guest $($g.Name) was not created." }
        # guest del ends whatever still runs in the guest's namespace, so the server needs no stop of its own.
        # One server process per port: a single Python process serving all four adds its own queueing to the 20 ms.
        foreach ($p in $ports) { & bash -c "$labSh guest exec $($g.Name) -- /usr/bin/python3 $server $($g.IP) $p >$dir/$($g.Name)-$p.log 2>&1 &" }
    }
    foreach ($e in $endpoints) {
        $host_, $port = $e -split ':'
        $until = [DateTime]::UtcNow.AddSeconds(10)
        while ($true) {
            $client = [Net.Sockets.TcpClient]::new()
            try { $client.Connect($host_, [int]$port); break }
            catch { if ([DateTime]::UtcNow -gt $until) { throw "The bench endpoint $e did not listen: $(Get-Content -Raw "$dir/*.log")" }; Start-Sleep -Milliseconds 100 }
            finally { $client.Dispose() }
        }
    }

    function New-BenchTier([string] $Path, [int] $Services, [scriptblock] $ChecksOf) {
        $sb = [Text.StringBuilder]::new()
        [void]$sb.AppendLine('site: { name: lab, domain: lab.deevnet.test, macNamespace: "02:de:2e", vmidRange: [900, 999] }')
        [void]$sb.AppendLine('segments: { platform: { subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static } }')
        [void]$sb.AppendLine('dns: { kind: dnsmasq, via: "ssh://root@10.231.0.2", server: 10.231.0.2, port: 53, recordsFile: /tmp/r, pidFile: /tmp/p }')
        [void]$sb.AppendLine('hosts: { bench: { segment: platform, ip: 10.231.25.223, vmid: 969 } }')
        [void]$sb.AppendLine('services:')
        foreach ($i in 1..$Services) {
            [void]$sb.AppendLine("  svc$($i): { class: observability, host: bench, backup: { none: bench }, checks: [ $((& $ChecksOf) -join ', ') ] }")
        }
        [IO.File]::WriteAllText($Path, $sb.ToString())
        $Path
    }
    # 100 services x (4 http + 3 tcp + 3 dns): the four HTTP checks take four of the eight endpoints, in turn.
    $script:turn = 0
    $mixed = New-BenchTier (Join-Path $dir 'mixed.tier.yaml') 100 {
        foreach ($k in 1..4) { "{ http: `"http://$($endpoints[$script:turn++ % 8])/health`", body: ok }" }
        1..3 | ForEach-Object { '{ tcp: "10.231.0.2:5354" }' }
        1..3 | ForEach-Object { '{ dns: handmade.lab.deevnet.test, expect: 10.231.99.250 }' }
    }
    # N/10 services x 10 HTTP checks of the 20 ms path, spread over the eight endpoints.
    $slowChecks = { foreach ($k in 1..10) { "{ http: `"http://$($endpoints[$script:turn++ % 8])/slow`", body: ok }" } }
    $slow1k = New-BenchTier (Join-Path $dir 'slow1k.tier.yaml') 100 $slowChecks
    $slow10k = New-BenchTier (Join-Path $dir 'slow10k.tier.yaml') 1000 $slowChecks

    function Assert-AllPass([string] $Tier, [int] $Expected) {
        $first = Test-DeevExtendedTier -TierPath $Tier -Check http, tcp, dns -Summary
        if ($first.Total -ne $Expected -or $first.Failed -gt 0) {
            $first.Failures | Select-Object -First 5 | ForEach-Object { "  failed: $($_.Check) $($_.Target): $($_.Detail)" }
            throw "$Tier`: expected $Expected passing checks, got $($first.Total) with $($first.Failed) failed."
        }
    }
    Assert-AllPass $mixed 1000
    $parallel = Measure-Median -Count 5 { Test-DeevExtendedTier -TierPath $mixed -Check http, tcp, dns -Summary }
    $serial = Measure-Median -Count 1 -NoWarmup { Test-DeevExtendedTier -TierPath $mixed -Check http, tcp, dns -Summary -ThrottleLimit 1 }
    Write-BenchResult -What '1,000 checks (400 http, 300 tcp, 300 dns), default throttle' -ValueMs $parallel -BaselineName 'serial (-ThrottleLimit 1)' -BaselineMs $serial -Goal '< 2000 ms (servers that answer at once: the ratio shows the run''s fixed cost, not its overlap)'

    Assert-AllPass $slow1k 1000
    $parallel = Measure-Median -Count 5 { Test-DeevExtendedTier -TierPath $slow1k -Check http, tcp, dns -Summary }
    $serial = Measure-Median -Count 1 -NoWarmup { Test-DeevExtendedTier -TierPath $slow1k -Check http, tcp, dns -Summary -ThrottleLimit 1 }
    $bound = 1000 * $latencyMs / $throttle
    Write-BenchResult -What "1,000 http checks, endpoints answering in $latencyMs ms, throttle $throttle" -ValueMs $parallel -BaselineName 'serial (-ThrottleLimit 1)' -BaselineMs $serial -Goal 'ratio >= 20x'
    '  against the bound N x latency / throttle = {0:N0} ms: {1:N2}x of it (goal <= 1.5x); goal {2}' -f $bound, ($parallel / $bound), $(if ($serial / $parallel -ge 20 -and $parallel / $bound -le 1.5) { 'met' } else { 'NOT met' })
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $results = @(Test-DeevExtendedTier -TierPath $slow1k -Check http)
    $wall = $watch.Elapsed.TotalMilliseconds
    $mean = ($results | ForEach-Object { $_.Duration.TotalMilliseconds } | Measure-Object -Average).Average
    '  one more run: {0:N0} ms; mean check {1:N1} ms (the endpoint''s {2} ms + connection and CPU); slots busy {3:P0} of the run' -f $wall, $mean, $latencyMs, ($results.Count * $mean / $throttle / $wall)

    # Each size in a fresh process: one warm-up run of the 1,000 tier (JIT, first connections), then the measured
    # run; the process reports its wall time and its peak resident memory.
    $pwshArgs = @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command')
    $probe = {
        param($Manifest, $Warm, $Tier)
        Import-Module $Manifest
        $null = Test-DeevExtendedTier -TierPath $Warm -Check http, tcp, dns -Summary
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $s = Test-DeevExtendedTier -TierPath $Tier -Check http, tcp, dns -Summary
        $ms = $watch.Elapsed.TotalMilliseconds
        $hwm = (Select-String -LiteralPath /proc/self/status -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
        '{0} {1} {2} {3}' -f $s.Total, $s.Failed, [int]$ms, [int]$hwm
    }
    $sizes = foreach ($case in @(@{ N = 1000; Tier = $slow1k }, @{ N = 10000; Tier = $slow10k })) {
        $line = & (Get-Process -Id $PID).Path @pwshArgs "& { $probe } '$manifest' '$slow1k' '$($case.Tier)'"
        $total, $failed, $ms, $kb = "$line".Trim() -split ' '
        if ([int]$total -ne $case.N -or [int]$failed -ne 0) { throw "The fresh-process run of $($case.N) checks gave '$line'." }
        [pscustomobject]@{ N = $case.N; Ms = [double]$ms; PeakMiB = [double]$kb / 1024 }
    }
    foreach ($s in $sizes) {
        $bound = $s.N * $latencyMs / $throttle
        '{0:N0} http checks at {1} ms in a fresh process: {2:N0} ms ({3:N2}x the bound {4:N0} ms), peak RSS {5:N0} MiB' -f $s.N, $latencyMs, $s.Ms, ($s.Ms / $bound), $bound, $s.PeakMiB
    }
    '  memory per extra check from 1,000 to 10,000: {0:N1} KiB (linear growth: the 10,000 run adds {1:N0} MiB over the 1,000 run)' -f `
        (($sizes[1].PeakMiB - $sizes[0].PeakMiB) * 1024 / 9000), ($sizes[1].PeakMiB - $sizes[0].PeakMiB)
}
finally {
    foreach ($g in $guests) { & bash $labSh guest del $g.Name *> $null }
    Remove-Item $dir -Recurse -Force -ErrorAction Ignore
    if ($started) { & bash $labSh stop | Out-Null }
}
