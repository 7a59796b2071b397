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
