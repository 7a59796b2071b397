#Requires -Version 5.1
#Requires -RunAsAdministrator
<#
.SYNOPSIS
Undoes what install.ps1 changed on this Windows machine for the autodisco lab.

.DESCRIPTION
Written by `autodisco kit windows` (docs/real-outlook.md in the autodisco repository). It
reads autodisco-kit-state.json, which install.ps1 wrote next to it, and puts back what was
there before: each Outlook Autodiscover registry value (its type and data, or its absence),
the registry keys install.ps1 created (when they are empty again), Outlook's cached
Autodiscover answers (the lab's are deleted), each adapter's DNS servers (typed-in servers
again, or those from DHCP), and the lab CA (removed by its thumbprint unless it was trusted
before). Then it flushes the DNS client cache and deletes the state file. Running it again,
or after a run that stopped half-way, is harmless. Close Outlook first.

.EXAMPLE
powershell.exe -ExecutionPolicy Bypass -File .\uninstall.ps1
#>
[CmdletBinding()]
param()

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

# --- Written by `autodisco kit windows` -----------------------------------------------------
# Client model outlook-2016-msi: Outlook 2016 MSI, Office 16.0.
# Scenario expired-root-cert (scenarios/founding/expired-root-cert.yaml).
# --set ExcludeExplicitO365Endpoint=1 ExcludeLastKnownGoodUrl=1
# What to put back comes from the state file install.ps1 wrote.
$Kit = @{
  Model = 'outlook-2016-msi'
}

# --- Shared by install.ps1 and uninstall.ps1 ------------------------------------------------

# Windows PowerShell 5.1 writes an array held in an object as {"value":[...],"Count":n} while
# its extra type data for System.Array is loaded; the state file must read back as written.
Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue

$StatePath = Join-Path $PSScriptRoot 'autodisco-kit-state.json'
$BackupDir = Join-Path $PSScriptRoot 'autodisco-kit-backup'
$StateFormat = 'autodisco-kit-state/1'
# A machine-wide note naming the installed kit's state file, so that a second kit does not
# take the first kit's changes for the machine's original state.
$MarkerPath = 'HKLM:\SOFTWARE\autodisco'
$MarkerName = 'KitState'
# Outlook's cached Autodiscover answers: "<profile> - Autodiscover.xml" and, from Outlook 2016,
# AutoD.*.xml, in %LOCALAPPDATA%\Microsoft\Outlook and its version folder (16, 15).
$CachePatterns = @('AutoD*.xml', '*Autodiscover*.xml')
$script:State = $null
$script:HiveRoot = ''

function Write-Step([string]$Text) {
  Write-Host "autodisco: $Text"
}

function Confirm-OutlookClosed {
  if (@(Get-Process -Name 'OUTLOOK' -ErrorAction SilentlyContinue).Count -gt 0) {
    throw 'Outlook is running: close it, wait until OUTLOOK.EXE has left Task Manager, and run this again'
  }
}

function Read-KitState {
  try {
    $s = Get-Content -LiteralPath $StatePath -Raw -Encoding UTF8 | ConvertFrom-Json
  } catch {
    throw "cannot read ${StatePath}: $($_.Exception.Message)"
  }
  if ($null -eq $s -or @($s.PSObject.Properties.Name) -notcontains 'Format' -or $s.Format -ne $StateFormat) {
    throw "$StatePath is not an autodisco kit state file ($StateFormat)"
  }
  foreach ($list in @('Dns', 'Registry', 'CreatedKeys', 'CacheFolders')) {
    $s.$list = @($s.$list | Where-Object { $null -ne $_ })
  }
  return $s
}

function Save-KitState {
  # Written before each change it records, through a temporary file: a run that stops half-way
  # leaves a state file that uninstall.ps1 can still use.
  $json = ConvertTo-Json -InputObject $script:State -Depth 8
  $tmp = "$StatePath.tmp"
  [System.IO.File]::WriteAllText($tmp, $json, (New-Object System.Text.UTF8Encoding -ArgumentList $false))
  Move-Item -LiteralPath $tmp -Destination $StatePath -Force
}

function Get-HiveRoot([string]$Sid) {
  # HKEY_USERS\<SID> is HKEY_CURRENT_USER of the user who runs Outlook, whoever runs this script.
  $root = "Registry::HKEY_USERS\$Sid"
  if (-not (Test-Path -LiteralPath $root)) {
    throw "the registry of the user $Sid is not loaded: that user must stay logged on (switch user, do not sign out) while this runs"
  }
  return $root
}

function Get-CacheFiles([string[]]$Folders) {
  $files = @{}
  foreach ($folder in $Folders) {
    if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
      continue
    }
    foreach ($pattern in $CachePatterns) {
      foreach ($file in @(Get-ChildItem -LiteralPath $folder -Filter $pattern -File -Force)) {
        $files[$file.FullName] = $file
      }
    }
  }
  return @($files.Values | Sort-Object -Property FullName)
}

# --- Uninstall -------------------------------------------------------------------------------

