<#
.SYNOPSIS
    Generates the module's MAML help (en-US/Deevnet.Extended.dll-Help.xml, beside the manifest) from docs/cmdlets/*.md.
.DESCRIPTION
    platyPS is not available from our package feed, so this does its job for our one markdown shape:
    the prose (synopsis, description, parameter texts, examples) comes from docs/cmdlets/<Verb-Noun>.md and the
    facts (parameter sets, types, positions, pipeline input) come from the compiled cmdlets themselves, so help
    can never disagree with the code about what a parameter is. Run in a process of its own: it loads the dll.
#>
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = Split-Path $PSScriptRoot -Parent
$docs = Join-Path $root 'docs/cmdlets'
$manifest = Import-PowerShellDataFile (Join-Path $root 'Deevnet.Extended.psd1')
$dll = Join-Path $root 'module/bin/Deevnet.Extended.dll'
Import-Module $dll -Force
# -WhatIf and -Confirm (the optional common parameters) are part of a ShouldProcess cmdlet's syntax, as Get-Help shows
# them for PowerShell's own cmdlets; only the always-present common parameters are left to <CommonParameters>.
$common = [System.Management.Automation.Cmdlet]::CommonParameters
$projectUri = $manifest.PrivateData.PSData.ProjectUri
$standardText = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs: the plan it would apply. Nothing is changed.'
    Confirm = 'Prompts for confirmation before each change.'
}

function Read-CmdletMarkdown {
    # Splits a help markdown file into synopsis, description, parameter texts and examples.
    param([string] $Path)
    $doc = @{ Synopsis = ''; Description = @(); Parameters = @{}; Examples = @(); Related = @() }
    $section = ''; $current = $null; $buffer = [System.Collections.Generic.List[string]]::new()
    $flush = {
        $text = ($buffer -join "`n").Trim()
        switch ($section) {
            'SYNOPSIS' { $doc.Synopsis = $text }
            'DESCRIPTION' { $doc.Description = @($text -split "`n\s*`n" | ForEach-Object { $_.Trim() } | Where-Object { $_ }) }
            'PARAMETERS' { if ($current) { $doc.Parameters[$current] = $text } }
            'RELATED' { $doc.Related = @($text -split "`n" | ForEach-Object { $_.Trim().TrimStart('-', '*').Trim() } | Where-Object { $_ }) }
            'EXAMPLES' {
                if ($current) {
                    $code = ''; $remarks = $text
                    if ($text -match '(?s)```(?:powershell)?\s*\n(.*?)\n```(.*)') { $code = $Matches[1].Trim(); $remarks = $Matches[2].Trim() }
                    $doc.Examples += [pscustomobject]@{ Title = $current; Code = $code; Remarks = $remarks }
                }
            }
        }
        $buffer.Clear()
    }
    $inFence = $false
    foreach ($line in Get-Content $Path) {
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^## (\w+)') { & $flush; $section = $Matches[1].ToUpperInvariant(); $current = $null; continue }
        if (-not $inFence -and $line -match '^### (.+)$' -and $section -in 'PARAMETERS', 'EXAMPLES') {
            & $flush; $current = $Matches[1].Trim().TrimStart('-'); continue
        }
        if (-not $inFence -and $line -match '^# ') { continue }
        $buffer.Add($line)
    }
    & $flush
    $doc
}

function ConvertTo-XmlText([string] $Text) { [System.Security.SecurityElement]::Escape($Text) }

