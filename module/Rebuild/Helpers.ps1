# Small helpers the standard steps share: waiting for a TCP port, running the tier's configure commands on the
# builder, and the temporary known_hosts lines an access host's rebuild needs.

function Test-RebuildTcpPort {
    # True when address:port accepts a TCP connection within the timeout.
    param([Parameter(Mandatory)][string] $Address, [int] $Port = 22, [int] $TimeoutMs = 1500)
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $connect = $client.ConnectAsync($Address, $Port)
        $connect.Wait($TimeoutMs) -and $client.Connected
    }
    catch { $false }
    finally { $client.Dispose() }
}

function Wait-RebuildTcpPort {
    param([Parameter(Mandatory)][string] $Address, [int] $Port = 22, [int] $TimeoutSec = 600, [string] $What = "$Address`:$Port")
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    while (-not (Test-RebuildTcpPort -Address $Address -Port $Port)) {
        if ($watch.Elapsed.TotalSeconds -ge $TimeoutSec) {
            throw [System.TimeoutException]::new("$What did not answer on TCP port $Port within $TimeoutSec s.")
        }
        Write-Progress -Id 3 -ParentId 2 -Activity "Waiting for $What" -Status "$([int]$watch.Elapsed.TotalSeconds) s of $TimeoutSec s"
        Start-Sleep -Milliseconds 250
    }
    Write-Progress -Id 3 -ParentId 2 -Activity "Waiting for $What" -Completed
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

# known_hosts lines a rebuild adds for an access host's first boot carry this comment, so they can be found and
# removed once the host offers its restored (old) key again. The old line clients trust is never touched.
$script:FirstBootKeyMarker = 'deevnet-rebuild-first-boot'

function Get-RebuildSshEndpoint {
    # Where the host's SSH is, as the tier says (its via, else its address on port 22).
    param([Parameter(Mandatory)] $Context)
    $via = $Context.Tier.ViaOf($Context.HostInfo.Host)
    [pscustomobject]@{ Host = $via.Host; Port = $(if ($via.Port) { $via.Port } else { 22 }) }
}

function Get-RebuildHostKey {
    # The host key the service's host offers, checked against the tier's known_hosts (the tier resolves its via).
    param([Parameter(Mandatory)] $Context, [switch] $Add)
    Get-DeevHostKey -HostName $Context.HostName -TierPath $Context.TierPath -Add:$Add
}

function Get-RebuildFirstBootLine {
    param([Parameter(Mandatory)][string] $KnownHostsPath, [Parameter(Mandatory)][string] $HostName)
    if (-not (Test-Path -LiteralPath $KnownHostsPath)) { return }
    Get-Content -LiteralPath $KnownHostsPath | Where-Object { $_ -match "\s$([regex]::Escape("$script:FirstBootKeyMarker`:$HostName"))\s*$" }
}

function Add-RebuildFirstBootLine {
    # Trust the new VM's first-boot key beside the recorded one, for this rebuild only.
    param([Parameter(Mandatory)] $Report, [Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)][string] $HostName)
    $lookup = if ($Endpoint.Port -eq 22) { $Endpoint.Host.ToLowerInvariant() } else { "[$($Endpoint.Host.ToLowerInvariant())]:$($Endpoint.Port)" }
    Add-Content -LiteralPath $Report.KnownHostsPath -Value "$lookup $($Report.KeyType) $($Report.Key.Base64) $script:FirstBootKeyMarker`:$HostName"
}

function Remove-RebuildFirstBootLine {
    param([Parameter(Mandatory)][string] $KnownHostsPath, [Parameter(Mandatory)][string] $HostName)
    $marker = "\s$([regex]::Escape("$script:FirstBootKeyMarker`:$HostName"))\s*$"
    $keep = @(Get-Content -LiteralPath $KnownHostsPath | Where-Object { $_ -notmatch $marker })
    $temporary = "$KnownHostsPath.rebuild-tmp"
    Set-Content -LiteralPath $temporary -Value $keep
    Move-Item -LiteralPath $temporary -Destination $KnownHostsPath -Force
}
