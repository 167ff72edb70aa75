# Issue 3: 1,000 reservations piped into Set-DeevDhcpReservation over the lab's SSH (dnsmasq) as one transaction,
# against the naive way: one connection, one write and one reload per reservation. The baseline runs on 50
# reservations and is extrapolated per item to 1,000 (it would take minutes otherwise); the output says so.
. (Join-Path $PSScriptRoot 'Common.ps1')
. (Join-Path $RepoRoot 'tests/Pester/Lab.ps1')
Import-Module (Join-Path $RepoRoot 'Deevnet.Extended.psd1')

$count = 1000
$baselineCount = 50
$labSh = Join-Path $RepoRoot 'tests/lab/lab.sh'

if (Invoke-BenchUnderLabLock $PSCommandPath) { exit $LASTEXITCODE }
$startedHere = $false
$dir = Join-Path ([IO.Path]::GetTempPath()) ('deev-dhcp-bench-' + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory -Path $dir | Out-Null
$rangeFile = $null
try {
    if ($null -eq (Get-LabEnvironment)) {
        & $labSh start | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "lab.sh start failed: $(Get-LabNotRunningReason)" }
        $startedHere = $true
    }
    $lab = Get-LabEnvironment

    # 1,000 addresses need more than the lab's /24: a bench segment 10.232.0.0/16 in a copy of the lab tier, and a
    # dhcp-range for it in dnsmasq's conf.d so the module sees the subnet as served (dnsmasq reads it at its next
    # restart; SIGHUP re-reads the hosts file either way).
    $rangeFile = Join-Path $lab.DEEV_LAB_DNSMASQ_CONFDIR 'dhcp-bench-range.conf'
    Set-Content -LiteralPath $rangeFile -Value "dhcp-range=10.232.0.10,10.232.255.250,255.255.0.0,1h`n" -NoNewline
    $text = Get-Content -Raw -LiteralPath $lab.DEEV_LAB_TIER
    $text = $text -replace '(?m)^segments:\n', "segments:`n  bench: { subnet: 10.232.0.0/16, gateway: 10.232.0.1, addressing: reservation }`n"
    $tier = Join-Path $dir 'bench.tier.yaml'
    Set-Content -LiteralPath $tier -Value $text -NoNewline

    function New-Reservations([int] $n, [int] $offset, [string] $suffix) {
        foreach ($i in 0..($n - 1)) {
            $k = $i + $offset
            [pscustomobject]@{
                ClientId  = '02:de:3d:00:{0:x2}:{1:x2}' -f [int][math]::Floor($k / 256), ($k % 256)
                IPAddress = '10.232.{0}.{1}' -f ([int][math]::Floor($k / 200) + 1), (($k % 200) + 10)
                Name      = "bench$k$suffix"
                TierPath  = $tier
            }
        }
    }

    # The batch: three runs, each changing every name so all 1,000 entries are really rewritten; median.
    $runs = foreach ($r in 1..3) {
        $items = @(New-Reservations $count 0 "r$r")
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $items | Set-DeevDhcpReservation -InformationAction SilentlyContinue
        $watch.Elapsed.TotalMilliseconds
        $on = @(Get-DeevDhcpReservation -TierPath $tier -Owned | Where-Object { $_.Name -like "bench*r$r" }).Count
        if ($on -ne $count) { throw "run $r left $on of $count reservations on the server" }
    }
    $batchMs = @($runs | Sort-Object)[1]

    # The baseline: one Set-DeevDhcpReservation per reservation, so one connection, one write and one reload each.
    $baseline = @(New-Reservations $baselineCount $count '')
    $watch = [Diagnostics.Stopwatch]::StartNew()
    foreach ($item in $baseline) { $item | Set-DeevDhcpReservation -InformationAction SilentlyContinue }
    $perItemMs = $watch.Elapsed.TotalMilliseconds / $baselineCount
    $baselineMs = $perItemMs * $count

    Write-BenchResult -What "Set-DeevDhcpReservation, $count reservations piped over SSH (dnsmasq, one transaction)" -ValueMs $batchMs `
        -BaselineName "one connection + reload per reservation ($baselineCount measured, $([math]::Round($perItemMs, 1)) ms each, extrapolated to $count)" `
        -BaselineMs $baselineMs -Goal 'batch < 2000 ms and >= 20x faster'
    $ok = $batchMs -lt 2000 -and ($baselineMs / $batchMs) -ge 20
    '  goal {0}' -f $(if ($ok) { 'met' } else { 'NOT met' })
}
finally {
    if ($lab) {
        $all = @(New-Reservations ($count + $baselineCount) 0 '')
        $all | Remove-DeevDhcpReservation -Confirm:$false -InformationAction SilentlyContinue -ErrorAction Continue
    }
    if ($rangeFile) { Remove-Item -LiteralPath $rangeFile -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
    if ($startedHere) { & $labSh stop | Out-Null }
}
