# Deevnet.Extended script layer.
#
# The compiled cmdlets (module/bin/Deevnet.Extended.dll) are the module; this file loads the parts that are better as
# script: the rebuild framework (module/Rebuild/*.ps1), which runs the playbooks in module/Playbooks/<Class>.ps1, and
# the Pester helpers (module/Pester/*.ps1). It is dot-sourced into a module of its own (Loading/ScriptLayer.cs) the
# first time Invoke-DeevRebuild or Get-DeevPlaybook runs, or at import when Pester is loaded, so an import that
# rebuilds nothing does not pay for it. Nothing here is exported: the compiled cmdlets call in.

Set-StrictMode -Version 3.0

foreach ($scriptFile in @(
        Get-ChildItem -Path (Join-Path $PSScriptRoot 'Rebuild'), (Join-Path $PSScriptRoot 'Pester') -Filter '*.ps1' -File -ErrorAction Ignore |
            Sort-Object FullName)) {
    . $scriptFile.FullName
}
Remove-Variable scriptFile -ErrorAction Ignore
