# Finding and reading playbooks: module/Playbooks/<Class>.ps1, or the same name in a -PlaybookPath folder
# (searched first, so a user can add a class or replace a built-in playbook without touching the module).

function Get-RebuildPlaybookFolder {
    param([string[]] $PlaybookPath)
    $folders = @($PlaybookPath | Where-Object { $_ }) + (Join-Path $PSScriptRoot '../Playbooks')
    foreach ($folder in $folders) {
        if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
            throw [System.IO.DirectoryNotFoundException]::new("The playbook folder '$folder' does not exist.")
        }
        (Resolve-Path -LiteralPath $folder).ProviderPath
    }
}

function Get-RebuildPlaybookFile {
    # One file per class; the first folder that has it wins.
    param([string[]] $PlaybookPath)
    $seen = @{}
    foreach ($folder in Get-RebuildPlaybookFolder $PlaybookPath) {
        foreach ($file in Get-ChildItem -LiteralPath $folder -Filter '*.ps1' -File | Sort-Object Name) {
            $class = $file.BaseName
            if ($seen.ContainsKey($class)) { continue }
            $seen[$class] = $true
            [pscustomobject]@{ Class = $class; Path = $file.FullName }
        }
    }
}

function Read-RebuildPlaybook {
    # Runs a playbook script, which only builds and returns its steps (nothing is touched), and checks the result.
    param([Parameter(Mandatory)] $File)
    $steps = @(& $File.Path)
    if ($steps.Count -eq 0) { throw "The playbook '$($File.Path)' returned no steps." }
    $names = @{}
    foreach ($step in $steps) {
        if (-not ($step.PSObject.TypeNames -contains 'Deevnet.Extended.RebuildStep')) {
            throw "The playbook '$($File.Path)' returned '$step', which is not a step: build steps with New-RebuildStep or Get-RebuildStandardStep."
        }
        if ($names.ContainsKey($step.Name)) { throw "The playbook '$($File.Path)' has two steps named '$($step.Name)'." }
        $names[$step.Name] = $true
    }
    [pscustomobject]@{
        Class       = $File.Class
        Path        = $File.Path
        Description = Get-RebuildPlaybookSummary $File.Path
        Steps       = $steps
    }
}

function Get-RebuildPlaybookSummary {
    # The playbook's opening comment lines, which say what the class is and what is special about its rebuild.
    param([string] $Path)
    $lines = foreach ($line in Get-Content -LiteralPath $Path) {
        if ($line -notmatch '^\s*#') { break }
        $line -replace '^\s*#\s?', ''
    }
    ($lines -join ' ').Trim()
}

function Find-RebuildPlaybook {
    # The playbook of one class, or a clear error naming where it was looked for and how to add one.
    param([Parameter(Mandatory)][string] $Class, [string[]] $PlaybookPath)
    $file = Get-RebuildPlaybookFile $PlaybookPath | Where-Object Class -EQ $Class | Select-Object -First 1
    if (-not $file) {
        $where = (Get-RebuildPlaybookFolder $PlaybookPath) -join "', '"
        $exception = [System.Management.Automation.ItemNotFoundException]::new(
            "There is no rebuild playbook for the class '$Class': no $Class.ps1 in '$where'.")
        $record = [System.Management.Automation.ErrorRecord]::new($exception, 'PlaybookNotFound', 'ObjectNotFound', $Class)
        $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($exception.Message)
        $record.ErrorDetails.RecommendedAction = "Add $Class.ps1 beside the other playbooks (see docs/rebuild-playbooks.md) or pass its folder with -PlaybookPath."
        throw $record
    }
    Read-RebuildPlaybook $file
}
