#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Client for demo/server.c.

  client.py probe PORT LEN TEXT [--color]
      Send one "ECHO LEN TEXT" and print the reply readably: runs of zero
      bytes are summarised and anything that looks like a secret is marked.
  client.py load PORT STATSFILE
      Send well-formed requests back to back on ONE connection until
      SIGTERM, checking every reply. Keeps "ok=N fail=N reconnects=N" in
      STATSFILE. One connection on purpose: if the server restarted, or a
      thread saw an error while being patched, the connection would break
      and the counters would show it.
"""
import os
import re
import signal
import socket
import sys
import time

SECRET = re.compile(r"SECRET-[A-Za-z0-9=_.-]+")  # what the server must not leak


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")


def ask(sock, rfile, length, text):
    """One request; returns the reply payload (bytes)."""
    sock.sendall(b"ECHO %d %s\n" % (length, text))
    header = rfile.readline()
    if not header.startswith(b"OK "):
        raise ValueError(f"bad reply {header!r}")
    n = int(header[3:])
    payload = rfile.read(n)
    if len(payload) != n:
        raise ValueError("short reply")
    return payload


def render(data, color):
    """Printable text as is, zero runs as [N zero bytes], secrets marked."""
    red, dim, off = ("\033[1;31m", "\033[2m", "\033[0m") if color else ("", "", "")
    out = []
    for chunk in re.split(rb"(\x00+)", data):
        if not chunk:
            continue
        if chunk[0] == 0:
            out.append(f"{dim}[{len(chunk)} zero bytes]{off}")
            continue
        text = "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in chunk)
        out.append(SECRET.sub(lambda m: f"{red}{m.group(0)}{off}", text))
    return "".join(out) or '""'


def probe(port, length, text, color):
    sock, rfile = connect(port)
    reply = ask(sock, rfile, length, text.encode())
    sock.close()
    shown = render(reply, color)
    print(f"  request: ECHO {length} {text}")
    print(f"  reply:   {len(reply)} bytes: {shown}")
    leak = SECRET.search(reply.decode("latin-1"))
    if leak:
        red, off = ("\033[1;31m", "\033[0m") if color else ("", "")
        print(f"  {red}LEAKED:  {leak.group(0)}{off}")


def load(port, stats_path):
    ok = fail = reconnects = 0
    stop = False

    def on_term(sig, frame):
        nonlocal stop
        stop = True

    def save():
        tmp = stats_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"ok={ok} fail={fail} reconnects={reconnects}\n")
        os.replace(tmp, stats_path)

    signal.signal(signal.SIGTERM, on_term)
    sock, rfile = connect(port)
    last = 0.0
    i = 0
    while not stop:
        i += 1
        text = b"request-%d" % i
        try:
            if ask(sock, rfile, len(text), text) == text:
                ok += 1
            else:
                fail += 1
        except (OSError, ValueError):
            # Counted, then go on with a new connection: the demo checks
            # that this never happens.
            fail += 1
            reconnects += 1
            sock.close()
            try:
                sock, rfile = connect(port)
            except OSError:
                time.sleep(0.1)
        now = time.monotonic()
        if now - last > 0.02:
            save()
            last = now
    save()


def main():
    args = sys.argv[1:]
    if len(args) >= 4 and args[0] == "probe":
        probe(int(args[1]), int(args[2]), args[3], "--color" in args[4:])
    elif len(args) == 3 and args[0] == "load":
        load(int(args[1]), args[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
