# Observability: metrics, logs and alerting. Its data lives on a data disk, so the VM must have that disk before
# anything is restored onto it, and the rebuild is done only when the service's declared checks prove that
# metrics and logs flow again.
Get-RebuildStandardStep Identity, DhcpReservation, DnsRecords, Vm
Get-RebuildStandardStep DataDisk -Description 'The VM has its data disk (found by serial, at least the size the tier asks for), where metrics and logs are kept.'
Get-RebuildStandardStep WaitForSsh, HostKey, Configure, Restore
Get-RebuildStandardStep Verify -Description 'Test-DeevExtendedTier passes for the service: its declared checks prove metrics and logs flow (endpoints answer, data is served).'
