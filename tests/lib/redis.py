# SPDX-License-Identifier: MIT
"""A real redis-server from Debian's archive, for tests that need a server."""
import os
import shutil
import socket
import subprocess
import threading
import time

from hptest import Failure, wait_for

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

PING_PATCH = """
#include <hotpatch/patch.h>
typedef struct client client;
extern void pingCommand(client *c);
extern void addReplyStatus(client *c, const char *status);
HOTPATCH_DESCRIPTION("PING answers HOTPATCHED");
HOTPATCH_REPLACE(pingCommand, ping_patched);
void ping_patched(client *c)
{
	addReplyStatus(c, "HOTPATCHED");
}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    def __init__(self, env):
        if not os.path.exists(REDIS_SERVER):
            raise Failure("redis-server is not installed (it is in debian/control)")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", env.dir, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env.procs.append(self.proc)
        wait_for(self._up, what="redis-server listening")

    @property
    def pid(self):
        return self.proc.pid

    def _up(self):
        try:
            return self.command("PING") in ("+PONG", "+HOTPATCHED")
        except OSError:
            return False

    def command(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(resp(args))
            return s.makefile("rb").readline().decode().strip()


def resp(args):
    out = f"*{len(args)}\r\n"
    for a in args:
        a = str(a)
        out += f"${len(a.encode())}\r\n{a}\r\n"
    return out.encode()


class Checker(threading.Thread):
    """Keeps one connection busy with PING/SET/GET, checking every reply."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.ok = 0
        self.errors = []
        self.pings = set()
        self.stop = False

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            f = s.makefile("rb")
            i = 0
            while not self.stop:
                i += 1
                s.sendall(resp(["PING"]) + resp(["SET", "k", i]) + resp(["GET", "k"]))
                ping = f.readline().strip()
                st = f.readline().strip()
                f.readline()
                val = f.readline().strip()
                self.pings.add(ping)
                if ping not in (b"+PONG", b"+HOTPATCHED") or st != b"+OK" or val != str(i).encode():
                    self.errors.append((ping, st, val))
                else:
                    self.ok += 1
        except OSError as e:
            self.errors.append(repr(e))
