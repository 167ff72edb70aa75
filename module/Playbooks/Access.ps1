# Access: jump hosts and out-of-band tooling, rebuilt first because they are the way in. Clients must keep
# trusting a rebuilt jump host, so its SSH host keys come back from the backup. The new VM boots with a host key
# the module made and handed in through its seed (never one learnt from the network it will receive the backup
# over); until the restored keys are back the rebuild trusts that first-boot key beside the recorded one, and a
# host that offers any other key stops the rebuild before anything is restored.
Get-RebuildStandardStep Identity, DhcpReservation, DnsRecords, Vm, WaitForSsh

New-RebuildStep -Name FirstBootKey `
    -Description 'The new VM offers the first-boot key the rebuild handed in through its seed (or the recorded key): trusted for this rebuild beside (never instead of) the key clients know; any other key stops the rebuild (HostKeyMismatch).' `
    -Test { param($r) (Get-RebuildHostKey $r).Status.ToString() -eq 'Known' } `
    -Invoke {
        param($r)
        $report = Assert-RebuildHostKeyTrusted $r (Get-RebuildHostKey $r)
        "trusting $(if ($report.IsFirstBootKey) { 'the first-boot key' } else { 'the recorded key' }) $($report.Fingerprint) until the host keys are restored"
    } `
    -Advice 'Compare the fingerprints in the error with the new VM''s console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub); only if they match, run again with -AcceptChangedHostKey.'

Get-RebuildStandardStep Configure, Restore

New-RebuildStep -Name HostKeysRestored `
    -Description 'The jump host offers its old SSH host key again (restored from the backup), so clients keep trusting it; the first-boot key is no longer trusted.' `
    -Test {
        param($r)
        $report = Get-RebuildHostKey $r
        $report.Status.ToString() -eq 'Known' -and -not $report.IsFirstBootKey -and $report.FirstBootFingerprints.Count -eq 0
    } `
    -Invoke {
        param($r)
        $report = Get-RebuildHostKey $r
        if ($report.IsFirstBootKey) {
            throw "$($r.HostName) still offers its first-boot key $($report.Fingerprint): the restore did not bring its host keys back."
        }
        if ($report.Status.ToString() -ne 'Known') {
            throw "$($r.HostName) offers $($report.Fingerprint), which $($report.KnownHostsPath) does not record: neither the first-boot key nor the key clients trust."
        }
        Remove-DeevHostKey -HostName $r.HostName -TierPath $r.TierPath -FirstBoot -Confirm:$false -ErrorAction Stop
        "offers $($report.Fingerprint) again, the key clients trust"
    } `
    -Advice 'The backup must hold the host keys (/etc/ssh) and its after command must make sshd load them (e.g. systemctl reload sshd).'

Get-RebuildStandardStep Verify
