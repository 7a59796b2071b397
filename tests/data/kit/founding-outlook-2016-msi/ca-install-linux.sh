#!/bin/sh
# Trusts the autodisco lab CA system-wide: Debian and Ubuntu
# (update-ca-certificates) or Fedora and RHEL (update-ca-trust).
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
if command -v update-ca-certificates >/dev/null 2>&1 &&
  [ -d /usr/local/share/ca-certificates ]; then
  as_root install -m 0644 "$here/autodisco-lab-ca.pem" \
    /usr/local/share/ca-certificates/autodisco-lab-ca.crt
  as_root update-ca-certificates
elif command -v update-ca-trust >/dev/null 2>&1; then
  as_root install -m 0644 "$here/autodisco-lab-ca.pem" \
    /etc/pki/ca-trust/source/anchors/autodisco-lab-ca.pem
  as_root update-ca-trust extract
else
  echo "ca-install-linux: neither update-ca-certificates (Debian, Ubuntu) nor" \
    "update-ca-trust (Fedora, RHEL) is installed" >&2
  exit 1
fi
echo "ca-install-linux: the lab CA $thumbprint is trusted system-wide"
