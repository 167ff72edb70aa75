# The tasks behind build.ps1. Dot-sourced by it; $Root, $Artifacts, $ModuleBin and $Configuration come from there.

function Invoke-Native {
    # Runs a native command and stops the build when it fails: $ErrorActionPreference does not cover exit codes.
    param([Parameter(Mandatory)][string] $What, [Parameter(Mandatory)][scriptblock] $Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)." }
}

function Invoke-FreshPwsh {
    # A new pwsh process of the same version as this one: a loaded binary module cannot be unloaded, so tests,
    # the demo and help generation each import the module into a process of their own.
    param([Parameter(Mandatory)][string[]] $Arguments)
    $dotnet = (Get-Process -Id $PID).Path
    & $dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive @Arguments
}

function Get-LabPackageList {
    # build/lab-packages.txt: one package per line, '#' starts a comment. The one list of the lab's Debian packages.
    # Bench adds build/bench-packages.txt (the peer tools the benches compare against; never needed by tests).
    param([string[]] $Lists = @('build/lab-packages.txt'))
    $names = foreach ($line in $Lists | ForEach-Object { Get-Content (Join-Path $Root $_) }) {
        $name = ($line -replace '#.*$', '').Trim()
        if ($name) { $name }
    }
    # Test hook: DEEV_LAB_PACKAGES_EXTRA (names separated by spaces) adds packages to the list, so the install path
    # and the "run this as root" message can be tried without removing anything the machine needs.
    if ($env:DEEV_LAB_PACKAGES_EXTRA) { $names = @($names) + ($env:DEEV_LAB_PACKAGES_EXTRA -split '[\s,]+' | Where-Object { $_ }) }
    @($names | Select-Object -Unique)
}

function Get-MissingLabPackage {
    # One dpkg-query call for the whole list; names dpkg has never heard of are simply absent from its output.
    param([string[]] $Names)
    $installed = [Collections.Generic.HashSet[string]]::new()
    foreach ($line in (& dpkg-query -W -f '${Package}\t${db:Status-Status}\n' @Names 2>$null)) {
        $name, $status = "$line" -split "`t"
        if ($status -eq 'installed') { [void] $installed.Add($name) }
    }
    @($Names | Where-Object { -not $installed.Contains($_) })
}

function Install-LabPackage {
    # Require: install what is missing (as root with apt-get), otherwise print the command to run and exit 2.
    # Warn: the task does not need the lab (Build, Package, Test -NoLab): only say what is missing, never install.
    param([Parameter(Mandatory)][ValidateSet('Require', 'Warn')][string] $Mode, [string[]] $Lists = @('build/lab-packages.txt'))
    $names = Get-LabPackageList $Lists
    if (-not (Get-Command dpkg-query -ErrorAction Ignore)) {
        $what = "this is not a Debian/Ubuntu machine (no dpkg-query); the lab needs these Debian packages or their equivalents: $($names -join ' ')"
        if ($Mode -eq 'Warn') { Write-Warning "Lab packages: $what"; return }
        Write-Host "Bootstrap: $what"
        exit 2
    }
    $missing = Get-MissingLabPackage $names
    if (-not $missing) { return }
    $list = $missing -join ' '
    $command = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $list"
    if ($Mode -eq 'Warn') {
        Write-Warning "Lab packages missing: $list (Test, Demo and Bench need them, this task does not; 'build.ps1 Bootstrap' as root installs them)."
        return
    }
    $aptGet = Get-Command apt-get -ErrorAction Ignore
    if (-not [Environment]::IsPrivilegedProcess -or -not $aptGet) {
        Write-Host "Bootstrap: the lab's Debian packages are missing: $list"
        if ($aptGet) { Write-Host "Run as root (or run this build as root, which installs them):`n  $command" }
        else { Write-Host 'No apt-get here: install them with the package manager of this machine.' }
        exit 2
    }

    Write-Host "Bootstrap: installing Debian packages for the lab: $list"
    $frontend = $env:DEBIAN_FRONTEND
    $env:DEBIAN_FRONTEND = 'noninteractive'
    try {
        # DPkg::Lock::Timeout: wait for another apt/dpkg on a shared machine instead of failing at once.
        foreach ($step in @(
                @{ What = 'apt-get update'; Args = @('-o', 'DPkg::Lock::Timeout=300', 'update') },
                @{ What = 'apt-get install'; Args = @('-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends') + $missing })) {
            $output = & $aptGet.Source @($step.Args) 2>&1 | ForEach-Object { "$_" }
            if ($LASTEXITCODE -ne 0) {
                $output | Select-Object -Last 30 | Out-Host
                throw "$($step.What) failed (exit code $LASTEXITCODE); to retry by hand: $command"
            }
        }
    }
    finally { $env:DEBIAN_FRONTEND = $frontend }
    $still = Get-MissingLabPackage $missing
    if ($still) { throw "apt-get reported success but these packages are still not installed: $($still -join ' ')" }
}

