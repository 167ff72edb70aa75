# Tier health as metrics: Test-DeevExtendedTier -OutFile x.prom (Prometheus text exposition format for node_exporter's
# textfile collector) and the example alert rules. No lab: the checks used here judge the tier file alone.
# promtool (Debian's prometheus package, build/lab-packages.txt) checks the file and the rules when it is installed;
# the strict parser below checks the format either way.
BeforeDiscovery {
    $script:HasPromtool = [bool](Get-Command promtool -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    # A strict reader of the text exposition format 0.0.4: every line is a HELP, a TYPE, or a sample of a family whose
    # TYPE came first; names and labels follow the grammar; label values use only the three escapes; no series twice.
    function Read-PromText([string] $Text) {
        $name = '[a-zA-Z_:][a-zA-Z0-9_:]*'
        $types = @{}
        $seen = @{}
        $samples = [System.Collections.Generic.List[object]]::new()
        $Text.EndsWith("`n") | Should -BeTrue -Because 'the exposition format ends every line with a line feed'
        $lineNo = 0
        foreach ($line in $Text.TrimEnd("`n").Split("`n")) {
            $lineNo++
            if ($line -match "^# HELP ($name) (.*)$") { continue }
            if ($line -match "^# TYPE ($name) (counter|gauge|histogram|summary|untyped)$") {
                $types.ContainsKey($Matches[1]) | Should -BeFalse -Because "line ${lineNo}: one TYPE per family"
                $types[$Matches[1]] = $Matches[2]
                continue
            }
            $line -match "^($name)(\{.*\})? (\S+)$" | Should -BeTrue -Because "line ${lineNo} must be a sample: $line"
            $metric = $Matches[1]; $labelText = $Matches[2]; $valueText = $Matches[3]
            $types.ContainsKey($metric) | Should -BeTrue -Because "line ${lineNo}: the TYPE of $metric comes before its samples"
            $value = 0.0
            ($valueText -in 'NaN', '+Inf', '-Inf' -or [double]::TryParse($valueText, [Globalization.NumberStyles]::Float, [cultureinfo]::InvariantCulture, [ref] $value)) |
                Should -BeTrue -Because "line ${lineNo}: '$valueText' is a float"
            $labels = [ordered]@{}
            if ($labelText) {
                $rest = $labelText.Substring(1, $labelText.Length - 2)
                while ($rest.Length -gt 0) {
                    $rest -match '^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)' | Should -BeTrue -Because "line ${lineNo}: label syntax in $labelText"
                    # One pass, left to right: \\ \" \n are the only escapes.
                    $labels[$Matches[1]] = [regex]::Replace($Matches[2], '\\(.)', { param($m) if ($m.Groups[1].Value -eq 'n') { "`n" } else { $m.Groups[1].Value } })
                    $rest = $rest.Substring($Matches[0].Length)
                }
            }
            $key = $metric + ($labels.Keys | Sort-Object | ForEach-Object { "|$_=$($labels[$_])" }) -join ''
            $seen.ContainsKey($key) | Should -BeFalse -Because "line ${lineNo}: a series may appear once ($key)"
            $seen[$key] = $true
            $samples.Add([pscustomobject]@{ Name = $metric; Labels = $labels; Value = $valueText })
        }
        , $samples
    }

    # Core loads into the module's own load context, so its types are found through the loaded assembly, not by name.
    Get-DeevTier -Tier (New-TestTierFile -Example lab.tier.yaml -Name core.tier.yaml) | Out-Null
    $core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Deevnet.Extended.Core' } | Select-Object -First 1
    $script:ResultType = $core.GetType('Deevnet.Extended.Core.Checks.CheckResult', $true)
    $script:SummaryType = $core.GetType('Deevnet.Extended.Core.Checks.CheckSummary', $true)
    $script:PromType = $core.GetType('Deevnet.Extended.Core.Checks.PrometheusReport', $true)

    function New-Results([object[]] $Specs) {
        # Each spec: status, target[, check[, service]].
        $list = [Array]::CreateInstance($ResultType, $Specs.Count)
        for ($i = 0; $i -lt $Specs.Count; $i++) {
            $s = $Specs[$i]
            $check = if ($s.Count -gt 2) { $s[2] } else { 'http' }
            $service = if ($s.Count -gt 3) { $s[3] } else { 'svc' }
            $list[$i] = $ResultType::new($service, 'h1', $(if ($service) { 'observability' } else { '' }), $check, $s[1], $s[0], 'detail', [timespan]::FromMilliseconds(120))
        }
        , $list
    }

    function Get-PromText($Results, [string] $Site, [DateTimeOffset] $At, [double] $Seconds = 2) {
        $summary = $SummaryType::From('/t.yaml', $Results, [timespan]::FromSeconds($Seconds))
        $PromType::Render($summary, $Results, $Site, $At)
    }
}

Describe 'Test-DeevExtendedTier -OutFile *.prom' {
    BeforeAll {
        $tier = New-TestTierFile -Example lab.tier.yaml
        $dir = Join-Path $TestDrive 'textfile'
        New-Item -ItemType Directory -Path $dir | Out-Null
        $script:prom = Join-Path $dir 'deevnet-tier.prom'
        $script:xml = Join-Path $TestDrive 'tier-checks.xml'
        Set-Content -Path $prom -Value 'stale content from an older run'
        $script:before = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
        $script:results = @(Test-DeevExtendedTier -Tier $tier -Check isolation-segment, backup-declared, identity -OutFile $prom, $xml)
        $script:text = Get-Content -Raw $prom
        $script:samples = Read-PromText $text
    }

    It 'writes one deevnet_check_ok series per check, labelled as the result' {
        $ok = @($samples | Where-Object Name -EQ 'deevnet_check_ok')
        $ok.Count | Should -Be $results.Count
        $results.Count | Should -BeGreaterThan 5
        foreach ($r in $results) {
            $s = @($ok | Where-Object { $_.Labels.host -eq $r.Host -and $_.Labels.service -eq $r.Service -and $_.Labels.check -eq $r.Check -and $_.Labels.target -eq $r.Target })
            $s.Count | Should -Be 1 -Because "$($r.Check) of $($r.Host)/$($r.Service) has one series"
            $s[0].Labels.site | Should -Be 'lab'
            $s[0].Labels.class | Should -Be $r.Class
            $s[0].Labels.kind | Should -Be 'derived'
            $s[0].Value | Should -Be $(if ($r.Status -in 'Passed', 'Warning') { '1' } else { '0' })
            $skipped = $samples | Where-Object { $_.Name -eq 'deevnet_check_skipped' -and $_.Labels.host -eq $r.Host -and $_.Labels.service -eq $r.Service -and $_.Labels.check -eq $r.Check -and $_.Labels.target -eq $r.Target }
            $skipped.Value | Should -Be $(if ($r.Status -eq 'Skipped') { '1' } else { '0' })
        }
        @($samples | Where-Object Name -EQ 'deevnet_check_duration_seconds').Count | Should -Be $results.Count
    }

    It 'carries the run time, success and per-class counts' {
        $stamp = [double]($samples | Where-Object Name -EQ 'deevnet_tier_last_run_timestamp_seconds').Value
        $stamp | Should -BeGreaterOrEqual $before
        $stamp | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + 1)
        ($samples | Where-Object Name -EQ 'deevnet_tier_success').Value | Should -Be $(if (@($results | Where-Object Status -EQ Failed).Count) { '0' } else { '1' })
        foreach ($class in 'observability', 'automation', 'access', '') {
            foreach ($status in 'Passed', 'Failed', 'Skipped') {
                $count = ($samples | Where-Object { $_.Name -eq 'deevnet_tier_checks' -and $_.Labels.class -eq $class -and $_.Labels.status -eq $status.ToLowerInvariant() }).Value
                [int] $count | Should -Be @($results | Where-Object { $_.Class -eq $class -and $_.Status -eq $status }).Count -Because "class '$class' $status"
            }
        }
    }

    It 'replaces the old file whole and leaves no temporary file, and writes the JUnit file of the same run' {
        $text | Should -Not -Match 'stale content'
        @(Get-ChildItem -Force (Split-Path $prom)).Name | Should -Be @('deevnet-tier.prom')
        ([xml](Get-Content -Raw $xml)).testsuites.tests | Should -Be $results.Count
    }

    It 'passes promtool check metrics' -Skip:(-not $HasPromtool) {
        $out = $text | promtool check metrics 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
    }

    It 'refuses an unknown extension among several -OutFile files before running anything' {
        $tier = New-TestTierFile -Example lab.tier.yaml
        $good = Join-Path $TestDrive 'never.prom'
        { Test-DeevExtendedTier -Tier $tier -Check identity -OutFile $good, (Join-Path $TestDrive 'r.txt') } |
            Should -Throw -ErrorId 'CheckReportFormatUnknown,Deevnet.Extended.Commands.TestDeevExtendedTierCommand'
        Test-Path $good | Should -BeFalse
    }
}

