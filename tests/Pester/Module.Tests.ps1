# The module as a user meets it: import, the manifest, help for every command, ShouldProcess, packaging.
BeforeDiscovery {
    $manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../Deevnet.Extended.psd1')
    $script:exported = @($manifest.CmdletsToExport) + @($manifest.FunctionsToExport) | ForEach-Object { @{ Name = $_ } }
    $script:mutating = @($manifest.CmdletsToExport) + @($manifest.FunctionsToExport) |
        Where-Object { ($_ -split '-')[0] -in 'New', 'Set', 'Remove', 'Sync', 'Start', 'Stop', 'Backup', 'Restore', 'Invoke' -and $_ -ne 'Invoke-DeevHostCommand' } |
        ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:manifest = Import-PowerShellDataFile $ManifestPath
}

Describe 'Module manifest' {
    It 'lists every export explicitly, without wildcards' {
        foreach ($key in 'CmdletsToExport', 'FunctionsToExport', 'AliasesToExport', 'VariablesToExport') {
            @($manifest[$key]) -join ',' | Should -Not -Match '\*' -Because "$key must be explicit"
        }
    }

    It 'exports exactly the commands the manifest lists' {
        $actual = (Get-Command -Module Deevnet.Extended).Name | Sort-Object
        $expected = @($manifest.CmdletsToExport) + @($manifest.FunctionsToExport) | Sort-Object
        $actual | Should -Be $expected
    }

    It 'loads the cmdlets from the compiled root module and does not ship System.Management.Automation' {
        (Get-Module Deevnet.Extended).RootModule | Should -Match 'Deevnet\.Extended\.dll$'
        Test-Path (Join-Path $RepoRoot 'module/bin/System.Management.Automation.dll') | Should -BeFalse
    }
}

Describe 'Help for <Name>' -ForEach $exported {
    BeforeAll {
        $script:help = Get-Help $Name -Full
        $script:command = Get-Command $Name
    }

    It 'has a synopsis of its own' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name *" -Because 'an auto-generated synopsis is just the syntax'
    }

    It 'has a description' {
        ($help.description | Out-String).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $entry = $help.parameters.parameter | Where-Object Name -EQ $parameter
            $entry | Should -Not -BeNullOrEmpty -Because "-$parameter must appear in the help"
            ($entry.description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter needs a description"
        }
    }

    It 'shows -WhatIf and -Confirm in its syntax when it supports ShouldProcess' {
        if (-not $command.Parameters.ContainsKey('WhatIf')) { return }
        $syntax = (Get-Help $Name).syntax | Out-String
        $syntax | Should -Match '\[-WhatIf\]'
        $syntax | Should -Match '\[-Confirm\]'
    }

    It 'marks the parameters that take wildcards, and names types as users type them' {
        foreach ($p in $command.Parameters.Values) {
            $entry = $help.parameters.parameter | Where-Object Name -EQ $p.Name
            if (-not $entry) { continue }
            $wild = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            $entry.globbing | Should -Be $wild.ToString().ToLowerInvariant() -Because "-$($p.Name) $(if ($wild) { 'takes' } else { 'does not take' }) wildcards"
        }
        ($help.syntax | Out-String) | Should -Not -Match 'Nullable`1'
    }

    It 'lists its pipeline input, an online page and its related commands' {
        if ($command.CommandType -ne 'Cmdlet') { return }   # the script layer's functions have comment-based help
        @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0
        ($help.inputTypes | Out-String).Trim() | Should -Not -BeNullOrEmpty
        $links = @($help.relatedLinks.navigationLink)
        $links[0].uri | Should -Be "https://github.com/deevnet/Deevnet.Extended/blob/main/docs/cmdlets/$Name.md"
        $links.linkText | Should -Contain 'about_Deevnet_Extended'
    }

    It 'has at least one example with code' {
        @($help.examples.example).Count | Should -BeGreaterThan 0
        @($help.examples.example)[0].code | Should -Match $Name.Split('-')[1]
    }
}

Describe 'The concepts topic' {
    It 'Get-Help about_Deevnet_Extended shows the concepts' {
        $topic = Get-Help about_Deevnet_Extended | Out-String
        foreach ($concept in 'THE TIER FILE', 'IDENTITY', 'OWNERSHIP', 'PLANS AND -WHATIF', 'CHECKS', 'BACKUPS', 'REBUILDS') {
            $topic | Should -Match ([regex]::Escape($concept))
        }
    }
}

Describe '<Name> supports -WhatIf and -Confirm' -ForEach $mutating {
    It 'declares SupportsShouldProcess' {
        $c = Get-Command $Name
        $c.Parameters.ContainsKey('WhatIf') | Should -BeTrue
        $c.Parameters.ContainsKey('Confirm') | Should -BeTrue
    }
}

Describe 'Package' {
    It 'builds a nupkg that Find-PSResource -Command finds and Save-PSResource installs into a clean path, importable by name' {
        $out = Join-Path $TestDrive 'out.txt'
        $script = Join-Path $TestDrive 'install.ps1'
        $repo = Join-Path $TestDrive 'repo'
        $target = Join-Path $TestDrive 'modules'
        New-Item -ItemType Directory -Path $repo, $target | Out-Null
        & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File (Join-Path $RepoRoot 'build.ps1') Package *> $out
        $LASTEXITCODE | Should -Be 0 -Because (Get-Content -Raw $out)
        $nupkg = Get-ChildItem (Join-Path $RepoRoot 'out') -Filter 'Deevnet.Extended.*.nupkg' | Select-Object -First 1
        $nupkg | Should -Not -BeNullOrEmpty
        Copy-Item $nupkg.FullName $repo
        # A throwaway HOME keeps the repository registration away from the real user profile.
        @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name DeevLocal -Uri '$repo' -Trusted
'found:' + (Find-PSResource -Command Get-DeevTier -Repository DeevLocal).ParentResource.Name
Save-PSResource -Name Deevnet.Extended -Repository DeevLocal -Path '$target' -TrustRepository -SkipDependencyCheck
`$env:PSModulePath = '$target' + [IO.Path]::PathSeparator + `$env:PSModulePath
Import-Module Deevnet.Extended
(Get-Command -Module Deevnet.Extended).Count
(Get-Module Deevnet.Extended).ModuleBase
"@ | Set-Content $script
        $env:HOME_SAVED = $env:HOME
        try {
            $env:HOME = Join-Path $TestDrive 'home'
            New-Item -ItemType Directory -Path $env:HOME | Out-Null
            $lines = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File $script 2>&1
        }
        finally { $env:HOME = $env:HOME_SAVED }
        $LASTEXITCODE | Should -Be 0 -Because ($lines | Out-String)
        $lines | Should -Contain 'found:Deevnet.Extended' -Because 'Find-PSResource -Command finds the module by a command it exports'
        [int]$lines[-2] | Should -Be (@($manifest.CmdletsToExport) + @($manifest.FunctionsToExport)).Count
        $lines[-1] | Should -BeLike "$target*"
    }
}
