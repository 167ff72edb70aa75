# Helpers for the rebuild drills on the lab (tests/Pester/Rebuild.Tests.ps1, examples/Rebuild-Drill.Tests.ps1,
# examples/Invoke-RebuildDrill.ps1). Dot-source after Lab.ps1.
#
# How the lab stands in for a booted VM: the libvirt test driver defines and "runs" a domain but boots nothing.
# rebuild-lab-boot.sh watches the lab's libvirt and, when a tier host's domain is running, does what the guest OS
# would: a network namespace with the domain's MAC takes its address by DHCP from the site's server (so the
# reservation decides it) and starts sshd with the host's own host key (made on first boot, in
# $DEEV_LAB_ROOT/hosts/<host>/etc/ssh). When the domain is undefined, the namespace goes, with
# $DEEV_LAB_ROOT/hosts/<host>/ (the VM's disks). Everything else in a drill is the real module against real servers.

# The services the drills rebuild, one per class, each with data in a backed-up path.
$script:RebuildDrillServices = [ordered]@{ Access = 'jump'; Automation = 'runner'; Observability = 'metrics' }

function New-RebuildDrillTier {
    # The lab's tier plus what a real tier would say about post-install configuration (run on the builder, here the
    # lab host): start the service's listener in the host's guest namespace, register the runner; and for the jump
    # host, an after command that makes sshd load the restored host keys. Written beside the lab tier.
    # From this repository's examples/lab.tier.yaml (the lab that runs may have been started from another checkout),
    # pointed at the running lab the way lab.sh does it.
    # -From: a tier the running lab serves (the demo's), whose allocated identities the drill tier takes over, so
    # both name the same VMs.
    # -Space: a suite space (New-LabSpace): the drill tier is the space's tier instead (its hosts, MACs, addresses,
    # DHCP/DNS files and backup store), written into the space's folder, with a known_hosts file of its own (seeded
    # with the lab server's key), so the drill touches nothing outside the space.
    param([string] $From, [object] $Space)
    $lab = Get-LabEnvironment
    $root = Get-LabRoot
    $prefix = 'dv99'
    $outDir = $root
    if ($Space) {
        $prefix = $Space.HostPrefix
        $outDir = $Space.Root
        $text = Get-Content -Raw $Space.Tier
        $knownHosts = Join-Path $outDir 'known_hosts'
        Get-Content -LiteralPath $lab.DEEV_LAB_KNOWN_HOSTS | Where-Object { $_ -like "$($lab.DEEV_LAB_SSH_HOST) *" } | Set-Content -LiteralPath $knownHosts
        $text = [regex]::Replace($text, '(?m)^(\s*knownHosts:\s*).*$', "`${1}$knownHosts")
    }
    else {
        $source = if ($From) { $From } else { Join-Path $PSScriptRoot '../../examples/lab.tier.yaml' }
        $text = (Get-Content -Raw $source).Replace('/run/deevnet-lab', $root)
        $text = [regex]::Replace($text, '(?m)^(\s*recipient:\s*).*$', "`$1`"$($lab.DEEV_LAB_AGE_RECIPIENT)`"")
    }
    $listen = { param($hostName, $port, $dir)
        "mkdir -p $dir && echo ok > $dir/health && (ip netns exec dlg-$hostName bash -c 'exec 3<>/dev/tcp/127.0.0.1/$port' 2>/dev/null || ip netns exec dlg-$hostName busybox httpd -p $port -h $dir)"
    }
    $obs = "${prefix}obs001v01"; $aut = "${prefix}aut001v01"; $acc = "${prefix}acc001v01"
    $configure = @{
        $obs = @(& $listen $obs 8080 "$root/hosts/$obs/srv/www")
        $aut = @(
            (& $listen $aut 8081 "$root/hosts/$aut/srv/www"),
            "mkdir -p $root/hosts/$aut/etc/runner && echo registered-as-`$DEEV_HOST > $root/hosts/$aut/etc/runner/registration")
        $acc = @('true')
    }
    foreach ($hostName in $configure.Keys) {
        $anchor = "(?m)^(    host: $hostName\r?\n)"
        if ($text -notmatch $anchor) { throw "The lab tier has no service on host $hostName (looked for '    host: $hostName')." }
        $lines = ($configure[$hostName] | ForEach-Object { "      - " + ($_ | ConvertTo-Json) }) -join "`n"
        $text = [regex]::Replace($text, $anchor, "`$1    configure:`n$lines`n")
    }
    $jumpBackup = "(?m)^(    backup: \{ paths: \[$([regex]::Escape("$root/hosts/$acc/etc/ssh"))\]) \}"
    if ($text -notmatch $jumpBackup) { throw 'The lab tier does not back up the jump host''s /etc/ssh as expected.' }
    $text = [regex]::Replace($text, $jumpBackup, "`$1, after: `"kill -HUP `$(cat $root/hosts/$acc/run/sshd.pid)`" }")
    $path = Join-Path $outDir 'rebuild.tier.yaml'
    Set-Content -Path $path -Value $text -NoNewline
    $fromIdentity = if ($From -and -not $Space) { [Deevnet.Extended.Core.Identity.IdentityFile]::PathFor($From) }
    if ($fromIdentity -and (Test-Path -LiteralPath $fromIdentity)) { Copy-Item -LiteralPath $fromIdentity -Destination (Join-Path $root 'rebuild.identity.yaml') -Force }
    New-DeevHostIdentity -TierPath $path | Out-Null   # the runner's host has no fixed VMID
    $path
}

function Start-RebuildLabBoot {
    # Starts the boot stand-in for every host of the tier; returns its process (stop it with Stop-RebuildLabBoot).
    param([Parameter(Mandatory)][string] $TierPath)
    $lab = Get-LabEnvironment
    $hosts = Get-DeevMgmtHost -TierPath $TierPath | Where-Object { $_.MacAddress -and $_.Segment -eq 'management' }
    $start = [System.Diagnostics.ProcessStartInfo]::new('bash')
    foreach ($argument in @((Join-Path $PSScriptRoot 'rebuild-lab-boot.sh'), $lab.DEEV_LAB_LAB_SH, $lab.DEEV_LAB_LIBVIRT_URI, (Get-LabRoot)) +
        @($hosts | ForEach-Object { "$($_.Name)=$($_.MacAddress)" })) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $false
    $start.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($start)
}

function Stop-RebuildLabBoot {
    param($Process)
    if ($Process -and -not $Process.HasExited) { $Process.Kill(); $Process.WaitForExit() }
}

function Get-RebuildDrillData {
    # Path (relative to the service's backup paths) -> SHA-256 of every file the service backs up, as on the host.
    param([Parameter(Mandatory)][string] $Service, [Parameter(Mandatory)][string] $TierPath)
    $info = Get-DeevService -Name $Service -TierPath $TierPath
    $data = [ordered]@{}
    foreach ($path in $info.Backup.Paths) {
        if (-not (Test-Path $path)) { continue }
        foreach ($file in Get-ChildItem -LiteralPath $path -Recurse -File | Sort-Object FullName) {
            $data[$file.FullName] = (Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256).Hash
        }
    }
    $data
}

function Write-RebuildDrillData {
    # Gives a service data worth restoring: random files (binary and text) in its first backed-up path.
    param([Parameter(Mandatory)][string] $Service, [Parameter(Mandatory)][string] $TierPath)
    $path = @((Get-DeevService -Name $Service -TierPath $TierPath).Backup.Paths)[0]
    New-Item -ItemType Directory -Force -Path (Join-Path $path 'data') | Out-Null
    $bytes = [byte[]]::new(200000); [System.Random]::Shared.NextBytes($bytes)
    [IO.File]::WriteAllBytes((Join-Path $path 'data/blob.bin'), $bytes)
    Set-Content -Path (Join-Path $path 'data/notes.txt') -Value "written by the drill at $([DateTime]::UtcNow.ToString('o'))"
}

function Remove-RebuildDrillService {
    # Destroys a service completely: its VM (and with it the guest and the host's files, i.e. its data), its DHCP
    # reservation and its DNS records. Except for an access host, its host key is forgotten too, as an operator
    # would after deleting a VM; clients keep trusting the jump host's key, which the rebuild must bring back.
    param([Parameter(Mandatory)][string] $Service, [Parameter(Mandatory)][string] $TierPath)
    $info = Get-DeevService -Name $Service -TierPath $TierPath
    $hostInfo = Get-DeevMgmtHost -Name $info.HostName -TierPath $TierPath
    $lab = Get-LabEnvironment
    Remove-DeevMgmtVm -Name $hostInfo.Name -TierPath $TierPath -Confirm:$false
    if (Get-LabGuest | Where-Object Name -EQ $hostInfo.Name) { Remove-LabGuest -Name $hostInfo.Name }
    Remove-Item -Recurse -Force -LiteralPath (Join-Path (Get-LabRoot) "hosts/$($hostInfo.Name)") -ErrorAction Ignore
    Remove-DeevDhcpReservation -ClientId $hostInfo.MacAddress -TierPath $TierPath -Confirm:$false
    # With -Names, Remove-DeevDnsRecord removes only those CNAMEs (so piping a service in leaves its host's A record
    # alone): the CNAMEs and the A record are two calls.
    $names = @((Get-DeevService -HostName $hostInfo.Name -TierPath $TierPath).Names | Where-Object { $_ })
    if ($names) { Remove-DeevDnsRecord -Names $names -TierPath $TierPath -Confirm:$false | Out-Null }
    Remove-DeevDnsRecord -HostName $hostInfo.Name -TierPath $TierPath -Confirm:$false | Out-Null
    if ($info.Class.ToString() -ne 'Access') {
        $knownHosts = Get-RebuildDrillKnownHosts -TierPath $TierPath
        & ssh-keygen -q -R $hostInfo.IPAddress -f $knownHosts 2>$null | Out-Null; Remove-Item "$knownHosts.old" -ErrorAction Ignore
    }
}

function Get-RebuildDrillKnownHosts {
    # The known_hosts file the drill tier's access section names (the space's own for a space tier).
    param([Parameter(Mandatory)][string] $TierPath)
    $m = Select-String -LiteralPath $TierPath -Pattern '^\s*knownHosts:\s*(\S+)\s*$' | Select-Object -First 1
    if (-not $m) { throw "The tier $TierPath has no access.knownHosts." }
    $m.Matches[0].Groups[1].Value.Trim('"')
}

function Get-RebuildDrillSeededKey {
    # The public host key the module handed in through the VM's seed ISO (cloud-init ssh_keys), read back from the
    # ISO on the hypervisor: Base64 and Fingerprint, or nothing when the seed carries none.
    param([Parameter(Mandatory)][string] $HostName, [Parameter(Mandatory)][string] $TierPath)
    $lab = Get-LabEnvironment
    $iso = [regex]::Match((& virsh -c $lab.DEEV_LAB_LIBVIRT_URI dumpxml $HostName) -join "`n", "[^'`"]*-seed\.iso").Value
    if (-not $iso -or -not (Test-Path -LiteralPath $iso)) { return }
    $pattern = '^\s*ed25519_public:\s*"ssh-ed25519 (\S+)'
    $line = & isoinfo -R -i $iso -x /user-data | Where-Object { $_ -match $pattern } | Select-Object -First 1
    if (-not ($line -match $pattern)) { return }
    $base64 = $Matches[1]
    # OpenSSH's fingerprint: SHA256 of the key blob, base64 without padding (as ssh-keygen -lf prints it).
    $hash = [System.Security.Cryptography.SHA256]::HashData([Convert]::FromBase64String($base64))
    [pscustomobject]@{ Base64 = $base64; Fingerprint = 'SHA256:' + [Convert]::ToBase64String($hash).TrimEnd('=') }
}

function Get-RebuildDrillState {
    # What exists of a service's host right now: VMs, reservations, DNS records and whether its files exist.
    param([Parameter(Mandatory)][string] $Service, [Parameter(Mandatory)][string] $TierPath)
    $info = Get-DeevService -Name $Service -TierPath $TierPath
    $hostInfo = Get-DeevMgmtHost -Name $info.HostName -TierPath $TierPath
    $lab = Get-LabEnvironment
    [pscustomobject]@{
        Vms          = @(Get-DeevMgmtVm -Name $hostInfo.Name -TierPath $TierPath | Where-Object State -NE 'absent')
        Domains      = @(& virsh -c $lab.DEEV_LAB_LIBVIRT_URI list --all --name | Where-Object { $_ -eq $hostInfo.Name })
        Reservations = @(Get-DeevDhcpReservation -ClientId $hostInfo.MacAddress -TierPath $TierPath) + @(Get-DeevDhcpReservation -IPAddress $hostInfo.IPAddress -TierPath $TierPath | Where-Object { $_.ClientId -ne $hostInfo.MacAddress })
        Records      = @(Get-DeevDnsRecord -HostName $hostInfo.Name -TierPath $TierPath -Owned | Where-Object { $_.Type.ToString() -in 'A', 'CNAME' })
        FilesExist   = Test-Path (Join-Path (Get-LabRoot) "hosts/$($hostInfo.Name)")
    }
}

# The first build of a service, before it has any backup: the rebuild's steps without the restore (and, for the
# jump host, with the plain host-key step, since there is no old key yet). A -PlaybookPath folder, as a user
# would add a class.
$script:RebuildFirstBuildPlaybook = @'
# First build: everything a rebuild does except restoring a backup, which does not exist yet.
Get-RebuildStandardStep Identity, DhcpReservation, DnsRecords, Vm, WaitForSsh, HostKey, Configure
'@

function New-RebuildFirstBuildPlaybooks {
    param([Parameter(Mandatory)][string] $Folder)
    New-Item -ItemType Directory -Force -Path $Folder | Out-Null
    foreach ($class in 'Access', 'Automation', 'Observability') { Set-Content (Join-Path $Folder "$class.ps1") $script:RebuildFirstBuildPlaybook }
    $Folder
}