Describe 'Prometheus label values' {
    It 'escapes backslash, double quote and line feed, and keeps two identical checks apart' {
        $results = New-Results @(
            , @('Passed', "say `"hi`" \ there`nnext")
            , @('Failed', 'http://dup/')
            , @('Warning', 'http://dup/')
            , @('Skipped', '8080', 'tcp', '')
        )
        $text = Get-PromText $results "we`"ird\site" ([DateTimeOffset]::FromUnixTimeSeconds(1764633600))
        $text | Should -Match ([regex]::Escape('target="say \"hi\" \\ there\\nnext"'))
        $samples = Read-PromText $text
        $ok = @($samples | Where-Object Name -EQ 'deevnet_check_ok')
        $ok.Count | Should -Be 4
        $ok[0].Labels.target | Should -Be 'say "hi" \ there\nnext' -Because 'the line feed is first shown as \n, as in every report'
        $ok[0].Labels.site | Should -Be 'we"ird\site'
        @($ok.Labels.target) | Should -Be @('say "hi" \ there\nnext', 'http://dup/', 'http://dup/ #2', '8080')
        @($ok.Value) | Should -Be @('1', '0', '1', '0')
        ($samples | Where-Object { $_.Name -eq 'deevnet_check_warning' -and $_.Labels.target -eq 'http://dup/ #2' }).Value | Should -Be '1'
        ($samples | Where-Object Name -EQ 'deevnet_tier_last_run_timestamp_seconds').Value | Should -Be '1764633600'
        ($samples | Where-Object Name -EQ 'deevnet_tier_success').Value | Should -Be '0'
        $PromType::EscapeLabelValue("a\b`"c`nd") | Should -Be 'a\\b\"c\nd'
    }

    It 'passes promtool check metrics with hostile label values' -Skip:(-not $HasPromtool) {
        $results = New-Results @(, @('Passed', "q`"\`n`e[31m"))
        $out = Get-PromText $results 'lab' ([DateTimeOffset]::UtcNow) | promtool check metrics 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
    }
}

