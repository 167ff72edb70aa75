# Access: jump hosts and out-of-band tooling, rebuilt first because they are the way in. Clients must keep
# trusting a rebuilt jump host, so its SSH host keys come back from the backup: until then the rebuild trusts the
# new VM's first-boot key beside the recorded one, and afterwards the host must offer the key clients know.
Get-RebuildStandardStep Identity, DhcpReservation, DnsRecords, Vm, WaitForSsh

New-RebuildStep -Name FirstBootKey `
    -Description 'The module can log in to the new VM: its first-boot key is trusted for this rebuild, beside (never instead of) the key clients know.' `
    -Test { param($r) (Get-RebuildHostKey $r).Status -eq 'Known' } `
    -Invoke {
        param($r)
        $report = Get-RebuildHostKey $r
        if ($report.Status.ToString() -notin 'Unknown', 'Changed') { throw "The host key of $($r.HostName) is $($report.Status) in $($report.KnownHostsPath)." }
        Add-RebuildFirstBootLine -Report $report -Endpoint (Get-RebuildSshEndpoint $r) -HostName $r.HostName
        "trusting the first-boot key $($report.Fingerprint) until the host keys are restored"
    } `
    -Advice 'Check the new VM''s key on its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).'

Get-RebuildStandardStep Configure, Restore

New-RebuildStep -Name HostKeysRestored `
    -Description 'The jump host offers its old SSH host key again (restored from the backup), so clients keep trusting it; the first-boot key is no longer trusted.' `
    -Test {
        param($r)
        $report = Get-RebuildHostKey $r
        $report.Status.ToString() -eq 'Known' -and -not (Get-RebuildFirstBootLine -KnownHostsPath $report.KnownHostsPath -HostName $r.HostName)
    } `
    -Invoke {
        param($r)
        $report = Get-RebuildHostKey $r
        $firstBoot = @(Get-RebuildFirstBootLine -KnownHostsPath $report.KnownHostsPath -HostName $r.HostName)
        if ($firstBoot | Where-Object { $_ -match [regex]::Escape($report.Key.Base64) }) {
            throw "$($r.HostName) still offers its first-boot key $($report.Fingerprint): the restore did not bring its host keys back."
        }
        if ($report.Status.ToString() -ne 'Known') {
            throw "$($r.HostName) offers $($report.Fingerprint), which $($report.KnownHostsPath) does not record: neither the first-boot key nor the key clients trust."
        }
        Remove-RebuildFirstBootLine -KnownHostsPath $report.KnownHostsPath -HostName $r.HostName
        "offers $($report.Fingerprint) again, the key clients trust"
    } `
    -Advice 'The backup must hold the host keys (/etc/ssh) and its after command must make sshd load them (e.g. systemctl reload sshd).'

Get-RebuildStandardStep Verify