function Invoke-Bootstrap {
    param([ValidateSet('Require', 'Warn')][string] $LabPackages = 'Require', [string[]] $Lists = @('build/lab-packages.txt'))
    Install-LabPackage -Mode $LabPackages -Lists $Lists
    Push-Location $Root
    try {
        Invoke-Native 'dotnet tool restore' { dotnet tool restore | Out-Null }
        Invoke-Native 'dotnet restore' { dotnet restore Deevnet.Extended.sln --nologo -v quiet | Out-Null }
    }
    finally { Pop-Location }
}

function Invoke-Build {
    Push-Location $Root
    try {
        Write-Host "Building ($Configuration)..."
        Invoke-Native 'dotnet build' { dotnet build Deevnet.Extended.sln -c $Configuration --no-restore --nologo -clp:ErrorsOnly -v quiet }
        # Lay out the module: the cmdlet assembly and its dependencies (never System.Management.Automation).
        $output = Join-Path $Root "src/Deevnet.Extended/bin/$Configuration/net8.0"
        # The cmdlet assembly in module/bin; everything it depends on in module/bin/deps, where only the module's own
        # load context looks (src/Deevnet.Extended/Loading): another module's YamlDotNet or SSH.NET cannot collide.
        $deps = Join-Path $ModuleBin 'deps'
        New-Item -ItemType Directory -Force -Path $ModuleBin, $deps | Out-Null
        # Start from empty folders: a dll left by an earlier build or layout must not load.
        Get-ChildItem $ModuleBin, $deps -Filter *.dll | Remove-Item -Force
        Copy-Item (Join-Path $output 'Deevnet.Extended.dll') -Destination $ModuleBin -Force
        Get-ChildItem $output -Filter *.dll | Where-Object Name -NotIn 'System.Management.Automation.dll', 'Deevnet.Extended.dll' |
            Copy-Item -Destination $deps -Force
        Add-ReadyToRunCode -Folder $deps
        Invoke-FreshPwsh -Arguments @('-File', (Join-Path $Root 'build/New-ModuleHelp.ps1'))
        if ($LASTEXITCODE -ne 0) { throw 'Generating help failed.' }
    }
    finally { Pop-Location }
}

