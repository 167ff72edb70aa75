# Deevnet.Extended script layer.
#
# The compiled cmdlets (module/bin/Deevnet.Extended.dll) are the root module; this nested script module holds the
# parts that are better as script: the rebuild playbook loader (module/Playbooks/<Class>.ps1) and the Pester
# helpers. It defines no globals; every function it exports is listed in the manifest's FunctionsToExport.

Set-StrictMode -Version 3.0
