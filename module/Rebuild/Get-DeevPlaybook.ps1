function Get-DeevPlaybook {
    # The body of the compiled Get-DeevPlaybook (Commands/GetDeevPlaybookCommand.cs; its help is
    # docs/cmdlets/Get-DeevPlaybook.md); errors go out through -Caller, the cmdlet itself.
    [CmdletBinding()]
    [OutputType('Deevnet.Extended.PlaybookStep')]
    param(
        [string[]] $Class,

        [string[]] $PlaybookPath,

        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet] $Caller
    )

    process {
        try {
            $files = @(Get-RebuildPlaybookFile $PlaybookPath)
        }
        catch {
            $Caller.ThrowTerminatingError((New-RebuildError $_ 'PlaybookPathInvalid' 'ObjectNotFound' ($PlaybookPath -join ', ')))
        }
        if ($Class) {
            foreach ($wanted in $Class) {
                if (-not ($files | Where-Object Class -EQ $wanted)) {
                    $exception = [System.Management.Automation.ItemNotFoundException]::new("There is no rebuild playbook for the class '$wanted'.")
                    $Caller.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'PlaybookNotFound', 'ObjectNotFound', $wanted))
                }
            }
            $files = @($files | Where-Object { $Class -contains $_.Class })
        }
        $files = @($files | Sort-Object @{ Expression = { Get-RebuildClassRank $_.Class } }, Class)
        foreach ($file in $files) {
            try {
                $playbook = Read-RebuildPlaybook $file
            }
            catch {
                $Caller.WriteError((New-RebuildError $_ 'PlaybookInvalid' 'InvalidData' $file.Path))
                continue
            }
            $order = 0
            foreach ($step in $playbook.Steps) {
                [pscustomobject]@{
                    PSTypeName  = 'Deevnet.Extended.PlaybookStep'
                    Class       = $playbook.Class
                    Order       = ++$order
                    Step        = $step.Name
                    Description = $step.Description
                    Playbook    = $playbook.Description
                    Path        = $playbook.Path
                }
            }
        }
    }
}
