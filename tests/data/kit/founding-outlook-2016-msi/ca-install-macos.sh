#!/bin/sh
# Trusts the autodisco lab CA on this Mac (System keychain, a root for SSL).
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
as_root security add-trusted-cert -d -r trustRoot \
  -k /Library/Keychains/System.keychain "$here/autodisco-lab-ca.cer"
echo "ca-install-macos: the lab CA $thumbprint is trusted (System keychain)"
