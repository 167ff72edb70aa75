# The module's dependencies live in a load context of their own: a session that already loaded another YamlDotNet and
# another SSH.NET (as powershell-yaml and Posh-SSH do) can still import the module and use both of them.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    function New-FakeAssembly([string] $Name, [string] $Version, [string] $Source) {
        # A real assembly with the other module's name and version, built here so the test needs no package feed.
        $dir = Join-Path $TestDrive $Name
        New-Item -ItemType Directory -Force -Path $dir | Out-Null
        Set-Content (Join-Path $dir 'fake.csproj') '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net8.0</TargetFramework><ImplicitUsings>disable</ImplicitUsings></PropertyGroup></Project>'
        Set-Content (Join-Path $dir 'Fake.cs') $Source
        $log = & dotnet build $dir -c Release -o (Join-Path $dir 'out') "-p:AssemblyName=$Name" "-p:Version=$Version" --nologo 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($log -join "`n")
        Join-Path $dir "out/$Name.dll"
    }

    $script:yaml = New-FakeAssembly 'YamlDotNet' '11.0.0' 'namespace YamlDotNet.RepresentationModel { public class YamlStream { } }'
    $script:ssh = New-FakeAssembly 'Renci.SshNet' '2020.0.0' 'namespace Renci.SshNet { public class SshClient { } }'
    $script:closed = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $closed.Start(); $script:port = $closed.LocalEndpoint.Port; $closed.Stop()   # a port nothing listens on
    $script:key = Join-Path $TestDrive 'id_ed25519'
    & ssh-keygen -q -t ed25519 -N '' -f $key | Out-Null
}

Describe 'Dependency isolation' {
    It 'imports and works in a session that loaded another YamlDotNet and SSH.NET first' {
        $script = @"
`$ErrorActionPreference = 'Stop'
Add-Type -Path '$yaml'
Add-Type -Path '$ssh'
Import-Module '$ManifestPath'
'tier:' + (Get-DeevTier -TierPath '$(Join-Path $RepoRoot 'examples/lab.tier.yaml')').Name
try { Invoke-DeevHostCommand -Via ssh://root@127.0.0.1:$port -KeyFile '$key' -KnownHostsPath '$(Join-Path $TestDrive 'known_hosts')' -Command true }
catch { 'ssh:' + `$_.FullyQualifiedErrorId.Split(',')[0] }
foreach (`$a in [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -in 'YamlDotNet', 'Renci.SshNet' }) {
    'loaded:' + `$a.GetName().Name + ' ' + `$a.GetName().Version + ' ' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$a).Name
}
"@
        $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script 2>&1
        $text = $output -join "`n"
        $output | Should -Contain 'tier:lab' -Because $text
        # The SSH attempt ran our SSH.NET to the end: a refused connection, not a type or load failure.
        $output | Should -Contain 'ssh:ConnectionFailed' -Because $text
        # Both versions live side by side: the session's in the default context, the module's in its own.
        $output | Should -Contain 'loaded:YamlDotNet 11.0.0.0 Default' -Because $text
        $output | Should -Contain 'loaded:Renci.SshNet 2020.0.0.0 Default' -Because $text
        ($output | Where-Object { $_ -like 'loaded:YamlDotNet 18.*Deevnet.Extended dependencies' }) | Should -Not -BeNullOrEmpty -Because $text
        ($output | Where-Object { $_ -like 'loaded:Renci.SshNet 2026.*Deevnet.Extended dependencies' }) | Should -Not -BeNullOrEmpty -Because $text
    }
}