# The first command's cost is mostly JIT of Core, SSH.NET (and BouncyCastle under it) and YamlDotNet (issue 16): they get
# ReadyToRun code for the runtime pwsh 7.6 runs on (.NET 10; code compiled against .NET 8 is not used there). Another
# runtime ignores it and JIT-compiles the IL, which stays. Skipped where the crossgen2 package (restored by Bootstrap,
# see Deevnet.Extended.Core.csproj) or that runtime is missing; outputs are cached by input hash under obj/r2r.
function Add-ReadyToRunCode([string] $Folder) {
    $version = '10.0.12'
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $crossgen = Join-Path $packages "microsoft.netcore.app.crossgen2.linux-x64/$version/tools/crossgen2"
    $framework = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
    if (-not $IsLinux -or -not (Test-Path $crossgen) -or (Split-Path -Leaf $framework.TrimEnd('/')) -notlike '10.*') {
        Write-Host 'ReadyToRun: skipped (no crossgen2 or no .NET 10 runtime here).'
        return
    }
    $cache = Join-Path $Root 'obj/r2r'
    New-Item -ItemType Directory -Force -Path $cache | Out-Null
    foreach ($name in 'Deevnet.Extended.Core', 'Renci.SshNet', 'YamlDotNet', 'BouncyCastle.Cryptography') {
        $dll = Join-Path $Folder "$name.dll"
        $cached = Join-Path $cache ('{0}-{1}.dll' -f $name, (Get-FileHash -LiteralPath $dll -Algorithm SHA256).Hash.Substring(0, 16))
        if (-not (Test-Path $cached)) {
            $partial = "$cached.partial.dll"   # crossgen2 wants a .dll name
            # Arguments in a response file: pwsh would expand the *.dll reference patterns itself.
            $rsp = "$cached.rsp"
            Set-Content -LiteralPath $rsp -Value @($dll, '-o', $partial, '-r', (Join-Path $framework '*.dll'), '-r', (Join-Path $Folder '*.dll'), '--targetos', 'linux', '--targetarch', 'x64', '-O')
            Invoke-Native "crossgen2 $name" { & $crossgen "@$rsp" | Out-Null }
            Remove-Item -LiteralPath $rsp
            Move-Item -Force $partial $cached
        }
        Copy-Item -Force $cached $dll
    }
}

function Start-Lab {
    # Starts the lab for integration tests unless one is running already (then it is reused and left running).
    # Returns $true when this call started it and so must stop it.
    $lab = Join-Path $Root 'tests/lab/lab.sh'
    if (-not (Test-Path $lab)) { return $false }
    & bash $lab status *> $null
    if ($LASTEXITCODE -eq 0) { Write-Host 'Lab: already running, reusing it.'; return $false }
    Write-Host 'Lab: starting...'
    & bash $lab start | Out-Host
    if ($LASTEXITCODE -ne 0) {
        Write-Warning 'Lab: could not start; integration tests will say why (they fail under CI=true).'
        return $false
    }
    return $true
}

function Stop-Lab {
    & bash (Join-Path $Root 'tests/lab/lab.sh') stop | Out-Host
}

function Save-LabLog {
    # Copies every server log of the running lab (*.log under $DEEV_LAB_ROOT, relative paths kept) to
    # artifacts/lab-logs. Only *.log files: never keys, lab.env or other state. Returns how many were copied.
    # A failure here is only a warning: it must never change the verdict of the tests.
    $dest = Join-Path $Artifacts 'lab-logs'
    Remove-Item $dest -Recurse -Force -ErrorAction Ignore
    $labRoot = if ($env:DEEV_LAB_ROOT) { $env:DEEV_LAB_ROOT } else { '/run/deevnet-lab' }
    if (-not (Test-Path -LiteralPath $labRoot -PathType Container)) { return 0 }
    $copied = 0
    try {
        $labRoot = (Resolve-Path -LiteralPath $labRoot).ProviderPath
        foreach ($log in Get-ChildItem -LiteralPath $labRoot -Recurse -File -Filter '*.log' -ErrorAction SilentlyContinue) {
            $target = Join-Path $dest ([IO.Path]::GetRelativePath($labRoot, $log.FullName))
            New-Item -ItemType Directory -Force -Path (Split-Path $target) | Out-Null
            # A guest's log can vanish while we copy (its namespace deleted): skip it.
            Copy-Item -LiteralPath $log.FullName -Destination $target -ErrorAction SilentlyContinue
            if (Test-Path -LiteralPath $target) { $copied++ }
        }
    }
    catch { Write-Warning "Lab logs: copying to $dest failed: $_" }
    return $copied
}

function Read-TrxCounts {
    # xunit's results through the trx logger: the Counters element has passed/failed/notExecuted.
    param([string] $Path)
    if (-not (Test-Path $Path)) { return $null }
    [xml] $trx = Get-Content -Raw $Path
    $c = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Skipped = [int]$c.notExecuted }
}

