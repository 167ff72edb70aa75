@{
    # The compiled cmdlets are the module. The thin script layer (module/ScriptLayer.ps1: the rebuild framework that
    # runs the playbooks, the Pester helpers) is not a nested module: Invoke-DeevRebuild and Get-DeevPlaybook load it
    # on first use, so an import that rebuilds nothing does not pay for it.
    # `build.ps1 Build` puts the dll into module/bin, so this manifest imports from the repository root as well as
    # from an installed copy (the package keeps the same layout).
    RootModule           = 'module/bin/Deevnet.Extended.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f5e64-6f4e-4a1d-9a57-2f7f3c1f9d21'
    Author               = 'Deevnet'
    CompanyName          = 'Deevnet'
    Copyright            = '(c) Deevnet. All rights reserved.'
    Description          = 'Builds, verifies, backs up and rebuilds the extended services tier of a Deevnet site: deterministic identity, management VMs, DHCP reservations, DNS records, checks, backups and rebuild playbooks.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('module/Formats/Deevnet.Extended.Format.ps1xml')
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
        'Invoke-DeevRebuild'
        'Get-DeevPlaybook'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Deevnet', 'DHCP', 'DNS', 'Proxmox', 'libvirt', 'Infrastructure', 'Linux')
            ProjectUri = 'https://github.com/deevnet/Deevnet.Extended'
        }
    }
}
