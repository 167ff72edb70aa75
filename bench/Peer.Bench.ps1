# Issue 16: the module against the tool Deevnet's operators use today, ansible-core (Debian's ansible-core,
# build/bench-packages.txt), on the same jobs over the lab's SSH, side by side in one run. Both sides run the way an
# operator runs a one-shot runbook step: a fresh process each time (`pwsh -c "Import-Module …; <cmdlet>"` against
# `ansible-playbook`), so start-up and import count on both sides.
#   dhcp     1,000 dnsmasq reservations: Ansible `template` + validate (the entries as dhcp-host= lines through
#            `dnsmasq --test`, as the module validates them) + a SIGHUP handler, against Sync-DeevDhcpReservation
#   dns      1,000 A records (dnsmasq derives each PTR) in a dnsmasq records file: `template` + SIGHUP handler, against
#            Sync-DeevDnsRecord (which also waits until dnsmasq answers the new records)
#   checks   100 checks (50 HTTP, 50 TCP): `uri` and `wait_for` loops, against Test-DeevExtendedTier
# "with changes": every entry changes (the tools take turns writing two address plans, A and B);
# "nothing to change": the second of two runs of the same plan. Medians of -Rounds rounds.
# Goal: the module wins every pair, by >= 2x where the work dominates start-up.
# Everything lives in the bench's lab space (tests/lab/spaces, row "bench"): its own dnsmasq files, the guest
# bench-pr0 (10.231.25.212), the reservations' and records' addresses on 10.233.0.0/16, which is on no lab segment.
param([ValidateRange(1, 9)][int] $Rounds = 3)
. (Join-Path $PSScriptRoot 'Common.ps1')
$manifest = Join-Path $RepoRoot 'Deevnet.Extended.psd1'
$labSh = Join-Path $RepoRoot 'tests/lab/lab.sh'
if (-not (Get-Command ansible-playbook -ErrorAction Ignore)) {
    throw 'ansible-playbook is missing: install the bench packages (build/bench-packages.txt; build.ps1 Bench does as root).'
}

