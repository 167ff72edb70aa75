# Test-DeevExtendedTier as users and runbooks meet it: results, filters, -Quiet, -Summary, -OutFile, the pipeline,
# the Should -PassDeevTier assertion, and every declared check kind against healthy and broken lab targets. On the lab
# everything is in the space pchk (tests/lab/spaces): guests pchk-… with MACs 02:de:34:… on its platform and tenant
# addresses (10.231.25.80-95, 10.231.50.80-95), names under pchk.lab.deevnet.test in its own dnsmasq records file,
# its tier (hosts pchkobs001v01…, 10.231.99.176-191) with its own dnsmasq hosts file, VM and backup store.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Lab.ps1')
    $script:LabUp = Assert-LabRunning
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    # Importing the module after Pester registers the operator; a run that imported Pester later registers it here.
    if (-not (Get-ShouldOperator | Where-Object Name -eq PassDeevTier)) { . (Join-Path $RepoRoot 'module/Pester/DeevAssertions.ps1') }
}

Describe 'Test-DeevExtendedTier without servers' {
    It 'refuses an -OutFile whose extension names no format' {
        $tier = New-TestTierFile -Example lab.tier.yaml
        { Test-DeevExtendedTier -Tier $tier -Check identity -OutFile (Join-Path $TestDrive 'r.txt') } |
            Should -Throw -ErrorId 'CheckReportFormatUnknown,Deevnet.Extended.Commands.TestDeevExtendedTierCommand'
    }

    It 'completes -Check with the check names' {
        $line = 'Test-DeevExtendedTier -Check dns-'
        $names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $names | Should -Be @('dns-cname', 'dns-forward', 'dns-reverse')
    }

    It 'reports a service the tier does not have' {
        $tier = New-TestTierFile -Example lab.tier.yaml
        $out = Test-DeevExtendedTier -Tier $tier -Service nosuchservice -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ServiceNotFound,*'
        $out | Should -BeNullOrEmpty
    }

    It 'runs tier-only checks offline and filters by check and class' {
        $tier = New-TestTierFile -Example lab.tier.yaml
        $r = @(Test-DeevExtendedTier -Tier $tier -Check isolation-segment, backup-declared -Class Access)
        $r.Check | Sort-Object -Unique | Should -Be @('backup-declared', 'isolation-segment')
        ($r | Where-Object Service).Service | Sort-Object -Unique | Should -Be 'jump'
        $r.Status | Sort-Object -Unique | Should -Be 'Passed'
    }

    Context 'Should -PassDeevTier' {
        BeforeAll {
            function New-Result([string] $Status, [string] $Service = 'svc') {
                [Deevnet.Extended.Core.Checks.CheckResult]::new($Service, 'h1', 'observability', 'http', 'http://x/', $Status, "detail of $Service", [timespan]::Zero)
            }
        }
        It 'passes when nothing failed (warnings and skips allowed)' {
            @((New-Result Passed), (New-Result Warning), (New-Result Skipped)) | Should -PassDeevTier
        }
        It 'fails listing every failed check' {
            { @((New-Result Passed), (New-Result Failed grafana), (New-Result Failed loki)) | Should -PassDeevTier } |
                Should -Throw -ExpectedMessage '*2 of 3 failed*service grafana / http http://x/: detail of grafana*service loki*'
        }
        It 'fails when nothing was checked' {
            { @() | Should -PassDeevTier } | Should -Throw -ExpectedMessage '*there were none*'
        }
        It 'supports -Not for checks that must catch a broken service' {
            (New-Result Failed) | Should -Not -PassDeevTier
            { (New-Result Passed) | Should -Not -PassDeevTier } | Should -Throw
        }
    }
}

