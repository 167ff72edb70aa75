@{
    # The compiled cmdlets are the root module; the thin script layer (rebuild playbooks, Pester helpers) is nested.
    # `build.ps1 Build` puts the dll into module/bin, so this manifest imports from the repository root as well as
    # from an installed copy (the package keeps the same layout).
    RootModule           = 'module/bin/Deevnet.Extended.dll'
    NestedModules        = @('module/Deevnet.Extended.psm1')
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f5e64-6f4e-4a1d-9a57-2f7f3c1f9d21'
    Author               = 'Deevnet'
    CompanyName          = 'Deevnet'
    Copyright            = '(c) Deevnet. All rights reserved.'
    Description          = 'Builds, verifies, backs up and rebuilds the extended services tier of a Deevnet site: deterministic identity, management VMs, DHCP reservations, DNS records, checks, backups and rebuild playbooks.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @(
        'module/Formats/Tier.Format.ps1xml'
        'module/Formats/Transport.Format.ps1xml'
        'module/Formats/Dhcp.Format.ps1xml'
        'module/Formats/Vm.Format.ps1xml'
        'module/Formats/Dns.Format.ps1xml'
        'module/Formats/Rebuild.Format.ps1xml'
        'module/Formats/Checks.Format.ps1xml'
        'module/Formats/Backup.Format.ps1xml'
        'module/Formats/Journal.Format.ps1xml'
        'module/Formats/Drift.Format.ps1xml'
    )
    CmdletsToExport      = @(
        'Get-DeevTier'
        'Get-DeevMgmtHost'
        'Get-DeevService'
        'ConvertFrom-DeevAnsibleInventory'
        'Get-DeevHostIdentity'
        'New-DeevHostIdentity'
        'Test-DeevHostIdentity'
        'Get-DeevHostKey'
        'Remove-DeevHostKey'
        'Invoke-DeevHostCommand'
        'Get-DeevDhcpReservation'
        'Set-DeevDhcpReservation'
        'Remove-DeevDhcpReservation'
        'Sync-DeevDhcpReservation'
        'New-DeevMgmtVm'
        'Get-DeevMgmtVm'
        'Wait-DeevMgmtHost'
        'Start-DeevMgmtVm'
        'Stop-DeevMgmtVm'
        'Remove-DeevMgmtVm'
        'Test-DeevExtendedTier', 'Get-DeevChange'
        'Compare-DeevTier'
        'Invoke-DeevPlan'
        'Get-DeevDnsRecord'
        'Set-DeevDnsRecord'
        'Remove-DeevDnsRecord'
        'Sync-DeevDnsRecord'
        'Backup-DeevService'
        'Get-DeevBackup'
        'Test-DeevBackup'
        'Restore-DeevService'
    )
    FunctionsToExport    = @(
        'Invoke-DeevRebuild'
        'Get-DeevPlaybook'
    )
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Deevnet', 'DHCP', 'DNS', 'Proxmox', 'libvirt', 'Infrastructure', 'Linux')
            ProjectUri = 'https://github.com/deevnet/Deevnet.Extended'
        }
    }
}
