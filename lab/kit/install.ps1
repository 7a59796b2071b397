#Requires -Version 5.1
#Requires -RunAsAdministrator
<#
.SYNOPSIS
Points this Windows machine at an autodisco lab, for one Outlook client model.

.DESCRIPTION
Written by `autodisco kit windows` (docs/real-outlook.md in the autodisco repository). It
 - imports the lab CA into the machine's Trusted Root Certification Authorities,
 - points the DNS servers of the network adapters that are up at the lab,
 - sets Outlook's Autodiscover registry values to the client model's, for the user who runs
   Outlook (HKEY_USERS\<that user's SID>, which is that user's HKEY_CURRENT_USER),
 - moves Outlook's cached Autodiscover answers aside and flushes the DNS client cache.
What it finds is written to autodisco-kit-state.json next to this script before it changes
anything; uninstall.ps1 reads that file and puts everything back. Running install.ps1 again
is harmless: the state saved by the first run is kept. Close Outlook first.

.PARAMETER User
The account that runs Outlook (DOMAIN\name, or name for a local account) when it is not the
account running this script. That user must be logged on, so that its registry is loaded.

.PARAMETER InterfaceAlias
The network adapters whose DNS servers are pointed at the lab (default: every adapter that
is up). Windows may ask the DNS servers of every adapter: leave none pointing elsewhere.

.EXAMPLE
powershell.exe -ExecutionPolicy Bypass -File .\install.ps1

