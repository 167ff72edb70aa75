<#
.SYNOPSIS
    Runs the Pester suite against the built module and writes artifacts/pester.counts ("passed failed skipped").
    Started by build.ps1 Test in a fresh pwsh, so every test file imports the module as a user would.
#>
param([string] $Filter)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$env:PSModulePath = (Join-Path $root '.tools/Modules') + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Pester -RequiredVersion 5.7.1
$artifacts = Join-Path $root 'artifacts'
New-Item -ItemType Directory -Force -Path $artifacts | Out-Null

$cfg = New-PesterConfiguration
$cfg.Run.Path = $PSScriptRoot
$cfg.Run.PassThru = $true
$cfg.Output.Verbosity = 'Detailed'
$cfg.TestResult.Enabled = $true
$cfg.TestResult.OutputFormat = 'JUnitXml'
$cfg.TestResult.OutputPath = Join-Path $artifacts 'pester.xml'
# 'A|B' means either, as for xunit (build.ps1 Test -Filter).
if ($Filter) { $cfg.Filter.FullName = @($Filter -split '\|' | ForEach-Object { "*$_*" }) }
$result = Invoke-Pester -Configuration $cfg
"{0} {1} {2}" -f $result.PassedCount, ($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount), $result.SkippedCount |
    Set-Content (Join-Path $artifacts 'pester.counts')
exit ($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount)
