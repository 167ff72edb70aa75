# Issue 16: what an operator's one-shot command pays before any work. Fresh pwsh processes, interleaved so that the
# machine's load hits every variant alike, median of $Count each:
#   bare    pwsh -Command 'exit 0'
#   import  + Import-Module (and Get-Command, so the cmdlets are really read)
#   first   + the first Get-DeevTier and Test-DeevExtendedTier on the lab tier
# and, inside the "first" process, the same two commands again on a fresh copy of the tier (warm: nothing left to
# load or compile), so the first-command overhead is measured against a baseline of the same run.
. (Join-Path $PSScriptRoot 'Common.ps1')
$Count = 9
$dotnet = (Get-Process -Id $PID).Path
$pwshDll = Join-Path $PSHOME 'pwsh.dll'
$manifest = Join-Path $RepoRoot 'Deevnet.Extended.psd1'
$labSh = Join-Path $RepoRoot 'tests/lab/lab.sh'

# The lab is shared by every helper and CI job on this machine: hold its lock while the checks use it.
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
$dir = Join-Path ([IO.Path]::GetTempPath()) ("deev-import-bench-" + [guid]::NewGuid().ToString('n'))
try {
    & bash $labSh status *> $null
    if ($LASTEXITCODE -ne 0) {
        & bash $labSh start | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "The lab did not start: $(Get-Content -Raw /run/deevnet-lab/lab.error -ErrorAction Ignore)" }
        $started = $true
    }
    New-Item -ItemType Directory -Path $dir | Out-Null
    $cold = Join-Path $dir 'cold.tier.yaml'
    $warm = Join-Path $dir 'warm.tier.yaml'
    Copy-Item (Join-Path $RepoRoot 'examples/lab.tier.yaml') $cold
    Copy-Item (Join-Path $RepoRoot 'examples/lab.tier.yaml') $warm

    # Each "first" process prints: ms to import, ms for the first pair of commands, ms for the same pair warm.
    $first = @"
`$w = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$manifest'; `$null = Get-Command Get-DeevTier
`$import = `$w.Elapsed.TotalMilliseconds
function Invoke-Pair([string] `$tier) { Get-DeevTier -TierPath `$tier | Out-Null; Test-DeevExtendedTier -TierPath `$tier | Out-Null }
Invoke-Pair '$cold'; `$pair = `$w.Elapsed.TotalMilliseconds - `$import
`$w.Restart(); Invoke-Pair '$warm'; `$again = `$w.Elapsed.TotalMilliseconds
'{0} {1} {2}' -f `$import, `$pair, `$again
exit 0
"@
    $times = @{ bare = @(); import = @(); first = @(); inImport = @(); inPair = @(); inWarm = @() }
    foreach ($i in 0..$Count) {   # run 0 warms the disk cache and is not counted
        $watch = [Diagnostics.Stopwatch]::StartNew()
        & $dotnet $pwshDll -NoProfile -NonInteractive -Command 'exit 0' | Out-Null
        $bare = $watch.Elapsed.TotalMilliseconds
        $watch.Restart()
        & $dotnet $pwshDll -NoProfile -NonInteractive -Command "Import-Module '$manifest'; `$null = Get-Command Get-DeevTier; exit 0" | Out-Null
        $import = $watch.Elapsed.TotalMilliseconds
        $watch.Restart()
        $inside = (& $dotnet $pwshDll -NoProfile -NonInteractive -Command $first | Select-Object -Last 1) -split ' '
        $whole = $watch.Elapsed.TotalMilliseconds
        if ($i -eq 0) { continue }
        $times.bare += $bare; $times.import += $import; $times.first += $whole
        $times.inImport += [double]$inside[0]; $times.inPair += [double]$inside[1]; $times.inWarm += [double]$inside[2]
    }
    function Get-Median([double[]] $Values) { $sorted = @($Values | Sort-Object); $sorted[[int][math]::Floor($sorted.Count / 2)] }
    $m = @{}; foreach ($key in @($times.Keys)) { $m[$key] = Get-Median $times[$key] }

    Write-BenchResult -What 'pwsh start + Import-Module' -ValueMs $m.import -BaselineName 'bare pwsh start' -BaselineMs $m.bare -Goal 'import adds < 150 ms'
    '  import adds: {0:N1} ms (inside the process: Import-Module {1:N1} ms)' -f ($m.import - $m.bare), $m.inImport
    Write-BenchResult -What 'pwsh start + import + first Get-DeevTier + Test-DeevExtendedTier (lab tier)' -ValueMs $m.first -BaselineName 'bare pwsh start' -BaselineMs $m.bare -Goal 'report'
    Write-BenchResult -What '  first Get-DeevTier + Test-DeevExtendedTier' -ValueMs $m.inPair -BaselineName 'the same pair warm' -BaselineMs $m.inWarm -Goal 'report (first-command overhead = the difference)'
    '  first-command overhead: {0:N1} ms' -f ($m.inPair - $m.inWarm)
}
finally {
    Remove-Item $dir -Recurse -Force -ErrorAction Ignore
    if ($started) { & bash $labSh stop | Out-Null }
    $lock.Dispose()
}