function Get-ParaXml([string] $Text) {
    (@($Text -split "`n\s*`n") | Where-Object { $_.Trim() } | ForEach-Object { "<maml:para>$(ConvertTo-XmlText (($_ -split "`n" | ForEach-Object Trim) -join ' '))</maml:para>" }) -join ''
}

function Get-PipelineText($p) {
    $kinds = @()
    if ($p.ValueFromPipeline) { $kinds += 'ByValue' }
    if ($p.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

function Get-TypeName([type] $Type) {
    # What a user types, not what the runtime calls it: Int32 for Nullable`1[Int32], String[] for arrays.
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { return $underlying.Name }
    $Type.Name
}

function Get-ParameterXml($name, $setParam, $metadata, [string] $description) {
    $type = $metadata.ParameterType
    $isSwitch = $type -eq [switch]
    if (-not $description -and $standardText.ContainsKey($name)) { $description = $standardText[$name] }
    $globbing = [bool]($metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $position = if ($setParam -and $setParam.Position -ge 0) { $setParam.Position } else { 'named' }
    $required = if ($setParam) { $setParam.IsMandatory.ToString().ToLowerInvariant() } else { 'false' }
    $pipeline = if ($setParam) { Get-PipelineText $setParam } else { 'False' }
    $aliases = if ($metadata.Aliases.Count) { $metadata.Aliases -join ', ' } else { 'none' }
    $value = if ($isSwitch) { '' } else { "<command:parameterValue required=`"true`" variableLength=`"false`">$(ConvertTo-XmlText (Get-TypeName $type))</command:parameterValue>" }
    "<command:parameter required=`"$required`" variableLength=`"true`" globbing=`"$($globbing.ToString().ToLowerInvariant())`" pipelineInput=`"$pipeline`" position=`"$position`" aliases=`"$(ConvertTo-XmlText $aliases)`">" +
    "<maml:name>$name</maml:name><maml:description>$(Get-ParaXml $description)</maml:description>$value" +
    "<dev:type><maml:name>$(ConvertTo-XmlText (Get-TypeName $type))</maml:name></dev:type></command:parameter>"
}

function Get-InputTypeXml($command) {
    # INPUTS: what the pipeline can carry into the cmdlet. By value: the parameter's type; by property name: any
    # object with those properties (a Deevnet object from another cmdlet of the module, usually).
    $byValue = @(); $byName = @()
    foreach ($p in $command.Parameters.Values | Where-Object { $_.Name -notin $common }) {
        foreach ($set in $p.ParameterSets.Values) {
            if ($set.ValueFromPipeline) { $byValue += $p }
            if ($set.ValueFromPipelineByPropertyName) { $byName += $p }
        }
    }
    $items = foreach ($p in $byValue | Sort-Object Name -Unique) {
        "<command:inputType><dev:type><maml:name>$(ConvertTo-XmlText (Get-TypeName $p.ParameterType))</maml:name></dev:type>" +
        "<maml:description><maml:para>Bound to -$($p.Name).</maml:para></maml:description></command:inputType>"
    }
    $names = @($byName | Sort-Object Name -Unique | ForEach-Object { $_.Name + $(if ($_.Aliases.Count) { " ($($_.Aliases -join ', '))" }) })
    if ($names) {
        $items += "<command:inputType><dev:type><maml:name>System.Management.Automation.PSObject</maml:name></dev:type>" +
            "<maml:description><maml:para>$(ConvertTo-XmlText "Any object with these properties, bound by property name: $($names -join ', ').")</maml:para></maml:description></command:inputType>"
    }
    if (-not $items) { $items = "<command:inputType><dev:type><maml:name>None</maml:name></dev:type><maml:description><maml:para>This cmdlet takes no pipeline input.</maml:para></maml:description></command:inputType>" }
    $items -join ''
}

function Get-RelatedLinkXml([string] $Name, $doc) {
    # The online page first (Get-Help -Online opens the first link with a URI), then the other cmdlets of the same
    # noun, the links the markdown names, and the concepts topic.
    $links = @("<maml:navigationLink><maml:linkText>Online version:</maml:linkText><maml:uri>$projectUri/blob/main/docs/cmdlets/$Name.md</maml:uri></maml:navigationLink>")
    $noun = ($Name -split '-', 2)[1]
    $siblings = @($manifest.CmdletsToExport | Where-Object { $_ -ne $Name -and ($_ -split '-', 2)[1] -eq $noun })
    foreach ($link in @($siblings) + @($doc.Related) + @('about_Deevnet_Extended') | Where-Object { $_ } | Select-Object -Unique) {
        $links += "<maml:navigationLink><maml:linkText>$(ConvertTo-XmlText $link)</maml:linkText><maml:uri /></maml:navigationLink>"
    }
    $links -join ''
}

$items = foreach ($name in $manifest.CmdletsToExport) {
    $command = Get-Command $name -CommandType Cmdlet -ErrorAction SilentlyContinue
    if (-not $command) { Write-Warning "Help: $name is exported but not compiled."; continue }
    $mdPath = Join-Path $docs "$name.md"
    if (-not (Test-Path $mdPath)) { Write-Warning "Help: no $mdPath; $name gets no help."; continue }
    $doc = Read-CmdletMarkdown $mdPath
    $verb, $noun = $name -split '-', 2
    $own = $command.Parameters.Values | Where-Object { $_.Name -notin $common }
    $syntax = foreach ($set in $command.ParameterSets) {
        # Positional parameters first, in position order, as Get-Help shows PowerShell's own cmdlets.
        $ordered = $set.Parameters | Where-Object { $_.Name -notin $common } | Sort-Object -Stable { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } }
        $params = foreach ($sp in $ordered) {
            Get-ParameterXml $sp.Name $sp $command.Parameters[$sp.Name] $doc.Parameters[$sp.Name]
        }
        "<command:syntaxItem><maml:name>$name</maml:name>$($params -join '')</command:syntaxItem>"
    }
    $parameters = foreach ($p in $own) {
        $firstSet = $p.ParameterSets.Values | Select-Object -First 1
        $fake = [pscustomobject]@{ Position = $firstSet.Position; IsMandatory = $firstSet.IsMandatory; ValueFromPipeline = $firstSet.ValueFromPipeline; ValueFromPipelineByPropertyName = $firstSet.ValueFromPipelineByPropertyName }
        Get-ParameterXml $p.Name $fake $p $doc.Parameters[$p.Name]
    }
    $i = 0
    $examples = foreach ($e in $doc.Examples) {
        $i++
        "<command:example><maml:title>-------------------------- $(ConvertTo-XmlText $e.Title) --------------------------</maml:title>" +
        "<dev:code>$(ConvertTo-XmlText $e.Code)</dev:code><dev:remarks>$(Get-ParaXml $e.Remarks)</dev:remarks></command:example>"
    }
    $outputs = foreach ($t in $command.OutputType) {
        "<command:returnValue><dev:type><maml:name>$(ConvertTo-XmlText $t.Name)</maml:name></dev:type></command:returnValue>"
    }
    @"
<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">
<command:details><command:name>$name</command:name><command:verb>$verb</command:verb><command:noun>$noun</command:noun>
<maml:description><maml:para>$(ConvertTo-XmlText $doc.Synopsis)</maml:para></maml:description></command:details>
<maml:description>$(($doc.Description | ForEach-Object { Get-ParaXml $_ }) -join '')</maml:description>
<command:syntax>$($syntax -join '')</command:syntax>
<command:parameters>$($parameters -join '')</command:parameters>
<command:inputTypes>$(Get-InputTypeXml $command)</command:inputTypes>
<command:returnValues>$($outputs -join '')</command:returnValues>
<command:examples>$($examples -join '')</command:examples>
<command:relatedLinks>$(Get-RelatedLinkXml $name $doc)</command:relatedLinks>
</command:command>
"@
}

$xml = "<?xml version=`"1.0`" encoding=`"utf-8`"?>`n<helpItems schema=`"maml`" xmlns=`"http://msh`">`n$($items -join "`n")`n</helpItems>`n"
# PowerShell looks for a binary module's MAML only in <ModuleBase>/<culture>, and ModuleBase is the folder of
# the manifest (the repository root), not of the dll.
$target = Join-Path $root 'en-US'
New-Item -ItemType Directory -Force -Path $target | Out-Null
[xml]$xml | Out-Null   # fail here, not at Get-Help time, if the document is malformed
Set-Content -Path (Join-Path $target 'Deevnet.Extended.dll-Help.xml') -Value $xml -Encoding utf8NoBOM
# The concepts topic: Get-Help about_Deevnet_Extended reads <ModuleBase>/en-US/about_*.help.txt as plain text.
Copy-Item -LiteralPath (Join-Path $root 'docs/about_Deevnet_Extended.help.txt') -Destination (Join-Path $target 'about_Deevnet_Extended.help.txt') -Force
