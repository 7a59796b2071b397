#!/usr/bin/env python3
"""Opens N idle connections to one address and holds them: for bench/memory.sh.

    conns.py HOST PORT N [--tls NAME]

Opens N TCP connections one after another (with --tls, each completes a TLS handshake naming
NAME, certificate unchecked: the memory a server spends is what is measured, not its
chain), sends nothing, prints "open N" and waits until its standard input ends; then it closes
them all, prints "closed N" and exits. A connection the server refuses or resets stops it with
an error on stderr (exit 1): a server's connection caps must be raised for the run.
"""
import argparse
import resource
import socket
import ssl
import sys


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit(f"conns.py: {n} connections need {want} descriptors, the limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--tls", metavar="NAME", help="complete a TLS handshake naming NAME")
    args = ap.parse_args()
    raise_fd_limit(args.n)
    ctx = None
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    held = []
    try:
        for i in range(args.n):
            s = socket.create_connection((args.host, args.port), timeout=30)
            if ctx is not None:
                s = ctx.wrap_socket(s, server_hostname=args.tls)  # handshake done on return
            held.append(s)
    except OSError as e:
        sys.exit(f"conns.py: connection {len(held) + 1} of {args.n} to "
                 f"{args.host}:{args.port}: {e}")
    print(f"open {len(held)}", flush=True)
    sys.stdin.read()  # until the caller closes our standard input
    for s in held:
        s.close()
    print(f"closed {len(held)}", flush=True)


if __name__ == "__main__":
    main()