Describe 'Test-DeevExtendedTier on the lab' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $space = New-LabSpace pchk
        $domain = $space.Domain
        $suffix = Get-Random -Maximum 9999
        $web = "$($space.GuestPrefix)w$suffix"; $tenant = "$($space.GuestPrefix)t$suffix"
        $webIp = $space.Address('platform', 1); $deadIp = $space.Address('platform', 2); $wrongIp = $space.Address('platform', 3)
        $tenantIp = $space.Address('tenant', 1)
        $site = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'site')
        Set-Content -LiteralPath (Join-Path $site 'health') -Value 'status: ok' -NoNewline
        New-LabGuest -Name $web -MacAddress $space.RandomMac() -Segment platform -IPAddress "$webIp/24" | Out-Null
        New-LabGuest -Name $tenant -MacAddress $space.RandomMac() -Segment tenant-a -IPAddress "$tenantIp/24" | Out-Null
        Start-LabGuestHttp -Name $web -Port 8080 -Path $site
        Start-LabGuestSsh -Name $web | Out-Null
        Start-LabGuestSsh -Name $tenant | Out-Null

        # A and PTR records through the space's own dnsmasq records file (in records.d, which SIGHUP re-reads).
        Set-Content -LiteralPath $space.DnsmasqRecords -Value "$webIp ckweb.$domain`n$wrongIp ckwrong.$domain"
        & kill -HUP (Get-Content $lab.DEEV_LAB_DNSMASQ_PID)
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while ((& dig '@10.231.0.2' +short "ckweb.$domain") -ne $webIp -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }

        $yaml = @"
site: { name: lab, domain: $domain, macNamespace: "$($space.MacPrefix)", vmidRange: [$($space.Vmid), $([int]$space.Vmid + 99)] }
access: { user: root, identityFile: $($lab.DEEV_LAB_SSH_KEY), knownHosts: KNOWNHOSTS, connectTimeout: 3s, commandTimeout: 10s }
segments:
  platform: { subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static }
  tenant-a: { subnet: 10.231.50.0/24, gateway: 10.231.50.1, tenant: true }
dns: { kind: dnsmasq, via: "ssh://root@10.231.0.2", server: 10.231.0.2, port: 53, recordsFile: $($space.DnsmasqRecords), pidFile: $($lab.DEEV_LAB_DNSMASQ_PID) }
isolation: { vantage: "ssh://root@$tenantIp", segment: tenant-a, ports: [8080] }
hosts:
  ckweb:  { segment: platform, ip: $webIp, vmid: $([int]$space.Vmid + 61) }
  ckdead: { segment: platform, ip: $deadIp, vmid: $([int]$space.Vmid + 62) }
services:
  web:
    class: observability
    host: ckweb
    checks:
      - { http: "http://ckweb.$($domain):8080/health", status: 200, body: "ok" }
      - { tcp: 8080 }
      - { ssh: 22 }
      - { command: "test -d /" }
      - { dns: ckweb }
    backup: { none: "test service" }
  webbroken:
    class: automation
    host: ckweb
    checks:
      - { http: "http://ckweb.$($domain):8080/missing", status: 200 }
      - { http: "http://$($webIp):8080/health", body: "healthy" }
      - { tcp: 8099 }
      - { command: "echo unit is inactive >&2; exit 3" }
      - { dns: ckwrong, expect: $webIp }
    backup: { none: "test service" }
  dead:
    class: access
    host: ckdead
    checks: [ { tcp: 8080, timeout: 1s } ]
    backup: { none: "test service" }