Describe 'examples/deevnet-tier.rules.yml' -Skip:(-not $HasPromtool) {
    It 'passes promtool check rules' {
        $out = promtool check rules (Join-Path $RepoRoot 'examples/deevnet-tier.rules.yml') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
    }

    It 'fires for a failing check after 15 minutes, a stale backup and a stopped run, and not for a skipped check (promtool test rules)' {
        Copy-Item (Join-Path $RepoRoot 'examples/deevnet-tier.rules.yml') $TestDrive
        Copy-Item (Join-Path $PSScriptRoot 'fixtures/deevnet-tier.rules.test.yml') $TestDrive
        Push-Location $TestDrive
        try { $out = promtool test rules deevnet-tier.rules.test.yml 2>&1 } finally { Pop-Location }
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
    }
}

Describe 'examples/deevnet-tier-check.service and .timer' {
    BeforeAll {
        $script:service = Get-Content (Join-Path $RepoRoot 'examples/deevnet-tier-check.service')
        $script:timer = Get-Content (Join-Path $RepoRoot 'examples/deevnet-tier-check.timer')
    }

    It 'runs a PowerShell command that parses and writes the textfile and the JUnit report of one run' {
        $exec = @($service | Where-Object { $_ -like 'ExecStart=*' })
        $exec.Count | Should -Be 1
        $exec[0] -match '^ExecStart=/usr/bin/pwsh -NoProfile -NonInteractive -Command "(.+)"$' | Should -BeTrue -Because $exec[0]
        $command = $Matches[1]
        $errors = $null
        [System.Management.Automation.Language.Parser]::ParseInput($command, [ref] $null, [ref] $errors) | Out-Null
        $errors | Should -BeNullOrEmpty
        $command | Should -Match 'Test-DeevExtendedTier -Quiet -OutFile \S+\.prom, \S+\.xml'
        $service | Should -Contain 'Type=oneshot'
    }

    It 'runs every 5 minutes, the period the alert rules assume' {
        $timer | Should -Contain 'OnUnitActiveSec=5min'
        $timer | Should -Contain 'WantedBy=timers.target'
        Get-Content -Raw (Join-Path $RepoRoot 'examples/deevnet-tier.rules.yml') | Should -Match '20 minutes is four missed runs of the 5-minute timer'
    }

    It 'passes systemd-analyze verify (but for pwsh not being installed at /usr/bin here)' -Skip:(-not (Get-Command systemd-analyze -CommandType Application -ErrorAction SilentlyContinue)) {
        Push-Location (Join-Path $RepoRoot 'examples')
        try { $out = @(systemd-analyze verify ./deevnet-tier-check.service ./deevnet-tier-check.timer 2>&1 | ForEach-Object { "$_" }) } finally { Pop-Location }
        $out | Where-Object { $_ -and $_ -notmatch 'Command /usr/bin/pwsh is not executable' } | Should -BeNullOrEmpty
    }
}