if (Invoke-BenchUnderLabLock $PSCommandPath @{ Rounds = $Rounds }) { exit $LASTEXITCODE }
$started = $false
$spaceAdded = $false
$rangeFile = $null
$guest = [pscustomobject]@{ Name = 'bench-pr0'; IP = '10.231.25.212'; Mac = '02:de:2e:00:00:20' }
$dir = Join-Path ([IO.Path]::GetTempPath()) ('deev-peer-bench-' + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory -Path $dir | Out-Null
try {
    $started = Start-BenchLab
    $lab = @{}
    foreach ($line in Get-Content /run/deevnet-lab/lab.env) { $k, $v = $line -split '=', 2; $lab[$k] = $v }
    $space = @{}
    foreach ($line in & bash $labSh space add bench) { if ($line -match '^(DEEV_SPACE_\w+)=(.*)$') { $space[$Matches[1]] = $Matches[2] } }
    if ($LASTEXITCODE -ne 0) { throw 'lab.sh space add bench failed.' }
    $spaceAdded = $true
    # The module reserves only on subnets the server serves: a dhcp-range for the bench /16 (read from the
    # configuration files; dnsmasq itself reads conf.d only at its next start).
    $rangeFile = Join-Path $lab.DEEV_LAB_DNSMASQ_CONFDIR 'bench-peer-range.conf'
    Set-Content -LiteralPath $rangeFile -Value "dhcp-range=10.233.0.10,10.233.255.250,255.255.0.0,1h`n" -NoNewline

    & bash $labSh guest del $guest.Name *> $null
    & bash $labSh guest add $guest.Name --mac $guest.Mac --segment platform --ip "$($guest.IP)/24" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "The lab guest $($guest.Name) was not created." }
    $ports = 8080..8083
    & bash -c "$labSh guest exec $($guest.Name) -- /usr/bin/python3 $(Join-Path $PSScriptRoot 'lib/latency-server.py') $($guest.IP) $($ports -join ' ') >$dir/server.log 2>&1 &"
    $until = [DateTime]::UtcNow.AddSeconds(10)
    while ($true) {
        $client = [Net.Sockets.TcpClient]::new()
        try { $client.Connect($guest.IP, $ports[-1]); break }
        catch { if ([DateTime]::UtcNow -gt $until) { throw "The bench endpoint did not listen: $(Get-Content -Raw "$dir/server.log")" }; Start-Sleep -Milliseconds 100 }
        finally { $client.Dispose() }
    }

    # --- The jobs' data, once for each side: the tier (module) and the variables (Ansible) name the same hosts.
    $domain = $space.DEEV_SPACE_DOMAIN
    $hostsFile = $space.DEEV_SPACE_DNSMASQ_HOSTS
    $recordsFile = $space.DEEV_SPACE_DNSMASQ_RECORDS
    $count = 1000
    function Get-Plan([int] $Offset) {
        foreach ($i in 0..($count - 1)) {
            $vmid = 10000 + $i
            [pscustomobject]@{
                Name = 'ph{0:d4}' -f $i
                Vmid = $vmid
                Mac  = '02:de:2e:{0:x2}:{1:x2}:{2:x2}' -f (($vmid -shr 16) -band 255), (($vmid -shr 8) -band 255), ($vmid -band 255)
                IP   = '10.233.{0}.{1}' -f ($Offset + [math]::Floor($i / 200)), (10 + $i % 200)
            }
        }
    }
    $plans = @{ A = @(Get-Plan 1); B = @(Get-Plan 11) }
    $srv = $lab.DEEV_LAB_SSH_HOST
    foreach ($name in $plans.Keys) {
        $t = [Text.StringBuilder]::new()
        [void]$t.AppendLine("site: { name: bench, domain: $domain, macNamespace: `"02:de:2e`", vmidRange: [10000, 10999] }")
        [void]$t.AppendLine("access: { user: root, identityFile: $($lab.DEEV_LAB_SSH_KEY), knownHosts: $($lab.DEEV_LAB_KNOWN_HOSTS) }")
        [void]$t.AppendLine('segments: { bench: { subnet: 10.233.0.0/16, gateway: 10.233.0.1, addressing: reservation } }')
        [void]$t.AppendLine("dhcp: { kind: dnsmasq, via: `"ssh://root@$srv`", hostsFile: $hostsFile, pidFile: $($lab.DEEV_LAB_DNSMASQ_PID), netns: $($lab.DEEV_LAB_SRV_NETNS) }")
        [void]$t.AppendLine("dns: { kind: dnsmasq, via: `"ssh://root@$srv`", server: $srv, recordsFile: $recordsFile, pidFile: $($lab.DEEV_LAB_DNSMASQ_PID) }")
        [void]$t.AppendLine('hosts:')
        foreach ($h in $plans[$name]) { [void]$t.AppendLine("  $($h.Name): { segment: bench, ip: $($h.IP), vmid: $($h.Vmid) }") }
        [void]$t.AppendLine('services: {}')
        [IO.File]::WriteAllText((Join-Path $dir "$name.tier.yaml"), $t.ToString())
        $v = [Text.StringBuilder]::new()
        [void]$v.AppendLine("hosts_file: $hostsFile`nrecords_file: $recordsFile`npid_file: $($lab.DEEV_LAB_DNSMASQ_PID)`ndomain: $domain`nreservations:")
        foreach ($h in $plans[$name]) { [void]$v.AppendLine("  - { name: $($h.Name), mac: `"$($h.Mac)`", ip: $($h.IP) }") }
        [IO.File]::WriteAllText((Join-Path $dir "$name.vars.yaml"), $v.ToString())
    }
    # The checks: 50 HTTP and 50 TCP against the guest's four ports.
    $urls = foreach ($i in 0..49) { "http://$($guest.IP):$($ports[$i % 4])/health" }
    $tcps = foreach ($i in 0..49) { "$($guest.IP):$($ports[$i % 4])" }
    $c = [Text.StringBuilder]::new()
    [void]$c.AppendLine("site: { name: bench, domain: $domain, macNamespace: `"02:de:2e`", vmidRange: [10000, 10999] }")
    [void]$c.AppendLine('segments: { platform: { subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static } }')
    [void]$c.AppendLine("hosts: { benchpr: { segment: platform, ip: $($guest.IP), vmid: 10999 } }")
    [void]$c.AppendLine('services:')
    foreach ($i in 0..9) {
        $checks = @($urls[($i * 5)..($i * 5 + 4)] | ForEach-Object { "{ http: `"$_`", body: ok }" }) + @($tcps[($i * 5)..($i * 5 + 4)] | ForEach-Object { "{ tcp: `"$_`" }" })
        [void]$c.AppendLine("  svc$($i): { class: observability, host: benchpr, backup: { none: bench }, checks: [ $($checks -join ', ') ] }")
    }
    $checksTier = Join-Path $dir 'checks.tier.yaml'
    [IO.File]::WriteAllText($checksTier, $c.ToString())
    [IO.File]::WriteAllText((Join-Path $dir 'checks.vars.yaml'), "urls:`n$(($urls | ForEach-Object { "  - $_" }) -join "`n")`nendpoints:`n$(($tcps | ForEach-Object { $h, $p = $_ -split ':'; "  - { host: $h, port: $p }" }) -join "`n")`n")

    # --- Ansible: its configuration, inventory (strict host keys, the lab's key), templates and playbooks.
    $ansible = Join-Path $dir 'ansible'
    New-Item -ItemType Directory -Path $ansible | Out-Null
    Set-Content -LiteralPath (Join-Path $ansible 'inventory.ini') -Value @"
[site]
labsrv ansible_host=$srv ansible_user=root ansible_ssh_private_key_file=$($lab.DEEV_LAB_SSH_KEY) ansible_ssh_common_args='-o UserKnownHostsFile=$($lab.DEEV_LAB_KNOWN_HOSTS) -o StrictHostKeyChecking=yes'
"@
    # Pipelining (one SSH command per task instead of copy + run) and no fact gathering: Ansible at its fastest.
    # Connection sharing lasts one playbook run: every run gets a fresh control-path folder, as a one-shot step has.
    Set-Content -LiteralPath (Join-Path $ansible 'ansible.cfg') -Value @"
[defaults]
inventory = $ansible/inventory.ini
host_key_checking = True
gathering = explicit
interpreter_python = /usr/bin/python3
retry_files_enabled = False
[ssh_connection]
pipelining = True
"@
    Set-Content -LiteralPath (Join-Path $ansible 'dhcp-hosts.j2') -Value "{% for r in reservations %}{{ r.mac }},{{ r.ip }},{{ r.name }}`n{% endfor %}" -NoNewline
    Set-Content -LiteralPath (Join-Path $ansible 'records.j2') -Value "{% for r in reservations %}{{ r.ip }} {{ r.name }}.{{ domain }}`n{% endfor %}" -NoNewline
    # Ansible formats validate with one %s: the script takes the staged file as $1.
    $validate = "sh -c 'c=`$1.check.conf; sed -e \`"s/^/dhcp-host=/\`" \`"`$1\`" > \`"`$c\`" && dnsmasq --test --conf-file=\`"`$c\`"; rc=`$?; rm -f \`"`$c\`"; exit `$rc' _ %s"
    Set-Content -LiteralPath (Join-Path $ansible 'dhcp.yml') -Value @"
- hosts: site
  gather_facts: false
  tasks:
    - name: dnsmasq reservations
      template: { src: dhcp-hosts.j2, dest: "{{ hosts_file }}", mode: "0644", validate: "$validate" }
      notify: reload dnsmasq
  handlers:
    - name: reload dnsmasq
      shell: kill -HUP "`$(cat {{ pid_file }})"
"@
    Set-Content -LiteralPath (Join-Path $ansible 'dns.yml') -Value @"
- hosts: site
  gather_facts: false
  tasks:
    - name: dnsmasq records
      template: { src: records.j2, dest: "{{ records_file }}", mode: "0644" }
      notify: reload dnsmasq
  handlers:
    - name: reload dnsmasq
      shell: kill -HUP "`$(cat {{ pid_file }})"
"@
    # Start-up alone: one task over the same SSH (Ansible's fixed cost), to set against `pwsh -c "Import-Module …"`.
    Set-Content -LiteralPath (Join-Path $ansible 'ping.yml') -Value @"
- hosts: site
  gather_facts: false
  tasks:
    - ping:
"@
    Set-Content -LiteralPath (Join-Path $ansible 'checks.yml') -Value @"
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: http checks
      uri: { url: "{{ item }}", return_content: true, timeout: 5 }
      register: answer
      failed_when: answer.status != 200 or 'ok' not in answer.content
      loop: "{{ urls }}"
    - name: tcp checks
      wait_for: { host: "{{ item.host }}", port: "{{ item.port }}", timeout: 5 }
      loop: "{{ endpoints }}"
"@

    $pwsh = (Get-Process -Id $PID).Path
    $pwshDll = Join-Path $PSHOME 'pwsh.dll'
    function Invoke-Module([string] $Command) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $out = & $pwsh $pwshDll -NoProfile -NonInteractive -Command "Import-Module '$manifest'; $Command" 2>&1
        $ms = $watch.Elapsed.TotalMilliseconds
        if ($LASTEXITCODE -ne 0) { throw "The module's one-shot '$Command' failed: $($out -join "`n")" }
        $ms
    }
    function Invoke-Ansible([string] $Playbook, [string] $Vars) {
        $env:ANSIBLE_CONFIG = Join-Path $ansible 'ansible.cfg'
        $env:ANSIBLE_SSH_CONTROL_PATH_DIR = Join-Path $dir ('cp-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $out = & ansible-playbook (Join-Path $ansible $Playbook) -e "@$Vars" 2>&1
        $ms = $watch.Elapsed.TotalMilliseconds
        if ($LASTEXITCODE -ne 0) { throw "ansible-playbook $Playbook failed: $($out -join "`n")" }
        $ms
    }
    function Assert-Plan([string] $File, [string] $Plan) {
        # The effect, not the exit code: all 1,000 entries of the plan are in the file the server reads.
        $octets = if ($Plan -eq 'A') { '[1-5]' } else { '1[1-5]' }
        $n = @(Get-Content -LiteralPath $File | Where-Object { $_ -match "10\.233\.$octets\." }).Count
        if ($n -ne $count) { throw "$File holds $n entries of plan $Plan, expected $count." }
    }
    $jobs = @(
        @{ Job = 'dhcp'; What = "$count dnsmasq reservations"; File = $hostsFile; Playbook = 'dhcp.yml'; Cmdlet = 'Sync-DeevDhcpReservation -Confirm:$false' }
        @{ Job = 'dns'; What = "$count DNS records (dnsmasq)"; File = $recordsFile; Playbook = 'dns.yml'; Cmdlet = 'Sync-DeevDnsRecord -Confirm:$false' }
    )
    $rows = [Collections.Generic.List[object]]::new()
    foreach ($job in $jobs) {
        $m = @{ ModChange = @(); AnsChange = @(); ModNoop = @(); AnsNoop = @() }
        foreach ($r in 1..$Rounds) {
            $m.AnsChange += Invoke-Ansible $job.Playbook (Join-Path $dir 'B.vars.yaml'); Assert-Plan $job.File B
            $tier = Join-Path $dir 'A.tier.yaml'
            $m.ModChange += Invoke-Module "$($job.Cmdlet) -TierPath '$tier' | Out-Null"; Assert-Plan $job.File A
            $m.ModNoop += Invoke-Module "$($job.Cmdlet) -TierPath '$tier' | Out-Null"; Assert-Plan $job.File A
            $null = Invoke-Ansible $job.Playbook (Join-Path $dir 'A.vars.yaml')
            $m.AnsNoop += Invoke-Ansible $job.Playbook (Join-Path $dir 'A.vars.yaml'); Assert-Plan $job.File A
        }
        $median = { param($xs) @($xs | Sort-Object)[[int][math]::Floor($xs.Count / 2)] }
        $rows.Add([pscustomobject]@{ Job = "$($job.What), with changes"; Module = & $median $m.ModChange; Ansible = & $median $m.AnsChange })
        $rows.Add([pscustomobject]@{ Job = "$($job.What), nothing to change"; Module = & $median $m.ModNoop; Ansible = & $median $m.AnsNoop })
    }
    $modChecks = foreach ($r in 1..$Rounds) { Invoke-Module "if (-not (Test-DeevExtendedTier -TierPath '$checksTier' -Check http, tcp -Quiet)) { exit 3 }" }
    $ansChecks = foreach ($r in 1..$Rounds) { Invoke-Ansible 'checks.yml' (Join-Path $dir 'checks.vars.yaml') }
    $rows.Add([pscustomobject]@{ Job = '100 checks (50 http, 50 tcp)'; Module = @($modChecks | Sort-Object)[[int][math]::Floor($Rounds / 2)]; Ansible = @($ansChecks | Sort-Object)[[int][math]::Floor($Rounds / 2)] })

    $modStart = foreach ($r in 1..$Rounds) { Invoke-Module '$null' }
    $ansStart = foreach ($r in 1..$Rounds) { Invoke-Ansible 'ping.yml' (Join-Path $dir 'A.vars.yaml') }
    $modStart = @($modStart | Sort-Object)[[int][math]::Floor($Rounds / 2)]
    $ansStart = @($ansStart | Sort-Object)[[int][math]::Floor($Rounds / 2)]

    "Whole-process one-shot commands, median of $Rounds (module: pwsh -c 'Import-Module; <cmdlet>'; Ansible: ansible-playbook $((& ansible-playbook --version | Select-Object -First 1) -replace '^ansible-playbook ', ''))"
    foreach ($row in $rows) {
        Write-BenchResult -What "$($row.Job): module" -ValueMs $row.Module -BaselineName 'ansible-playbook' -BaselineMs $row.Ansible -Goal 'module wins (ratio > 1x), >= 2x where the work dominates start-up'
    }
    'Start-up alone: module {0:N0} ms (pwsh + Import-Module), Ansible {1:N0} ms (ansible-playbook, one ping over SSH). The work beyond it:' -f $modStart, $ansStart
    foreach ($row in $rows) {
        $mod = $row.Module - $modStart; $ans = $row.Ansible - $ansStart
        '  {0}: module {1:N0} ms, Ansible {2:N0} ms, ratio {3}' -f $row.Job, $mod, $ans, $(if ($mod -gt 0) { '{0:N1}x' -f ($ans / $mod) } else { 'n/a (within start-up noise)' })
    }
    $lost = @($rows | Where-Object { $_.Module -ge $_.Ansible })
    '  goal {0}' -f $(if ($lost.Count -eq 0) { 'met: the module wins every pair' } else { "NOT met: Ansible wins $($lost.Count) pair(s)" })
}
finally {
    Remove-Item Env:ANSIBLE_CONFIG, Env:ANSIBLE_SSH_CONTROL_PATH_DIR -ErrorAction Ignore
    & bash $labSh guest del $guest.Name *> $null
    if ($rangeFile) { Remove-Item -LiteralPath $rangeFile -ErrorAction Ignore }
    if ($spaceAdded) { & bash $labSh space del bench *> $null }
    Remove-Item $dir -Recurse -Force -ErrorAction Ignore
    if ($started) { & bash $labSh stop | Out-Null }
}
