#!/bin/sh
# Removes the autodisco lab CA from this Mac's System keychain.
# Written by `autodisco kit windows` for the lab CA {THUMBPRINT}.
# The lab CA may sign only the lab's domains (name constraints).
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}
thumbprint={THUMBPRINT}
keychain=/Library/Keychains/System.keychain
if security find-certificate -a -Z "$keychain" | grep -q "SHA-1 hash: $thumbprint"; then
  # The trust setting first (there may be none left), then the certificate.
  as_root security remove-trusted-cert -d "$here/autodisco-lab-ca.cer" || true
  as_root security delete-certificate -Z "$thumbprint" "$keychain"
  echo "ca-uninstall-macos: removed the lab CA $thumbprint"
else
  echo "ca-uninstall-macos: the lab CA $thumbprint is not in $keychain"
fi
