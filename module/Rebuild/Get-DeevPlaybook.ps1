function Get-DeevPlaybook {
    <#
    .SYNOPSIS
        Lists the rebuild playbooks and their steps, without running anything.

    .DESCRIPTION
        Reads every playbook (module/Playbooks/<Class>.ps1, and <Class>.ps1 files in the -PlaybookPath folders, which
        take precedence) and emits one object per step, in the order Invoke-DeevRebuild runs them: Class, Order, Step,
        Description and the playbook's Path. Reading a playbook only builds its list of steps; no step's Test or Invoke
        runs, no tier is read and no server is contacted.

        To add a playbook for a new class, drop <Class>.ps1 beside the others (or into a folder you pass with
        -PlaybookPath): a script that returns its steps, built with Get-RebuildStandardStep and New-RebuildStep.
        docs/rebuild-playbooks.md explains the step contract.

    .PARAMETER Class
        Only the playbooks of these classes (for example observability, automation, access). Default: all.

    .PARAMETER PlaybookPath
        Folders searched for <Class>.ps1 before the module's own playbooks.

    .EXAMPLE
        Get-DeevPlaybook -Class access

        Shows the access playbook's steps, including the restore of the jump host's SSH host keys.

    .EXAMPLE
        Get-DeevPlaybook | Format-Table -GroupBy Class Order, Step, Description

        Lists every playbook's steps, grouped by class.

    .OUTPUTS
        Deevnet.Extended.PlaybookStep
    #>
    [CmdletBinding()]
    [OutputType('Deevnet.Extended.PlaybookStep')]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)]
        [ArgumentCompleter([Deevnet.Extended.Completers.ServiceClassCompleter])]
        [string[]] $Class,

        [string[]] $PlaybookPath
    )

    process {
        try {
            $files = @(Get-RebuildPlaybookFile $PlaybookPath)
        }
        catch {
            $PSCmdlet.ThrowTerminatingError((New-RebuildError $_ 'PlaybookPathInvalid' 'ObjectNotFound' ($PlaybookPath -join ', ')))
        }
        if ($Class) {
            foreach ($wanted in $Class) {
                if (-not ($files | Where-Object Class -EQ $wanted)) {
                    $exception = [System.Management.Automation.ItemNotFoundException]::new("There is no rebuild playbook for the class '$wanted'.")
                    $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'PlaybookNotFound', 'ObjectNotFound', $wanted))
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
                $PSCmdlet.WriteError((New-RebuildError $_ 'PlaybookInvalid' 'InvalidData' $file.Path))
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