function Restore-RegistryValue($Record) {
  $path = "$script:HiveRoot\$($Record.Key)"
  if ($Record.Present) {
    if (-not (Test-Path -LiteralPath $path)) {
      New-Item -Path $path -Force | Out-Null
    }
    $kind = [string]$Record.Kind
    switch ($kind) {
      'DWord' { $data = [int]$Record.Data }
      'QWord' { $data = [long]$Record.Data }
      'MultiString' { $data = [string[]]@($Record.Data | Where-Object { $null -ne $_ }) }
      'String' { $data = [string]$Record.Data }
      'ExpandString' { $data = [string]$Record.Data }
      default {
        # Binary, and the rare None or Unknown kinds, were saved as base64 bytes.
        $data = [Convert]::FromBase64String([string]$Record.Data)
        if ($kind -ne 'Binary') {
          Write-Warning "$($Record.Key)\$($Record.Name) was of kind ${kind}: restored as REG_BINARY"
          $kind = 'Binary'
        }
      }
    }
    New-ItemProperty -LiteralPath $path -Name $Record.Name -PropertyType $kind -Value $data -Force | Out-Null
  } elseif ((Test-Path -LiteralPath $path) -and (@((Get-Item -LiteralPath $path).GetValueNames()) -contains $Record.Name)) {
    Remove-ItemProperty -LiteralPath $path -Name $Record.Name
  }
}

function Restore-DnsServers($Record) {
  $adapter = @(Get-NetAdapter -IncludeHidden | Where-Object { [string]$_.InterfaceGuid -eq $Record.Guid })
  if ($adapter.Count -eq 0) {
    Write-Warning "the adapter $($Record.Alias) $($Record.Guid) is gone: its DNS servers were not restored"
    return
  }
  $index = $adapter[0].ifIndex
  $servers = @(@($Record.IPv4 | Where-Object { $_ }) + @($Record.IPv6 | Where-Object { $_ }))
  Set-DnsClientServerAddress -InterfaceIndex $index -ResetServerAddresses
  if ($servers.Count -gt 0) {
    Set-DnsClientServerAddress -InterfaceIndex $index -ServerAddresses $servers
    Write-Step "$($Record.Alias) asks $($servers -join ', ') again"
  } else {
    Write-Step "$($Record.Alias) takes its DNS servers from DHCP again"
  }
}

function Remove-KitMarker {
  if (Test-Path -LiteralPath $MarkerPath) {
    $item = Get-Item -LiteralPath $MarkerPath
    if (@($item.GetValueNames()) -contains $MarkerName -and [string]$item.GetValue($MarkerName) -eq $StatePath) {
      Remove-ItemProperty -LiteralPath $MarkerPath -Name $MarkerName
    }
    $item = Get-Item -LiteralPath $MarkerPath
    if ($null -ne $script:State.Marker -and $script:State.Marker.KeyCreated -and $item.SubKeyCount -eq 0 -and $item.ValueCount -eq 0) {
      Remove-Item -LiteralPath $MarkerPath
    }
  }
}

if (-not (Test-Path -LiteralPath $StatePath)) {
  Write-Step "nothing to undo: there is no $StatePath (install.ps1 did not run from this folder, or uninstall.ps1 already ran)"
  return
}
Confirm-OutlookClosed
$script:State = Read-KitState
$script:HiveRoot = Get-HiveRoot $script:State.Sid

# 1. Registry values, newest first, then the keys install.ps1 created, deepest first.
$records = @($script:State.Registry)
[array]::Reverse($records)
foreach ($record in $records) {
  Restore-RegistryValue $record
}
$script:State.Registry = @()
Save-KitState
Write-Step "restored $($records.Count) registry value(s) of HKEY_USERS\$($script:State.Sid)"
$keys = @($script:State.CreatedKeys)
[array]::Reverse($keys)
foreach ($key in $keys) {
  $path = "$script:HiveRoot\$key"
  if (Test-Path -LiteralPath $path) {
    $item = Get-Item -LiteralPath $path
    if ($item.SubKeyCount -eq 0 -and $item.ValueCount -eq 0) {
      Remove-Item -LiteralPath $path
    } else {
      Write-Step "kept $key, which install.ps1 created: Outlook has written to it since"
    }
  }
}
$script:State.CreatedKeys = @()
Save-KitState

# 2. Outlook's cached Autodiscover answers: the lab's go, the earlier ones come back.
if ($null -ne $script:State.Cache) {
  if (-not $script:State.Cache.Cleared) {
    foreach ($file in (Get-CacheFiles @($script:State.CacheFolders))) {
      Remove-Item -LiteralPath $file.FullName -Force
    }
    $script:State.Cache.Cleared = $true
    Save-KitState
  }
  $n = 0
  foreach ($entry in @($script:State.Cache.Files | Where-Object { $null -ne $_ })) {
    $saved = Join-Path $BackupDir $entry.Saved
    if (Test-Path -LiteralPath $saved) {
      Move-Item -LiteralPath $saved -Destination $entry.Path -Force
      $n++
    }
  }
  $script:State.Cache = $null
  Save-KitState
  if ((Test-Path -LiteralPath $BackupDir) -and @(Get-ChildItem -LiteralPath $BackupDir -Force).Count -eq 0) {
    Remove-Item -LiteralPath $BackupDir
  }
  Write-Step "put back $n cached Autodiscover answer(s)"
}

# 3. DNS servers.
foreach ($record in @($script:State.Dns)) {
  Restore-DnsServers $record
}
$script:State.Dns = @()
Save-KitState

# 4. The lab CA, unless it was trusted before install.ps1 ran.
if ($null -ne $script:State.Certificate) {
  $storePath = "Cert:\LocalMachine\Root\$($script:State.Certificate.Thumbprint)"
  if (-not $script:State.Certificate.WasPresent -and (Test-Path -LiteralPath $storePath)) {
    Remove-Item -LiteralPath $storePath
    Write-Step "removed the lab CA $($script:State.Certificate.Thumbprint) from the trusted roots"
  }
  $script:State.Certificate = $null
  Save-KitState
}

# 5. Nothing the lab answered may stay cached; then the kit's own traces go.
Clear-DnsClientCache
Remove-KitMarker
Remove-Item -LiteralPath $StatePath
Write-Step "done: the machine is as it was before install.ps1 ($($Kit.Model) kit)"
