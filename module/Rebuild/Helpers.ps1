# Small helpers the standard steps share: waiting for the host (Wait-DeevMgmtHost), running the tier's configure
# commands on the builder, and trusting a new VM's host key (Get-DeevHostKey, Remove-DeevHostKey).

function Wait-RebuildHost {
    # The host's SSH endpoint (the tier's via) accepts TCP, tried with Core's probe until it does or the time is up.
    param([Parameter(Mandatory)] $Context, [int] $TimeoutSec = 600)
    Wait-DeevMgmtHost -Name $Context.HostName -TierPath $Context.TierPath -TimeoutSec $TimeoutSec -ErrorAction Stop
}

function Test-RebuildHostAnswers {
    # A short look, for a step's Test: true when the host's SSH endpoint accepts TCP within a second or two.
    param([Parameter(Mandatory)] $Context)
    [bool](Wait-DeevMgmtHost -Name $Context.HostName -TierPath $Context.TierPath -TimeoutSec 1 -PassThru -ErrorAction SilentlyContinue)
}

function Invoke-RebuildConfigureCommand {
    # Runs one configure command of the tier on the builder (this machine) with /bin/sh, the way an
    # ansible-playbook run is started. It learns what it configures from DEEV_* environment variables. Its output
    # is kept and shown only when it fails (and always with -Verbose).
    param([Parameter(Mandatory)] $Context, [Parameter(Mandatory)][string] $Command, [int] $TimeoutSec = 3600)
    $start = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $start.ArgumentList.Add('-c')
    $start.ArgumentList.Add($Command)
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $environment = @{
        DEEV_SERVICE = $Context.Service; DEEV_CLASS = $Context.Class; DEEV_HOST = $Context.HostName
        DEEV_HOST_IP = $Context.IPAddress; DEEV_HOST_MAC = [string]$Context.MacAddress; DEEV_HOST_FQDN = [string]$Context.Fqdn
        DEEV_TIER = $Context.TierPath
    }
    foreach ($key in $environment.Keys) { $start.Environment[$key] = $environment[$key] }
    $process = [System.Diagnostics.Process]::Start($start)
    try {
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSec * 1000)) {
            $process.Kill($true)
            throw [System.TimeoutException]::new("The configure command '$Command' did not finish within $TimeoutSec s.")
        }
        $process.WaitForExit()
        $output = ($stdout.Result + $stderr.Result).TrimEnd()
        Write-Verbose "configure '$Command' (exit $($process.ExitCode)):`n$output"
        if ($process.ExitCode -ne 0) {
            $tail = ($output -split "`n" | Select-Object -Last 40) -join "`n"
            throw [System.InvalidOperationException]::new("The configure command '$Command' failed with exit code $($process.ExitCode). Its output:`n$tail")
        }
    }
    finally { $process.Dispose() }
}

function Get-RebuildHostKey {
    # The host key the service's host offers, checked against the tier's known_hosts (the tier resolves its via).
    # The report says whether the key is trusted only as the first-boot key the module handed to the new VM.
    param([Parameter(Mandatory)] $Context, [switch] $Add, [switch] $FirstBoot, [switch] $Force)
    Get-DeevHostKey -HostName $Context.HostName -TierPath $Context.TierPath -Add:$Add -FirstBoot:$FirstBoot -Force:$Force -Confirm:$false -ErrorAction Stop
}

function Assert-RebuildHostKeyTrusted {
    # Before anything is sent to a new VM: it must offer a key the module trusts (the recorded one, or the first-boot
    # key it handed in through the seed). Anything else — whoever holds the address during a rebuild — stops the
    # rebuild with HostKeyMismatch, showing every fingerprint, unless the operator passed -AcceptChangedHostKey after
    # checking the key on the VM's console; then that key is trusted for the first boot only.
    param([Parameter(Mandatory)] $Context, [Parameter(Mandatory)] $Report)
    if ($Report.Status.ToString() -eq 'Known') { return $Report }
    $recorded = if ($Report.RecordedFingerprints.Count) { $Report.RecordedFingerprints -join ', ' } else { 'none' }
    $handedIn = if ($Report.FirstBootFingerprints.Count) { $Report.FirstBootFingerprints -join ', ' } else { 'none (the hypervisor could not seed one)' }
    if ($Report.Status.ToString() -ne 'Revoked' -and $Context.AcceptChangedHostKey) {
        Get-RebuildHostKey $Context -Add -FirstBoot -Force | Out-Null
        return Get-RebuildHostKey $Context
    }
    $message = "$($Context.HostName) offers $($Report.KeyType) $($Report.Fingerprint), which is neither the key $($Report.KnownHostsPath) records ($recorded) " +
        "nor the first-boot key the rebuild handed in through the VM's seed ($handedIn). Whoever answers at that address may not be the new VM: nothing was sent to it."
    $exception = [System.Security.SecurityException]::new($message)
    $record = [System.Management.Automation.ErrorRecord]::new($exception, 'HostKeyMismatch', 'SecurityError', $Context.HostName)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($message)
    $record.ErrorDetails.RecommendedAction = "Compare $($Report.Fingerprint) with the VM's own key on its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). Only if they match, run Invoke-DeevRebuild -Service $($Context.Service) -AcceptChangedHostKey."
    throw $record
}
