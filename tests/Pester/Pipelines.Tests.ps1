# Pipelines that look right must bind: each noun binds the same way everywhere it is taken.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:examples = Join-Path $RepoRoot 'examples'
}

Describe 'Get-DeevTier takes the tier file the way file cmdlets do' {
    BeforeEach { Push-Location $examples }
    AfterEach { Pop-Location }

    It 'takes the path positionally, relative to the current location' {
        (Get-DeevTier ./lab.tier.yaml).Name | Should -Be 'lab'
    }

    It 'takes files from Get-ChildItem (FullName) and summarises each' {
        $names = (Get-ChildItem *.tier.yaml | Get-DeevTier).Name
        $names | Should -Be @('lab', 'mobile')
    }

    It 'still takes -TierPath and its alias -Tier' {
        (Get-DeevTier -TierPath ./lab.tier.yaml).Name | Should -Be 'lab'
        (Get-DeevTier -Tier ./mobile.tier.yaml).Name | Should -Be 'mobile'
    }
}
