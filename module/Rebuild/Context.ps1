# What one rebuild works on: the service, its one host, and the tier they come from; and the rule that a rebuild
# stays on that host (never a tenant segment, never another service's host).

# Dependency order of a whole-tier rebuild: access first, so the recovery paths come back first. Classes a user
# adds come last, alphabetically.
$script:RebuildClassOrder = @('Access', 'Automation', 'Observability')

function Get-RebuildClassRank {
    param([string] $Class)
    $rank = [array]::IndexOf($script:RebuildClassOrder, ($script:RebuildClassOrder | Where-Object { $_ -eq $Class } | Select-Object -First 1))
    if ($rank -lt 0) { $script:RebuildClassOrder.Count } else { $rank }
}

function Resolve-RebuildTierPath {
    # The tier file the cmdlets read (-TierPath, else $env:DEEV_TIER), resolved and loaded once by Get-DeevTier.
    param([string] $TierPath)
    $parameters = @{ ErrorAction = 'Stop' }
    if ($TierPath) { $parameters.TierPath = $TierPath }
    (Get-DeevTier @parameters).TierPath
}

function Select-RebuildService {
    # The services a rebuild covers, in dependency order (class rank, then the tier's own order).
    param([Parameter(Mandatory)][string] $TierPath, [string[]] $Service, [string[]] $Class, [switch] $All)
    $services = @(Get-DeevService -TierPath $TierPath -ErrorAction Stop)
    $picked = if ($All) { $services }
    elseif ($Class) { @($services | Where-Object { $Class -contains $_.Class.ToString() }) }
    else {
        foreach ($name in $Service) {
            $match = @($services | Where-Object Name -EQ $name)
            if (-not $match) {
                throw [System.Management.Automation.ItemNotFoundException]::new("The tier '$TierPath' has no service '$name'.")
            }
            $match
        }
    }
    $i = 0
    $indexed = foreach ($s in $picked) { [pscustomobject]@{ Rank = Get-RebuildClassRank $s.Class.ToString(); Index = $i++; Service = $s } }
    $seen = @{}
    foreach ($entry in @($indexed | Sort-Object Rank, Index)) {
        if ($seen.ContainsKey($entry.Service.Name)) { continue }   # named twice: rebuilt once
        $seen[$entry.Service.Name] = $true
        $entry.Service
    }
}

function New-RebuildContext {
    # The $Rebuild object every step gets. Identity fields are refreshed by Update-RebuildContext after the
    # Identity step, so later steps see the VMID/MAC it allocated.
    param([Parameter(Mandatory)] $ServiceInfo, [Parameter(Mandatory)][string] $TierPath, [bool] $WhatIf, [bool] $AcceptChangedHostKey, $PinnedBackup)
    $context = [pscustomobject]@{
        PSTypeName    = 'Deevnet.Extended.RebuildContext'
        Service       = $ServiceInfo.Name
        Class         = $ServiceInfo.Class.ToString()
        HostName      = $ServiceInfo.HostName
        IPAddress     = $ServiceInfo.IPAddress
        Segment       = $ServiceInfo.Segment
        MacAddress    = $null
        VmId          = $null
        Fqdn          = $null
        Names         = @($ServiceInfo.Names)
        Configure     = @($ServiceInfo.Definition.Configure)
        TierPath      = $TierPath
        Tier          = (Get-DeevTier -TierPath $TierPath -ErrorAction Stop).Tier
        ServiceInfo   = $ServiceInfo
        HostInfo      = $null
        OtherServices = @(Get-DeevService -HostName $ServiceInfo.HostName -TierPath $TierPath -ErrorAction Stop | Where-Object Name -NE $ServiceInfo.Name | ForEach-Object Name)
        WhatIf        = $WhatIf
        # Trust a host key that is neither recorded nor the one handed in (Invoke-DeevRebuild -AcceptChangedHostKey).
        AcceptChangedHostKey = $AcceptChangedHostKey
        # From a saved plan: the backup (Name, archive Sha256) the Restore step uses instead of the newest good one.
        PinnedBackup  = $PinnedBackup
    }
    Update-RebuildContext $context
    $context
}

function Update-RebuildContext {
    param([Parameter(Mandatory)] $Context)
    $hostInfo = Get-DeevMgmtHost -Name $Context.HostName -TierPath $Context.TierPath -ErrorAction Stop | Select-Object -First 1
    $Context.HostInfo = $hostInfo
    $Context.MacAddress = $hostInfo.MacAddress
    $Context.VmId = $hostInfo.VmId
    $Context.Fqdn = $hostInfo.Fqdn
}

function Assert-RebuildTarget {
    # Before anything runs: the host is a management host on a non-tenant segment of this tier.
    param([Parameter(Mandatory)] $Context)
    if ($Context.HostInfo.IsTenantSegment) {
        throw (New-RebuildScopeError $Context "The host $($Context.HostName) of '$($Context.Service)' sits on '$($Context.Segment)', a tenant segment (or none): a rebuild never touches tenant segments.")
    }
}

function Assert-RebuildScope {
    # After a step: whatever it produced must be about the service's own host. A step that reached another host is
    # stopped here, before the next step builds on it.
    param([Parameter(Mandatory)] $Context, [object[]] $Object, [string] $Step)
    foreach ($item in $Object) {
        if ($null -eq $item -or $item -is [string] -or $item -is [ValueType]) { continue }
        $property = $item.PSObject.Properties['HostName']
        if ($property -and $property.Value -and $property.Value -ne $Context.HostName) {
            throw (New-RebuildScopeError $Context "Step '$Step' of '$($Context.Service)' acted on host '$($property.Value)'; this rebuild may only touch $($Context.HostName).")
        }
    }
}

function New-RebuildScopeError {
    param($Context, [string] $Message)
    $exception = [System.InvalidOperationException]::new($Message)
    $record = [System.Management.Automation.ErrorRecord]::new($exception, 'RebuildScopeViolation', 'SecurityError', $Context.Service)
    [System.Management.Automation.RuntimeException]::new($Message, $exception, $record)
}
