# DNS record sync: 1,000+ records in one batch against a per-record baseline, on each real back end of the lab.
# The baseline applies records one host at a time (A + PTR per transaction) for a small N and is extrapolated to
# the batch size, because running it 1,000 times would take minutes per back end; the printed line says so.
# Goal: the batch under 2 s and at least 20x faster than per-record, on each back end.
. (Join-Path $PSScriptRoot 'Common.ps1')
Set-StrictMode -Version 3.0
# Under the lab's lock, as every bench that uses the lab (DEEV_BENCH_LAB_LOCKED=1: the caller holds it already).
if (Invoke-BenchUnderLabLock $PSCommandPath) { exit $LASTEXITCODE }
Set-Location $RepoRoot
Import-Module ./Deevnet.Extended.psd1 -Force
. ./tests/Pester/Lab.ps1

$started = Start-BenchLab
$work = Join-Path ([IO.Path]::GetTempPath()) ("deev-dns-bench-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $work | Out-Null
try {
    $lab = Get-LabEnvironment
    $env:DEEV_LAB_PDNS_API_KEY = $lab.DEEV_LAB_PDNS_API_KEY
    $srv = $lab.DEEV_LAB_SSH_HOST
    $dnsSections = [ordered]@{
        dnsmasq  = $null
        unbound  = "dns:`n  kind: unbound`n  via: `"ssh://root@$srv`"`n  server: $srv`n  port: $($lab.DEEV_LAB_UNBOUND_PORT)`n  include: $($lab.DEEV_LAB_UNBOUND_INCLUDE)`n  controlConfig: $($lab.DEEV_LAB_UNBOUND_CONF)`n`n"
        bind     = "dns:`n  kind: bind`n  via: `"ssh://root@$srv`"`n  server: $srv`n  port: $($lab.DEEV_LAB_BIND_PORT)`n  tsigKeyFile: $($lab.DEEV_LAB_BIND_TSIG)`n`n"
        # As in production: the http-only API on the server's loopback, through an SSH tunnel over via (the tier
        # refuses plain http to another address: the key would travel in clear text).
        powerdns = "dns:`n  kind: powerdns`n  via: `"ssh://root@$srv`"`n  server: $srv`n  port: $($lab.DEEV_LAB_PDNS_PORT)`n  endpoint: http://127.0.0.1:8081`n  apiKeyEnv: DEEV_LAB_PDNS_API_KEY`n`n"
    }
    $labText = Get-Content -Raw $lab.DEEV_LAB_TIER
    # 340 hosts (220 on management, 120 on platform), each with one service name: 1,020 records (A + PTR + CNAME).
    $hosts = foreach ($i in 30..249) { "  bh99x${i}: { segment: management, ip: 10.231.99.$i }" }
    $hosts += foreach ($i in 30..149) { "  bh25x${i}: { segment: platform, ip: 10.231.25.$i }" }
    $services = foreach ($h in $hosts) {
        $name = ($h.Trim() -split ':')[0]
        "  s${name}: { class: automation, host: $name, names: [n$name], backup: { none: bench } }"
    }
    $head = ($labText -split "(?m)^hosts:")[0]
    $benchTier = $head + "hosts:`n" + ($hosts -join "`n") + "`nservices:`n" + ($services -join "`n") + "`n"

    foreach ($kind in $dnsSections.Keys) {
        $text = if ($dnsSections[$kind]) { [regex]::Replace($benchTier, '(?m)^dns:\s*\n(?:[ \t#].*\n|\s*\n)*', $dnsSections[$kind]) } else { $benchTier }
        $tierPath = Join-Path $work "$kind.tier.yaml"
        Set-Content -Path $tierPath -Value $text -NoNewline
        $baseText = if ($dnsSections[$kind]) { [regex]::Replace($labText, '(?m)^dns:\s*\n(?:[ \t#].*\n|\s*\n)*', $dnsSections[$kind]) } else { $labText }
        $basePath = Join-Path $work "$kind.base.tier.yaml"
        Set-Content -Path $basePath -Value $baseText -NoNewline
        Sync-DeevDnsRecord -TierPath $basePath -Prune | Out-Null   # start from the lab's own records

        $batch = Measure-Command { $result = Sync-DeevDnsRecord -TierPath $tierPath -Prune }
        $records = $result.Added + $result.Changed
        if ($records -lt 1000) { throw "$kind`: the batch wrote $records records, expected 1,000 or more." }

        $n = 10
        $single = Measure-Command {
            foreach ($i in 1..$n) { Set-DeevDnsRecord -TierPath $tierPath -HostName "pr$i" -IPAddress "10.231.99.$($i + 1)" }
        }
        $perRecord = $single.TotalSeconds / ($n * 2)
        $baseline = $perRecord * $records
        "{0,-8} sync of {1} records in one batch: {2:0.000} s (baseline per-record {3:0.000} s, extrapolated from {4} records at {5:0.0} ms each, ratio {6:0.0}x)" -f `
            $kind, $records, $batch.TotalSeconds, $baseline, ($n * 2), ($perRecord * 1000), ($baseline / $batch.TotalSeconds)
        $ok = $batch.TotalSeconds -lt 2 -and ($baseline / $batch.TotalSeconds) -ge 20
        "{0,-8} goal: under 2 s and at least 20x faster than per-record: {1}" -f $kind, $(if ($ok) { 'met' } else { 'NOT met' })
        Sync-DeevDnsRecord -TierPath $basePath -Prune | Out-Null
    }
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction Ignore
    if ($started) { & bash $LabSh stop | Out-Null }
}
