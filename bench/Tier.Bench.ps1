# Issue 2: what the foundation costs: loading + validating a generated 2,000-host tier, against a baseline measured
# in the same run. (Import cost: bench/Import.Bench.ps1.)
. (Join-Path $PSScriptRoot 'Common.ps1')
$manifest = Join-Path $RepoRoot 'Deevnet.Extended.psd1'

# A generated 2,000-host tier: full load and validation against parsing the same YAML with YamlDotNet alone.
Import-Module $manifest
$dir = Join-Path ([IO.Path]::GetTempPath()) ("deev-bench-" + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory -Path $dir | Out-Null
try {
    $sb = [System.Text.StringBuilder]::new()
    [void]$sb.AppendLine('site: { name: bench, domain: bench.deevnet.test, macNamespace: "02:de:77", vmidRange: [100, 9999] }')
    [void]$sb.AppendLine('segments:')
    foreach ($s in 0..7) { [void]$sb.AppendLine("  seg$($s): { vlan: $(100 + $s), subnet: 10.$(100 + $s).0.0/16, gateway: 10.$(100 + $s).0.1, addressing: reservation }") }
    [void]$sb.AppendLine('hosts:')
    foreach ($i in 0..1999) {
        $s = $i % 8; $n = [int][math]::Floor($i / 8) + 10
        $octet2 = 100 + $s; $octet3 = [int][math]::Floor($n / 250); $octet4 = ($n % 250) + 2; $vmid = 1000 + $i
        [void]$sb.AppendLine(("  h{0:d4}: {{ segment: seg{1}, ip: 10.{2}.{3}.{4}, vmid: {5}, cores: 2, memory: 2048 }}" -f $i, $s, $octet2, $octet3, $octet4, $vmid))
    }
    [void]$sb.AppendLine('services:')
    foreach ($i in 0..1999) {
        [void]$sb.AppendLine(("  svc{0:d4}: {{ class: observability, host: h{0:d4}, names: [n{0:d4}], checks: [ {{ tcp: 22 }} ], backup: {{ none: bench }} }}" -f $i))
    }
    $text = $sb.ToString()
    $script:n = 0
    $load = Measure-Median -Count 7 {
        # A new file each time: the loader caches by path and write time, and this measures a cold load.
        $script:n++
        $path = Join-Path $dir "bench$script:n.tier.yaml"
        [IO.File]::WriteAllText($path, $text)
        Get-DeevTier -TierPath $path
    }
    # YamlDotNet is the module's own copy, loaded where the module loads it (not visible to PowerShell's type
    # names): take the type from the loaded assembly.
    $yaml = [AppDomain]::CurrentDomain.GetAssemblies().Where({ $_.GetName().Name -eq 'YamlDotNet' }, 'First')
    if (-not $yaml) { throw 'YamlDotNet is not loaded after Get-DeevTier.' }
    $yamlStream = $yaml[0].GetType('YamlDotNet.RepresentationModel.YamlStream', $true)
    $parse = Measure-Median -Count 7 {
        $stream = $yamlStream::new()
        $stream.Load([IO.StringReader]::new($text))
    }
    Write-BenchResult -What 'load + validate 2,000-host tier' -ValueMs $load -BaselineName 'YamlDotNet parse only' -BaselineMs $parse -Goal '< 300 ms'
}
finally {
    Remove-Item $dir -Recurse -Force
}