"@
        $script:tier = New-TestTierFile -Yaml $yaml.Replace('KNOWNHOSTS', $lab.DEEV_LAB_KNOWN_HOSTS) -Name 'checks.tier.yaml'

        # The same tier with a known_hosts in which the web guest's key was replaced by another key.
        $otherKey = Join-Path $TestDrive 'other_ed25519'
        & ssh-keygen -q -t ed25519 -N '' -f $otherKey | Out-Null
        $tampered = Join-Path $TestDrive 'known_hosts'
        $other = (Get-Content "$otherKey.pub").Split(' ')[0..1] -join ' '
        Get-Content $lab.DEEV_LAB_KNOWN_HOSTS | Where-Object { $_ -notmatch "^$([regex]::Escape($webIp)) " } | Set-Content $tampered
        Add-Content $tampered "$webIp $other"
        $script:tamperedTier = New-TestTierFile -Yaml $yaml.Replace('KNOWNHOSTS', $tampered) -Name 'tampered.tier.yaml'

        $script:all = @(Test-DeevExtendedTier -Tier $tier -TimeoutSec 3)
        function Get-One([string] $Service, [string] $Check, [string] $Target = '*') {
            $found = @($all | Where-Object { $_.Service -eq $Service -and $_.Check -eq $Check -and $_.Target -like $Target })
            $found.Count | Should -Be 1 -Because "one $Check of '$Service' ($Target) was expected in: $($all | Out-String)"
            $found[0]
        }
    }

    AfterAll {
        foreach ($g in $web, $tenant) { if ($g) { Remove-LabGuest -Name $g -ErrorAction SilentlyContinue } }
        if ($space) { Remove-LabSpace pchk }
    }

    It 'passes every declared check kind against a healthy target' {
        $all | Where-Object Service -eq web | Should -PassDeevTier
        (Get-One web http).Detail | Should -BeLike "HTTP 200, body contains 'ok'*"
        (Get-One web ssh).Detail | Should -BeLike 'answers with the recorded ssh-ed25519 SHA256:*'
        (Get-One web dns).Status | Should -Be Passed
        (Get-One web command).Status | Should -Be Passed
        (Get-One '' dns-forward "ckweb.*").Status | Should -Be Passed
        (Get-One '' dns-reverse $webIp).Status | Should -Be Passed
    }

    It 'fails each broken declared check with a useful detail' {
        (Get-One webbroken http '*missing').Detail | Should -BeLike 'HTTP 404*expected 200*'
        (Get-One webbroken http '*health').Detail | Should -BeLike "*does not contain 'healthy'*"
        (Get-One webbroken tcp).Detail | Should -BeLike '*connection refused*'
        (Get-One webbroken command).Detail | Should -BeLike "exit 3 on ssh://root@$webIp*unit is inactive*"
        (Get-One webbroken dns).Detail | Should -BeLike "*resolves to $wrongIp*expected $webIp*"
        $all | Where-Object Service -eq webbroken | Should -Not -PassDeevTier
    }

    It 'fails a host that does not answer within its timeout' {
        $r = Get-One dead tcp
        $r.Status | Should -Be Failed
        $r.Detail | Should -Not -BeNullOrEmpty
        $r.Duration.TotalSeconds | Should -BeLessThan 3
    }

    It 'fails isolation when a management port answers from the tenant vantage, passes when none does' {
        (Get-One '' isolation-vantage "$webIp*").Detail | Should -BeLike "*8080 of $webIp are reachable from ssh://root@$tenantIp*"
        (Get-One '' isolation-vantage "$deadIp*").Status | Should -Be Passed
    }

    It 'fails the ssh check with both fingerprints when the host key changed' {
        $r = @(Test-DeevExtendedTier -Tier $tamperedTier -Service web -Check ssh)
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be Failed
        $r[0].Detail | Should -Match 'CHANGED.*recorded ssh-ed25519 SHA256:\S+.*offered ssh-ed25519 SHA256:\S+'
    }

    It 'returns one boolean with -Quiet' {
        $q = @(Test-DeevExtendedTier -Tier $tier -Quiet -TimeoutSec 3)
        $q.Count | Should -Be 1
        $q[0] | Should -BeFalse
        Test-DeevExtendedTier -Tier $tier -Service web -Check http, tcp -Quiet | Should -BeTrue
    }

    It 'returns one summary object whose counts match the results' {
        $s = Test-DeevExtendedTier -Tier $tier -Summary -TimeoutSec 3
        $s.Total | Should -Be $all.Count
        $s.Failed | Should -Be @($all | Where-Object Status -eq Failed).Count
        $s.Passed + $s.Failed + $s.Warning + $s.Skipped | Should -Be $s.Total
        $s.Success | Should -BeFalse
        $s.Failures.Service | Should -Contain webbroken
    }

    It 'writes JUnit XML and JSON that parse back to the same results' {
        $xml = Join-Path $TestDrive 'out/checks.xml'
        $json = Join-Path $TestDrive 'out/checks.json'
        $r = @(Test-DeevExtendedTier -Tier $tier -OutFile $xml -Service webbroken)
        Test-DeevExtendedTier -Tier $tier -OutFile $json -Service webbroken -Quiet | Should -BeFalse
        $doc = [xml](Get-Content -Raw $xml)
        [int]$doc.testsuites.tests | Should -Be $r.Count
        [int]$doc.testsuites.failures | Should -Be @($r | Where-Object Status -eq Failed).Count
        @($doc.SelectNodes('//testcase[failure]')).Count | Should -Be @($r | Where-Object Status -eq Failed).Count
        $j = Get-Content -Raw $json | ConvertFrom-Json
        $j.summary.total | Should -Be $r.Count
        ($j.results | Where-Object check -eq command).detail | Should -BeLike '*unit is inactive*'
    }

    It 'takes services from the pipeline and runs once for all of them' {
        $r = @(Get-DeevService -Tier $tier web, dead | Test-DeevExtendedTier -Check tcp, isolation-segment)
        ($r | Where-Object Service).Service | Sort-Object -Unique | Should -Be @('dead', 'web')
        ($r | Where-Object Check -eq isolation-segment).Host | Sort-Object | Should -Be @('ckdead', 'ckweb')
    }

    It 'takes hosts from the pipeline by HostName' {
        $r = @(Get-DeevMgmtHost -Tier $tier ckdead | Test-DeevExtendedTier -Check tcp)
        $r.Service | Should -Be 'dead'
    }

    It 'gives runbooks an exit code: the documented one-liner exits 1 when a check failed, 0 when none did' {
        $dotnet = (Get-Process -Id $PID).Path
        $pwsh = Join-Path $PSHOME 'pwsh.dll'
        $failing = "Import-Module '$ManifestPath'; if (-not (Test-DeevExtendedTier -TierPath '$tier' -Service webbroken -Quiet)) { exit 1 }"
        & $dotnet $pwsh -NoProfile -NonInteractive -Command $failing | Out-Null
        $LASTEXITCODE | Should -Be 1
        $passing = "Import-Module '$ManifestPath'; if (-not (Test-DeevExtendedTier -TierPath '$tier' -Service web -Check http -Quiet)) { exit 1 }"
        & $dotnet $pwsh -NoProfile -NonInteractive -Command $passing | Out-Null
        $LASTEXITCODE | Should -Be 0
    }
}

