#!/bin/sh
# Removes the autodisco lab CA from the system trust store (Debian, Ubuntu,
# Fedora, RHEL).
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
removed=no
if [ -f /usr/local/share/ca-certificates/autodisco-lab-ca.crt ]; then
  as_root rm -f /usr/local/share/ca-certificates/autodisco-lab-ca.crt
  as_root update-ca-certificates --fresh
  removed=yes
fi
if [ -f /etc/pki/ca-trust/source/anchors/autodisco-lab-ca.pem ]; then
  as_root rm -f /etc/pki/ca-trust/source/anchors/autodisco-lab-ca.pem
  as_root update-ca-trust extract
  removed=yes
fi
if [ "$removed" = yes ]; then
  echo "ca-uninstall-linux: removed the lab CA $thumbprint"
else
  echo "ca-uninstall-linux: the lab CA is not in the system trust store ($here" \
    "has the kit it came from)"
fi
