# Dot-sourced by every Pester file: where the repository is and how to import the built module fresh.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ManifestPath = Join-Path $script:RepoRoot 'Deevnet.Extended.psd1'
Import-Module $script:ManifestPath -Force -ErrorAction Stop

function New-TestTierFile {
    # Writes a tier file into TestDrive: from an example with optional text replacements, or from literal YAML.
    param([string] $Example, [hashtable] $Replace = @{}, [string] $Yaml, [string] $Name = 'test.tier.yaml')
    $text = if ($Example) { Get-Content -Raw (Join-Path $script:RepoRoot "examples/$Example") } else { $Yaml }
    foreach ($key in $Replace.Keys) { $text = $text.Replace($key, $Replace[$key]) }
    $path = Join-Path $TestDrive $Name
    Set-Content -Path $path -Value $text -NoNewline
    $path
}
