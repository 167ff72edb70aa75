# Shared by every bench/*.Bench.ps1: timing helpers and the result line format.
$ErrorActionPreference = 'Stop'
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$script:LabSh = Join-Path $RepoRoot 'tests/lab/lab.sh'

function Invoke-BenchUnderLabLock {
    # The lab is shared by everyone on this machine. A bench that uses it runs itself again under the lab's lock, a
    # blocking flock, so it queues with the test runs instead of polling behind them. $true: it did, and the caller
    # exits with $LASTEXITCODE. A caller that already holds the lock sets DEEV_BENCH_LAB_LOCKED=1 (else: deadlock).
    param([Parameter(Mandatory)][string] $ScriptPath, [hashtable] $Parameters = @{})
    if ($env:DEEV_BENCH_LAB_LOCKED) { return $false }
    $env:DEEV_BENCH_LAB_LOCKED = '1'
    $arguments = foreach ($name in $Parameters.Keys) { "-$name"; $Parameters[$name] }
    & flock /tmp/deevnet-lab.lock (Get-Process -Id $PID).Path (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File $ScriptPath @arguments
    $true
}

function Start-BenchLab {
    # Starts the lab unless it runs already. $true: this bench started it, and stops it when done.
    & bash $script:LabSh status *> $null
    if ($LASTEXITCODE -eq 0) { return $false }
    & bash $script:LabSh start | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "The lab did not start: $(Get-Content -Raw /run/deevnet-lab/lab.error -ErrorAction Ignore)" }
    $true
}

function Measure-Median {
    # Runs $Action $Count times (after one warm-up unless -NoWarmup) and returns the median in milliseconds.
    param([Parameter(Mandatory)][scriptblock] $Action, [int] $Count = 5, [switch] $NoWarmup)
    if (-not $NoWarmup) { & $Action | Out-Null }
    $times = foreach ($i in 1..$Count) {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        & $Action | Out-Null
        $watch.Elapsed.TotalMilliseconds
    }
    $sorted = @($times | Sort-Object)
    $sorted[[int][math]::Floor($sorted.Count / 2)]
}

function Write-BenchResult {
    # One line per measurement: the value, the same-run baseline, their ratio, and the goal.
    param([string] $What, [double] $ValueMs, [string] $BaselineName, [double] $BaselineMs, [string] $Goal)
    $ratio = if ($ValueMs -gt 0) { $BaselineMs / $ValueMs } else { [double]::PositiveInfinity }
    '{0}: {1:N1} ms ({2} {3:N1} ms, ratio {4:N2}x) goal: {5}' -f $What, $ValueMs, $BaselineName, $BaselineMs, $ratio, $Goal
}
