# Deevnet.Extended script layer.
#
# The compiled cmdlets (module/bin/Deevnet.Extended.dll) are the root module; this nested script module holds the
# parts that are better as script: the rebuild framework (module/Rebuild/*.ps1), which runs the playbooks in
# module/Playbooks/<Class>.ps1, and the Pester helpers (module/Pester/*.ps1). It defines no globals, and exports
# exactly the functions the manifest lists in FunctionsToExport.

Set-StrictMode -Version 3.0

foreach ($scriptFile in @(
        Get-ChildItem -Path (Join-Path $PSScriptRoot 'Rebuild'), (Join-Path $PSScriptRoot 'Pester') -Filter '*.ps1' -File -ErrorAction Ignore |
            Sort-Object FullName)) {
    . $scriptFile.FullName
}
Remove-Variable scriptFile -ErrorAction Ignore

Export-ModuleMember -Function @((Import-PowerShellDataFile (Join-Path $PSScriptRoot '../Deevnet.Extended.psd1')).FunctionsToExport)
