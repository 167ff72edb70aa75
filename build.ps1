<#
.SYNOPSIS
    The one entry point for building, testing, demonstrating, measuring and packaging Deevnet.Extended.
.DESCRIPTION
    Tasks:
      Bootstrap  check the lab's Debian packages (build/lab-packages.txt) with one dpkg-query call and, as root on
                 Debian/Ubuntu, install the missing ones with apt-get (not root: print the command and exit 2);
                 then restore the local tools (pwsh) and NuGet packages (Pester is staged into .tools/Modules)
      Build      compile, lay the module out in module/bin and generate its help (MAML) from docs/cmdlets
      Test       Build, start the lab (as root), run xunit and Pester, copy the lab's server logs (*.log only) to
                 artifacts/lab-logs, stop the lab, print 'N passed, N failed, N skipped' (after a failure, preceded
                 by where the lab logs are and the end of the lab's sshd log)
      Demo       Build, start the lab and run the module's main job on it (examples/demo.ps1)
      Bench      Build and run every bench/*.Bench.ps1 (speed and memory, with same-run baselines); also needs the
                 peer tools in build/bench-packages.txt (installed like the lab's)
      Package    Build and produce out/Deevnet.Extended.<version>.nupkg for Install-PSResource
      Soak       -Count times (default 10), one after another: clone the committed HEAD into a fresh temp folder,
                 run 'CI=true bash .ci/run' there (log: artifacts/soak/run-<i>.log), delete the clone; then print
                 a table (run, seconds, exit, passed, failed, failed tests) and 'soak: N runs, K failed'. Exits 1
                 when any run failed. Every run starts the lab: on a shared machine wrap it in
                 'flock /tmp/deevnet-lab.lock'.
                 With -Filter and -Repeat N, each run is 'build.ps1 Test -Filter F -Repeat N' in the fresh clone
                 instead of the whole CI.
      Test -Repeat N (with -Filter 'A|B'): the matching xunit tests N times, one run after another, in ONE process
                 (the test assembly's own entry point, tests/Deevnet.Extended.Tests/Repeat), on one lab; no Pester.
                 Prints a line per run and 'N passed, N failed, N skipped' over all runs.
    Every task but Soak runs Bootstrap first (each Soak run does, in its clone). Test, Demo and Bench need the
    lab's packages (Bootstrap installs them or stops with exit 2); Build, Package and 'Test -NoLab' only warn
    when they are missing.
    Run it with the repository's own pwsh: `dotnet tool restore && dotnet pwsh ./build.ps1 Test`.
.EXAMPLE
    dotnet pwsh ./build.ps1 Test
.EXAMPLE
    flock /tmp/deevnet-lab.lock dotnet pwsh ./build.ps1 Soak -Count 20
.EXAMPLE
    flock /tmp/deevnet-lab.lock dotnet pwsh ./build.ps1 Soak -Count 1 -Filter 'Backup|Transport' -Repeat 20
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Bootstrap', 'Build', 'Test', 'Demo', 'Bench', 'Package', 'Soak')]
    [string] $Task = 'Build',

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    # Test and Soak: run the tests whose names contain this (xunit full name and Pester full name); 'A|B' means either.
    [string] $Filter,

    # Test only: do not start the lab (integration tests are then skipped outside CI and fail inside CI).
    [switch] $NoLab,

    # Soak only: how many CI runs, one after another.
    [ValidateRange(1, 1000)]
    [int] $Count = 10,

    # Test and Soak: run the xunit tests matching -Filter this many times in one process (no Pester).
    [ValidateRange(0, 1000)]
    [int] $Repeat = 0
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$env:POWERSHELL_UPDATECHECK = 'Off'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$Root = $PSScriptRoot
$Artifacts = Join-Path $Root 'artifacts'
$ModuleBin = Join-Path $Root 'module/bin'
. (Join-Path $Root 'build/BuildTasks.ps1')

switch ($Task) {
    'Bootstrap' { Invoke-Bootstrap -LabPackages Require }
    'Build' { Invoke-Bootstrap -LabPackages Warn; Invoke-Build }
    'Test' {
        Invoke-Bootstrap -LabPackages $(if ($NoLab) { 'Warn' } else { 'Require' }); Invoke-Build
        $ok = Invoke-Test -Filter $Filter -NoLab:$NoLab -Repeat $Repeat; if (-not $ok) { exit 1 }
    }
    'Demo' { Invoke-Bootstrap -LabPackages Require; Invoke-Build; Invoke-Demo }
    'Bench' { Invoke-Bootstrap -LabPackages Require -Lists build/lab-packages.txt, build/bench-packages.txt; Invoke-Build; Invoke-Bench }
    'Package' { Invoke-Bootstrap -LabPackages Warn; Invoke-Build; Invoke-Package | Out-Null }
    'Soak' { $ok = Invoke-Soak -Count $Count -Filter $Filter -Repeat $Repeat; if (-not $ok) { exit 1 } }
}
