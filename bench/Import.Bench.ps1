# Issue 16: what an operator's one-shot command pays before any work. Fresh pwsh processes, each variant interleaved
# with a bare start (pwsh -Command 'exit 0') so that the machine's load hits both alike, median of $Count each:
#   1. + Import-Module (and Get-Command, so the cmdlets are really read);
#   2. + the first Get-DeevTier and Test-DeevExtendedTier on the lab tier. Inside that process the same two commands
#      run again on a fresh copy of the tier (warm: nothing left to load or compile): the same-run baseline of the
#      first-command overhead.
. (Join-Path $PSScriptRoot 'Common.ps1')
$Count = 9
$dotnet = (Get-Process -Id $PID).Path
$pwshDll = Join-Path $PSHOME 'pwsh.dll'
$manifest = Join-Path $RepoRoot 'Deevnet.Extended.psd1'
$labSh = Join-Path $RepoRoot 'tests/lab/lab.sh'

function Get-Median([double[]] $Values) { $sorted = @($Values | Sort-Object); $sorted[[int][math]::Floor($sorted.Count / 2)] }

function Measure-AgainstBare([string] $Command) {
    # Run 0 warms the disk cache and is not counted. Returns the medians and, for a command that prints one line of
    # numbers last, the median of each.
    $bare = @(); $whole = @(); $printed = @()
    foreach ($i in 0..$Count) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        & $dotnet $pwshDll -NoProfile -NonInteractive -Command 'exit 0' | Out-Null
        $b = $watch.Elapsed.TotalMilliseconds
        $watch.Restart()
        $last = & $dotnet $pwshDll -NoProfile -NonInteractive -Command $Command | Select-Object -Last 1
        if ($LASTEXITCODE -ne 0) { throw "The measured command failed: $Command" }
        if ($i -gt 0) { $bare += $b; $whole += $watch.Elapsed.TotalMilliseconds; $printed += , @("$last" -split ' ' | Where-Object { $_ }) }
    }
    $columns = if ($printed[0].Count) { foreach ($c in 0..($printed[0].Count - 1)) { Get-Median @($printed | ForEach-Object { [double]$_[$c] }) } }
    [pscustomobject]@{ Bare = Get-Median $bare; Whole = Get-Median $whole; Printed = @($columns) }
}

# 1. Import (no lab needed).
$import = Measure-AgainstBare "Import-Module '$manifest'; `$null = Get-Command Get-DeevTier; exit 0"
Write-BenchResult -What 'pwsh start + Import-Module' -ValueMs $import.Whole -BaselineName 'bare pwsh start' -BaselineMs $import.Bare -Goal 'import adds < 150 ms'
'  import adds: {0:N1} ms' -f ($import.Whole - $import.Bare)

# 2. The first commands on the lab tier. The lab is shared by every helper and CI job on this machine: hold its lock
#    while the checks use it.
#    (Already held by whoever set DEEV_BENCH_LAB_LOCKED, as for the other benches.)
$lock = $null
$deadline = [DateTime]::UtcNow.AddMinutes(10)
while ($null -eq $lock -and -not $env:DEEV_BENCH_LAB_LOCKED) {
    try { $lock = [IO.File]::Open('/tmp/deevnet-lab.lock', 'OpenOrCreate', 'ReadWrite', 'None') }
    catch [IO.IOException] {
        if ([DateTime]::UtcNow -gt $deadline) { throw 'The lab lock /tmp/deevnet-lab.lock stayed taken for 10 minutes.' }
        Start-Sleep -Milliseconds 500
    }
}
$started = $false
$dir = Join-Path ([IO.Path]::GetTempPath()) ("deev-import-bench-" + [guid]::NewGuid().ToString('n'))
try {
    $started = Start-BenchLab
    New-Item -ItemType Directory -Path $dir | Out-Null
    $cold = Join-Path $dir 'cold.tier.yaml'
    $warm = Join-Path $dir 'warm.tier.yaml'
    Copy-Item (Join-Path $RepoRoot 'examples/lab.tier.yaml') $cold
    Copy-Item (Join-Path $RepoRoot 'examples/lab.tier.yaml') $warm

    # Prints: ms to import, ms for the first pair of commands, ms for the same pair warm.
    $first = Measure-AgainstBare @"
`$w = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$manifest'; `$null = Get-Command Get-DeevTier
`$import = `$w.Elapsed.TotalMilliseconds
function Invoke-Pair([string] `$tier) { Get-DeevTier -TierPath `$tier | Out-Null; Test-DeevExtendedTier -TierPath `$tier | Out-Null }
Invoke-Pair '$cold'; `$pair = `$w.Elapsed.TotalMilliseconds - `$import
`$w.Restart(); Invoke-Pair '$warm'; `$again = `$w.Elapsed.TotalMilliseconds
'{0} {1} {2}' -f `$import, `$pair, `$again
exit 0
"@
    $inImport, $inPair, $inWarm = $first.Printed
    # The process also ran the warm pair, which a one-shot command would not: it is taken off.
    Write-BenchResult -What 'pwsh start + import + first Get-DeevTier + Test-DeevExtendedTier (lab tier)' -ValueMs ($first.Whole - $inWarm) -BaselineName 'bare pwsh start' -BaselineMs $first.Bare -Goal 'report'
    Write-BenchResult -What '  first Get-DeevTier + Test-DeevExtendedTier' -ValueMs $inPair -BaselineName 'the same pair warm' -BaselineMs $inWarm -Goal 'report (first-command overhead = the difference)'
    '  first-command overhead: {0:N1} ms (Import-Module in that process: {1:N1} ms)' -f ($inPair - $inWarm), $inImport
}
finally {
    Remove-Item $dir -Recurse -Force -ErrorAction Ignore
    if ($started) { & bash $labSh stop | Out-Null }
    if ($lock) { $lock.Dispose() }
}
