# Shared by every bench/*.Bench.ps1: timing helpers and the result line format.
$ErrorActionPreference = 'Stop'
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path

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
