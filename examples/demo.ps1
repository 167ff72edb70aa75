<#
.SYNOPSIS
    The module's main job, shown on the examples (and, as later capabilities land, on the lab).
    Run through `dotnet pwsh ./build.ps1 Demo`, which builds the module first.
#>
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '..')
Import-Module (Join-Path $root 'Deevnet.Extended.psd1') -Force

function Write-Step([string] $Text) { Write-Host ''; Write-Host "=== $Text" }

foreach ($tierFile in Get-ChildItem (Join-Path $root 'examples') -Filter '*.tier.yaml' | Sort-Object Name) {
    Write-Step "Tier $($tierFile.Name)"
    $tier = Get-DeevTier -TierPath $tierFile.FullName
    $tier | Format-List | Out-Host
    Write-Step "Hosts of $($tierFile.Name) with their derived identity (VMID -> MAC -> IP -> FQDN)"
    Get-DeevHostIdentity -TierPath $tierFile.FullName | Format-Table -AutoSize | Out-Host
    Write-Step "Services of $($tierFile.Name)"
    Get-DeevService -TierPath $tierFile.FullName | Format-Table -AutoSize | Out-Host
}