Describe 'Test-DeevExtendedTier with the DHCP, VM and backup readers on the lab' -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Lab.ps1')
        $lab = Get-LabEnvironment
        $space = New-LabSpace pchk
        $script:tier = Join-Path $TestDrive 'lab.tier.yaml'
        Copy-Item -LiteralPath $space.Tier -Destination $tier
        # The lab tier's obs (VMID 901, .21) and acc (.23) are the space's VMID +1 and addresses 5 and 7.
        $obs = $space.HostName('obs001v01'); $acc = $space.HostName('acc001v01')
        $obsMac = $space.MacForVmId([int]$space.Vmid + 1); $accIp = $space.Address('mgmt', 7); $otherIp = $space.Address('mgmt', 12)
        New-DeevHostIdentity -Tier $tier | Out-Null
        Sync-DeevDhcpReservation -Tier $tier -Confirm:$false | Out-Null
        Get-DeevMgmtHost -Tier $tier $obs | New-DeevMgmtVm -NoWait -Confirm:$false | Out-Null
    }

    AfterAll {
        Get-DeevMgmtHost -Tier $tier $obs | Remove-DeevMgmtVm -Confirm:$false -ErrorAction SilentlyContinue
        if ($space) { Remove-LabSpace pchk }
    }

    It 'passes reservations that exist and match, and a VM with its MAC that starts on boot' {
        $r = @(Test-DeevExtendedTier -Tier $tier -Check dhcp-reservation, vm -HostName $obs)
        $r | Should -PassDeevTier
        ($r | Where-Object Check -eq vm).Detail | Should -BeLike "*MAC $obsMac, starts on boot*"
    }

    It 'fails a wrong reservation and a missing one with what the server has' {
        # Edited by hand in the space's own dnsmasq hosts file, as an operator might.
        (Get-Content $space.DnsmasqHosts) -replace "$([regex]::Escape($accIp))\b", $otherIp | Set-Content $space.DnsmasqHosts
        (Get-Content $space.DnsmasqHosts) | Where-Object { $_ -notmatch $obsMac } | Set-Content $space.DnsmasqHosts
        $r = @(Test-DeevExtendedTier -Tier $tier -Check dhcp-reservation)
        ($r | Where-Object Host -eq $acc).Detail | Should -BeLike "*is reserved $otherIp*expected $accIp*"
        ($r | Where-Object Host -eq $obs).Detail | Should -BeLike "No reservation for $obsMac*"
    }

    It 'fails a VM that does not start on boot, and a host without a VM' {
        & virsh -c $lab.DEEV_LAB_LIBVIRT_URI autostart --disable $obs | Out-Null
        $r = @(Test-DeevExtendedTier -Tier $tier -Check vm -HostName $obs, $acc)
        ($r | Where-Object Host -eq $obs).Detail | Should -BeLike '*does not start on boot*'
        ($r | Where-Object Host -eq $acc).Detail | Should -BeLike "There is no VM for $acc*"
    }

    It 'skips backup freshness with the reason while a service has no backup yet' {
        $r = @(Test-DeevExtendedTier -Tier $tier -Check backup-fresh -Service metrics)
        $r.Status | Should -Be Skipped
        $r.Detail | Should -BeLike 'No backup of metrics yet*'
    }
}