.EXAMPLE
powershell.exe -ExecutionPolicy Bypass -File .\install.ps1 -User CONTOSO\alice
#>
[CmdletBinding()]
param(
  [string]$User = '',
  [string[]]$InterfaceAlias = @()
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

# @KIT_DATA@

# @KIT_COMMON@

# --- Install ---------------------------------------------------------------------------------

function New-AbsentRecord([string]$Key, [string]$Name) {
  return [pscustomobject]@{ Key = $Key; Name = $Name; Present = $false; Kind = ''; Data = $null }
}

function Get-RegistryValueState([string]$Key, [string]$Name) {
  # A value's previous state: present with its type and data, or absent.
  $path = "$script:HiveRoot\$Key"
  if (Test-Path -LiteralPath $path) {
    $item = Get-Item -LiteralPath $path
    if (@($item.GetValueNames()) -contains $Name) {
      $kind = $item.GetValueKind($Name).ToString()
      $data = $item.GetValue($Name, $null, 'DoNotExpandEnvironmentNames')
      if ($data -is [byte[]]) {
        $data = [Convert]::ToBase64String($data)
      }
      return [pscustomobject]@{ Key = $Key; Name = $Name; Present = $true; Kind = $kind; Data = $data }
    }
  }
  return New-AbsentRecord $Key $Name
}

function Get-StaticDnsServers([string]$Guid, [string]$Stack) {
  # The servers typed into the adapter's settings; none means the adapter takes them from
  # DHCP (or router advertisements), which Set-DnsClientServerAddress -ResetServerAddresses
  # brings back.
  $path = "HKLM:\SYSTEM\CurrentControlSet\Services\$Stack\Parameters\Interfaces\$Guid"
  if (-not (Test-Path -LiteralPath $path)) {
    return @()
  }
  $item = Get-Item -LiteralPath $path
  if (@($item.GetValueNames()) -notcontains 'NameServer') {
    return @()
  }
  return @(([string]$item.GetValue('NameServer')) -split '[,\s]+' | Where-Object { $_ -ne '' })
}

function Resolve-TargetUser([string]$Name) {
  if ($Name -eq '') {
    $me = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $console = (Get-CimInstance -ClassName Win32_ComputerSystem).UserName
    if ($null -ne $console -and $console -ne $me.Name) {
      Write-Warning "this runs as $($me.Name) but $console is logged on: if $console runs Outlook, run again with -User $console"
    }
    return [pscustomobject]@{ Sid = $me.User.Value; LocalAppData = $env:LOCALAPPDATA }
  }
  try {
    $account = New-Object System.Security.Principal.NTAccount -ArgumentList $Name
    $sid = $account.Translate([System.Security.Principal.SecurityIdentifier]).Value
  } catch {
    throw "-User ${Name}: no such account ($($_.Exception.Message))"
  }
  $profileKey = "HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\$sid"
  if (-not (Test-Path -LiteralPath $profileKey)) {
    throw "-User ${Name}: the account has no profile on this machine yet: log on as it once"
  }
  $profileDir = [string](Get-ItemProperty -LiteralPath $profileKey).ProfileImagePath
  return [pscustomobject]@{ Sid = $sid; LocalAppData = (Join-Path $profileDir 'AppData\Local') }
}

function New-KitState($Target) {
  $major = $Kit.OfficeVersion.Split('.')[0]
  $outlookData = Join-Path $Target.LocalAppData 'Microsoft\Outlook'
  return [pscustomobject]@{
    Format           = $StateFormat
    Model            = $Kit.Model
    Sid              = $Target.Sid
    Certificate      = $null
    Dns              = @()
    Registry         = @()
    RegistryCaptured = $false
    CreatedKeys      = @()
    CacheFolders     = @($outlookData, (Join-Path $outlookData $major))
    Cache            = $null
    Marker           = $null
  }
}

function Confirm-NoOtherKit {
  if (-not (Test-Path -LiteralPath $MarkerPath)) {
    return
  }
  $item = Get-Item -LiteralPath $MarkerPath
  if (@($item.GetValueNames()) -notcontains $MarkerName) {
    return
  }
  $other = [string]$item.GetValue($MarkerName)
  if ($other -eq $StatePath) {
    return
  }
  if (Test-Path -LiteralPath $other) {
    throw "another autodisco kit is installed (its state file: $other): run the uninstall.ps1 next to it first"
  }
  Write-Warning "a kit installed from $(Split-Path -Parent $other) left no state file: what it changed cannot be undone"
}

function Set-KitMarker {
  if ($null -eq $script:State.Marker) {
    $script:State.Marker = [pscustomobject]@{ KeyCreated = -not (Test-Path -LiteralPath $MarkerPath) }
    Save-KitState
  }
  if (-not (Test-Path -LiteralPath $MarkerPath)) {
    New-Item -Path $MarkerPath | Out-Null
  }
  New-ItemProperty -LiteralPath $MarkerPath -Name $MarkerName -PropertyType String -Value $StatePath -Force | Out-Null
}

function Save-PreviousValue([string]$Key, [string]$Name) {
  foreach ($record in $script:State.Registry) {
    if ($record.Key -eq $Key -and $record.Name -eq $Name) {
      return
    }
  }
  if ($script:State.RegistryCaptured) {
    # A complete earlier run saved every value the kit touches; one that appeared since (a host
    # added to RedirectServers from Outlook's redirect prompt) was not there before the kit.
    $record = New-AbsentRecord $Key $Name
  } else {
    $record = Get-RegistryValueState $Key $Name
  }
  $script:State.Registry = @($script:State.Registry) + $record
  Save-KitState
}

function Set-KitValue([string]$Key, [string]$Name, [string]$Kind, $Value) {
  Save-PreviousValue $Key $Name
  New-ItemProperty -LiteralPath "$script:HiveRoot\$Key" -Name $Name -PropertyType $Kind -Value $Value -Force | Out-Null
}

function Remove-KitValue([string]$Key, [string]$Name) {
  Save-PreviousValue $Key $Name
  $path = "$script:HiveRoot\$Key"
  if ((Test-Path -LiteralPath $path) -and (@((Get-Item -LiteralPath $path).GetValueNames()) -contains $Name)) {
    Remove-ItemProperty -LiteralPath $path -Name $Name
  }
}

function Initialize-UserKey([string]$Key) {
  # Creates the key and any missing parent (Outlook may never have run for this user); each
  # key created is noted so that uninstall.ps1 removes it again when it is left empty.
  $sub = ''
  foreach ($part in $Key.Split('\')) {
    if ($sub -eq '') {
      $sub = $part
    } else {
      $sub = "$sub\$part"
    }
    $path = "$script:HiveRoot\$sub"
    if (-not (Test-Path -LiteralPath $path)) {
      if (@($script:State.CreatedKeys) -notcontains $sub) {
        $script:State.CreatedKeys = @($script:State.CreatedKeys) + $sub
        Save-KitState
      }
      New-Item -Path $path | Out-Null
    }
  }
}

Confirm-OutlookClosed
$certificatePath = Join-Path $PSScriptRoot $Kit.CertificateFile
$certificate = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList $certificatePath
if ($certificate.Thumbprint -ne $Kit.Thumbprint) {
  throw "$certificatePath is not the lab CA this kit was written for (thumbprint $($certificate.Thumbprint), expected $($Kit.Thumbprint))"
}
if ($Kit.LocalXml -ne '' -and -not (Test-Path -LiteralPath (Join-Path $PSScriptRoot $Kit.LocalXml))) {
  throw "the local Autodiscover XML file $($Kit.LocalXml) is missing from $PSScriptRoot"
}

# 1. Whose Outlook, and what was saved before.
Confirm-NoOtherKit
$target = Resolve-TargetUser $User
if (Test-Path -LiteralPath $StatePath) {
  $script:State = Read-KitState
  if ($script:State.Sid -ne $target.Sid) {
    throw "this kit is installed for the user $($script:State.Sid), not $($target.Sid): run uninstall.ps1 first"
  }
  Write-Step "installed before: the original state saved in $StatePath is kept"
} else {
  $script:State = New-KitState $target
  Save-KitState
}
$script:HiveRoot = Get-HiveRoot $script:State.Sid
Set-KitMarker

# 2. The lab CA, in the machine's trusted roots.
$storePath = "Cert:\LocalMachine\Root\$($Kit.Thumbprint)"
if ($null -eq $script:State.Certificate) {
  $script:State.Certificate = [pscustomobject]@{ Thumbprint = $Kit.Thumbprint; WasPresent = (Test-Path -LiteralPath $storePath) }
  Save-KitState
}
if (-not (Test-Path -LiteralPath $storePath)) {
  Import-Certificate -FilePath $certificatePath -CertStoreLocation 'Cert:\LocalMachine\Root' | Out-Null
}
Write-Step "the lab CA $($Kit.Thumbprint) is a trusted root"

# 3. DNS: every adapter asks the lab.
if ($Kit.LabDns -ne '') {
  if ($InterfaceAlias.Count -gt 0) {
    $adapters = @(Get-NetAdapter -Name $InterfaceAlias)
  } else {
    $adapters = @(Get-NetAdapter | Where-Object { $_.Status -eq 'Up' })
  }
  if ($adapters.Count -eq 0) {
    throw 'no network adapter is up: connect the VM to the lab network first'
  }
  $otherFamily = 'IPv6'
  if ($Kit.LabDns.Contains(':')) {
    $otherFamily = 'IPv4'
  }
  foreach ($adapter in $adapters) {
    $guid = [string]$adapter.InterfaceGuid
    if (@($script:State.Dns | Where-Object { $_.Guid -eq $guid }).Count -eq 0) {
      $script:State.Dns = @($script:State.Dns) + [pscustomobject]@{
        Guid  = $guid
        Alias = [string]$adapter.Name
        IPv4  = @(Get-StaticDnsServers $guid 'Tcpip')
        IPv6  = @(Get-StaticDnsServers $guid 'Tcpip6')
      }
      Save-KitState
    }
    Set-DnsClientServerAddress -InterfaceIndex $adapter.ifIndex -ServerAddresses @($Kit.LabDns)
    $others = @()
    foreach ($entry in @(Get-DnsClientServerAddress -InterfaceIndex $adapter.ifIndex -AddressFamily $otherFamily -ErrorAction SilentlyContinue)) {
      $others += @($entry.ServerAddresses | Where-Object { $_ -notlike 'fec0:0:0:ffff::*' })
    }
    if ($others.Count -gt 0) {
      Write-Warning "$($adapter.Name) also has the $otherFamily DNS servers $($others -join ', '): Windows may ask them instead of the lab"
    }
    Write-Step "$($adapter.Name) asks the DNS server $($Kit.LabDns)"
  }
} else {
  Write-Step 'DNS left as it is (the kit was written without --dns)'
}

# 4. Outlook's Autodiscover registry values, exactly the model's.
$autoDiscoverKey = "Software\Microsoft\Office\$($Kit.OfficeVersion)\Outlook\AutoDiscover"
$redirectKey = "$autoDiscoverKey\RedirectServers"
Initialize-UserKey $autoDiscoverKey
foreach ($name in @($DwordValues.Keys)) {
  Set-KitValue $autoDiscoverKey $name 'DWord' $DwordValues[$name]
}
if ($Kit.Domain -ne '') {
  # The REG_SZ named after the domain points at a local Autodiscover XML file (KB 2212902).
  if ($Kit.LocalXml -ne '') {
    Set-KitValue $autoDiscoverKey $Kit.Domain 'String' (Join-Path $PSScriptRoot $Kit.LocalXml)
  } else {
    Remove-KitValue $autoDiscoverKey $Kit.Domain
  }
}
$redirectPath = "$script:HiveRoot\$redirectKey"
if (Test-Path -LiteralPath $redirectPath) {
  foreach ($name in @((Get-Item -LiteralPath $redirectPath).GetValueNames())) {
    if ($name -ne '' -and $RedirectServers -notcontains $name) {
      Remove-KitValue $redirectKey $name
    }
  }
}
if ($RedirectServers.Count -gt 0) {
  Initialize-UserKey $redirectKey
  foreach ($name in $RedirectServers) {
    Set-KitValue $redirectKey $name 'String' ''
  }
}
$script:State.RegistryCaptured = $true
Save-KitState
Write-Step "HKEY_USERS\$($script:State.Sid)\$autoDiscoverKey holds the $($Kit.Model) values"
$policyPath = "$script:HiveRoot\Software\Policies\Microsoft\Office\$($Kit.OfficeVersion)\Outlook\AutoDiscover"
if (Test-Path -LiteralPath $policyPath) {
  $policies = @((Get-Item -LiteralPath $policyPath).GetValueNames() | Where-Object { $_ -ne '' })
  if ($policies.Count -gt 0) {
    Write-Warning "Group Policy sets $($policies -join ', ') under $policyPath; Outlook obeys those over the kit's values"
  }
}

# 5. Outlook's cached Autodiscover answers: the first run keeps them aside for uninstall.ps1,
# a later run removes the answers Outlook cached from the lab since.
if ($null -eq $script:State.Cache) {
  $script:State.Cache = [pscustomobject]@{ Cleared = $false; Files = @() }
  Save-KitState
  $n = 0
  foreach ($file in (Get-CacheFiles @($script:State.CacheFolders))) {
    $n++
    $saved = '{0:D4}-{1}' -f $n, $file.Name
    if (-not (Test-Path -LiteralPath $BackupDir)) {
      New-Item -ItemType Directory -Path $BackupDir | Out-Null
    }
    $script:State.Cache.Files = @($script:State.Cache.Files) + [pscustomobject]@{ Path = $file.FullName; Saved = $saved }
    Save-KitState
    Move-Item -LiteralPath $file.FullName -Destination (Join-Path $BackupDir $saved)
  }
  Write-Step "moved $n cached Autodiscover answer(s) aside to $BackupDir"
} else {
  $n = 0
  foreach ($file in (Get-CacheFiles @($script:State.CacheFolders))) {
    Remove-Item -LiteralPath $file.FullName -Force
    $n++
  }
  Write-Step "removed $n Autodiscover answer(s) Outlook cached since the first run"
}

# 6. Nothing cached from before the lab may answer.
Clear-DnsClientCache
Write-Step 'flushed the DNS client cache'

if ($Kit.Domain -ne '') {
  $hostsFile = Join-Path $env:SystemRoot 'System32\drivers\etc\hosts'
  if (Test-Path -LiteralPath $hostsFile) {
    $pattern = '^\s*[^#\s]+\s+(.*\s)?([^#\s]*\.)?' + [regex]::Escape($Kit.Domain) + '(\s|$)'
    if (@(Select-String -LiteralPath $hostsFile -Pattern $pattern).Count -gt 0) {
      Write-Warning "$hostsFile names $($Kit.Domain) or a name under it: those lines win over the lab's DNS"
    }
  }
}
$internetSettings = "$script:HiveRoot\Software\Microsoft\Windows\CurrentVersion\Internet Settings"
if (Test-Path -LiteralPath $internetSettings) {
  $item = Get-Item -LiteralPath $internetSettings
  if (@($item.GetValueNames()) -contains 'ProxyEnable' -and [int]$item.GetValue('ProxyEnable') -eq 1) {
    Write-Warning 'a proxy server is set for this user: Outlook may send its requests there instead of to the lab'
  }
}
Write-Step "ready: start Outlook and add the account, or Ctrl+right-click its notification-area icon and choose Test E-mail AutoConfiguration"
Write-Step "undo everything with uninstall.ps1 (state: $StatePath)"