function Invoke-Test {
    param([string] $Filter, [switch] $NoLab, [int] $Repeat)
    if ($Repeat -gt 0) { return Invoke-RepeatTest -Filter $Filter -Count $Repeat -NoLab:$NoLab }
    New-Item -ItemType Directory -Force -Path $Artifacts | Out-Null
    Remove-Item (Join-Path $Artifacts 'xunit.trx'), (Join-Path $Artifacts 'pester.counts') -ErrorAction Ignore
    $startedLab = $false
    if (-not $NoLab) { $startedLab = Start-Lab }
    try {
        Write-Host 'xunit...'
        $xunitArgs = @('test', (Join-Path $Root 'tests/Deevnet.Extended.Tests'), '-c', $Configuration, '--no-build', '--nologo',
            '--logger', 'trx;LogFileName=xunit.trx', '--logger', 'console;verbosity=minimal', '--results-directory', $Artifacts)
        if ($Filter) { $xunitArgs += @('--filter', (($Filter -split '\|' | ForEach-Object { "FullyQualifiedName~$_" }) -join '|')) }
        # Out-Host: runner output is for people; this function's only output is its verdict.
        & dotnet @xunitArgs | Out-Host
        $xunitExit = $LASTEXITCODE
        $xunit = Read-TrxCounts (Join-Path $Artifacts 'xunit.trx')

        Write-Host 'Pester...'
        $pesterArgs = @('-File', (Join-Path $Root 'tests/Pester/run.ps1'))
        if ($Filter) { $pesterArgs += @('-Filter', $Filter) }
        Invoke-FreshPwsh -Arguments $pesterArgs | Out-Host
        $pesterExit = $LASTEXITCODE
        $pester = $null
        $countsFile = Join-Path $Artifacts 'pester.counts'
        if (Test-Path $countsFile) {
            $p, $f, $s = (Get-Content $countsFile -Raw).Trim() -split '\s+'
            $pester = [pscustomobject]@{ Passed = [int]$p; Failed = [int]$f; Skipped = [int]$s }
        }
    }
    finally {
        # Before the lab is stopped: stopping it deletes its root, logs included.
        $labLogs = if ($NoLab) { 0 } else { Save-LabLog }
        if ($startedLab) { Stop-Lab }
    }

    # A runner that crashed before reporting counts as one failure, so a broken run can never look green.
    if (-not $xunit) { $xunit = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    elseif ($xunitExit -ne 0 -and $xunit.Failed -eq 0) { $xunit.Failed = 1 }
    if (-not $pester) { $pester = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    elseif ($pesterExit -ne 0 -and $pester.Failed -eq 0) { $pester.Failed = 1 }

    Write-Host ("xunit:  {0} passed, {1} failed, {2} skipped" -f $xunit.Passed, $xunit.Failed, $xunit.Skipped)
    Write-Host ("Pester: {0} passed, {1} failed, {2} skipped" -f $pester.Passed, $pester.Failed, $pester.Skipped)
    $failed = $xunit.Failed + $pester.Failed
    $skipped = $xunit.Skipped + $pester.Skipped
    if ($skipped -gt 0) { Write-Warning "$skipped test(s) were SKIPPED (see above for why); they did not pass." }
    if ($failed -gt 0 -and -not $NoLab) {
        # The failed tests are named above by their runners; SSH failures are the ones that need the server's side.
        $logDir = Join-Path $Artifacts 'lab-logs'
        if ($labLogs -gt 0) { Write-Host "Lab logs: $labLogs file(s) in $logDir" }
        else { Write-Host "Lab logs: none (no lab was running when the tests ended; see the lab's start output above)" }
        $sshdLog = Join-Path $logDir 'ssh/srv/sshd.log'
        if (Test-Path $sshdLog) {
            Write-Host "Last lines of the lab's sshd log ($sshdLog):"
            Get-Content $sshdLog -Tail 20 | ForEach-Object { Write-Host "  $_" }
        }
    }
    Write-Host ("{0} passed, {1} failed, {2} skipped" -f ($xunit.Passed + $pester.Passed), $failed, $skipped)
    return ($failed -eq 0)
}

function Invoke-RepeatTest {
    # The xunit tests matching Filter, Count times in one process (tests/Deevnet.Extended.Tests/Repeat), on one lab.
    # State that leaks from one run into the next (pooled connections, statics, handles) shows here, where separate
    # `dotnet test` runs would each start clean.
    param([string] $Filter, [int] $Count, [switch] $NoLab)
    if (-not $Filter) { throw 'Test -Repeat needs -Filter (e.g. -Filter ''Backup|Transport'').' }
    $dll = Join-Path $Root "tests/Deevnet.Extended.Tests/bin/$Configuration/net10.0/Deevnet.Extended.Tests.dll"
    $startedLab = $false
    if (-not $NoLab) { $startedLab = Start-Lab }
    try {
        & dotnet $dll --repeat $Count --filter $Filter | Out-Host
        $exit = $LASTEXITCODE
    }
    finally {
        if (-not $NoLab) { Save-LabLog | Out-Null }
        if ($startedLab) { Stop-Lab }
    }
    return ($exit -eq 0)
}

function Invoke-Demo {
    Invoke-FreshPwsh -Arguments @('-File', (Join-Path $Root 'examples/demo.ps1'))
    if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit code $LASTEXITCODE)." }
}

function Invoke-Bench {
    $benches = Get-ChildItem (Join-Path $Root 'bench') -Filter '*.Bench.ps1' | Sort-Object Name
    foreach ($bench in $benches) {
        Write-Host "== $($bench.BaseName)"
        Invoke-FreshPwsh -Arguments @('-File', $bench.FullName)
        if ($LASTEXITCODE -ne 0) { throw "Benchmark $($bench.Name) failed." }
    }
}

function Add-CommandTag([string] $Manifest) {
    # Find-PSResource -Command searches a package's PSCommand_<name> tags, which Compress-PSResource does not write:
    # the staged manifest (never the source one) gets one per exported command, the way the PowerShell Gallery does.
    $data = Import-PowerShellDataFile $Manifest
    $cmdlets = @($data.CmdletsToExport); $functions = @($data.FunctionsToExport)
    $tags = @($data.PrivateData.PSData.Tags) + @($cmdlets + $functions | ForEach-Object { "PSCommand_$_" }) +
        @($cmdlets | ForEach-Object { "PSCmdlet_$_" }) + @($functions | ForEach-Object { "PSFunction_$_" })
    Update-PSModuleManifest -Path $Manifest -Tags $tags
}

function Invoke-Package {
    # Stage exactly what ships (same layout as the repository, so the manifest needs no rewriting) and compress
    # it into a nupkg that Install-PSResource / Save-PSResource accept from a local folder repository.
    $out = Join-Path $Root 'out'
    $stage = Join-Path $out 'Deevnet.Extended'
    Remove-Item $stage -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory -Force -Path $stage | Out-Null
    Copy-Item (Join-Path $Root 'Deevnet.Extended.psd1') $stage
    Add-CommandTag (Join-Path $stage 'Deevnet.Extended.psd1')
    Copy-Item (Join-Path $Root 'module') $stage -Recurse
    Copy-Item (Join-Path $Root 'en-US') $stage -Recurse
    Copy-Item (Join-Path $Root 'README.md') $stage
    $version = (Import-PowerShellDataFile (Join-Path $Root 'Deevnet.Extended.psd1')).ModuleVersion
    $nupkg = Join-Path $out "Deevnet.Extended.$version.nupkg"
    Remove-Item $nupkg -ErrorAction Ignore
    Compress-PSResource -Path $stage -DestinationPath $out
    if (-not (Test-Path $nupkg)) { throw "Packaging did not produce $nupkg." }
    Write-Host "Package: $nupkg"
    return $nupkg
}

function Get-FailedTestName {
    # The failed tests named in a CI log: xunit's console logger ('  Failed Ns.Class.Method [2 s]') and Pester's
    # detailed output ('  [-] name 152ms (124ms|28ms)', also failed blocks and containers).
    param([string[]] $Lines)
    $names = foreach ($line in $Lines) {
        if ($line -match '^\s+Failed (.+?) \[[^\]]*\]\s*$') { $Matches[1] }
        elseif ($line -match '^\s*\[-\] (.+?)(\s+\d+(\.\d+)?m?s(\s+\(.*\))?)?\s*$') { $Matches[1] }
    }
    @($names | Select-Object -Unique)
}

function Invoke-Soak {
    # Runs CI Count times, one after another, each in a fresh clone of the committed HEAD; returns $true when all
    # passed. The clone's own lab is the machine's one lab: on a shared machine wrap the whole soak in flock.
    param([int] $Count = 10, [string] $Filter, [int] $Repeat)
    if ($Repeat -gt 0 -and -not $Filter) { throw 'Soak -Repeat needs -Filter.' }
    $head = & git -C $Root rev-parse --short HEAD
    if ($LASTEXITCODE -ne 0) { throw "Soak needs a git repository at $Root." }
    if (& git -C $Root status --porcelain --untracked-files=no) {
        Write-Warning "Soak runs the committed HEAD ($head): uncommitted changes are not part of it."
    }
    $soakDir = Join-Path $Artifacts 'soak'
    Remove-Item $soakDir -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory -Force -Path $soakDir | Out-Null
    $tmp = Join-Path ([IO.Path]::GetTempPath()) ('deev-soak-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $tmp | Out-Null
    $runs = [Collections.Generic.List[object]]::new()
    try {
        foreach ($i in 1..$Count) {
            $clone = Join-Path $tmp "soak-$i"
            $log = Join-Path $soakDir "run-$i.log"
            Write-Host "soak: run $i of $Count ($head) -> $log"
            Invoke-Native 'git clone' { git clone --quiet $Root $clone }
            $watch = [Diagnostics.Stopwatch]::StartNew()
            if ($Repeat -gt 0) {
                # The same environment as .ci/run, but the chosen tests, Repeat times in one process.
                & bash -c 'cd "$1" && export CI=true NO_COLOR=1 POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 && { dotnet tool restore && dotnet pwsh ./build.ps1 Test -Filter "$3" -Repeat "$4"; } </dev/null >"$2" 2>&1' soak $clone $log $Filter $Repeat
            }
            else {
                & bash -c 'cd "$1" && CI=true exec bash .ci/run </dev/null >"$2" 2>&1' soak $clone $log
            }
            $exit = $LASTEXITCODE
            $watch.Stop()
            $lines = @(Get-Content -LiteralPath $log -ErrorAction Ignore)
            $summary = $lines | Where-Object { $_ -match '^\d+ passed, \d+ failed' } | Select-Object -Last 1
            $passed = $failed = '-'
            if ($summary -match '^(\d+) passed, (\d+) failed') { $passed = [int]$Matches[1]; $failed = [int]$Matches[2] }
            if ($exit -ne 0) {
                # Keep the failed run's lab logs beside its log; the clone goes.
                $labLogs = Join-Path $clone 'artifacts/lab-logs'
                if (Test-Path $labLogs) { Copy-Item $labLogs (Join-Path $soakDir "run-$i-lab-logs") -Recurse }
            }
            Remove-Item $clone -Recurse -Force -ErrorAction Continue
            $runs.Add([pscustomobject]@{
                    Run         = $i
                    Seconds     = [int][math]::Round($watch.Elapsed.TotalSeconds)
                    Exit        = $exit
                    Passed      = $passed
                    Failed      = $failed
                    FailedTests = (Get-FailedTestName $lines) -join ', '
                    Summary     = if ($summary) { $summary } else { '(no summary line)' }
                })
            Write-Host ("soak: run {0}: exit {1} in {2} s: {3}" -f $i, $exit, $runs[-1].Seconds, $runs[-1].Summary)
        }
    }
    finally { Remove-Item $tmp -Recurse -Force -ErrorAction Ignore }

    $runs | Format-Table Run, Seconds, Exit, Passed, Failed, FailedTests -AutoSize -Wrap | Out-String -Width 240 | Write-Host
    $bad = @($runs | Where-Object Exit -NE 0).Count
    Write-Host "soak: $($runs.Count) runs, $bad failed"
    return ($bad -eq 0)
}
