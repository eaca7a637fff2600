/**
 * The two in-qube commands a qrexec link uses, as Python stubs (Debian's
 * /usr/bin/python3):
 *
 * - `systemctl`: for a socket unit in /run/systemd/system with
 *   `ListenStream=127.0.0.1:PORT` and `Accept=true`, `start`/`restart`
 *   listen on that address in the qube's namespace and, per connection, run
 *   the `ExecStart` of `<name>@.service` with the connection on stdin and
 *   stdout (StandardInput=socket, StandardOutput=inherit); `stop` ends it;
 *   `is-active` exits 0 while it listens, 3 otherwise.
 *   It records every call in $QWIRE_SIM_LOG; other units and verbs
 *   (daemon-reload) are only recorded. The listener's pid and address are
 *   kept under /run/qwire-sim/sockets (dom0's qrexec side reads them).
 * - `qrexec-client-vm TARGET SERVICE+ARG`: asks dom0's qrexec in the model
 *   (the Unix socket $QWIRE_SIM_QREXEC, dom0-daemon.ts) and relays stdin and
 *   stdout; a refused call prints "Request refused" and exits 126, as the
 *   real one does.
 */

export const SYSTEMCTL = String.raw`#!/usr/bin/python3
# qwire simulate: systemctl, enough of it for Accept=true sockets on 127.0.0.1.
import os, shlex, signal, socket, subprocess, sys, time

UNITS = "/run/systemd/system"
STATE = "/run/qwire-sim/sockets"
HERE = os.path.dirname(os.path.abspath(__file__))

def record(args):
    path = os.environ.get("QWIRE_SIM_LOG")
    if path:
        with open(path, "a") as f:
            f.write(" ".join(["systemctl"] + args) + "\n")

def keys(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith(("#", ";", "[")):
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out

def pid_of(unit):
    try:
        with open(os.path.join(STATE, unit + ".pid")) as f:
            pid = int(f.read())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None

def stop(unit):
    pid = pid_of(unit)
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.01)
    for ext in (".pid", ".listen"):
        try:
            os.unlink(os.path.join(STATE, unit + ext))
        except FileNotFoundError:
            pass

def command(argv):
    # An absolute path missing from the host's read-only root: the stub of that name, if there is one.
    if argv and not os.path.exists(argv[0]) and os.path.exists(os.path.join(HERE, os.path.basename(argv[0]))):
        argv = [os.path.join(HERE, os.path.basename(argv[0]))] + argv[1:]
    return argv

def start(unit):
    if pid_of(unit):
        return 0
    path = os.path.join(UNITS, unit)
    if not os.path.isfile(path):
        print("Failed to start %s: Unit %s not found." % (unit, unit), file=sys.stderr)
        return 5
    sock = keys(path)
    listen = sock.get("ListenStream", "")
    if sock.get("Accept", "").lower() not in ("true", "yes", "1", "on"):
        print("qwire simulate: %s: only Accept=true sockets are modelled" % unit, file=sys.stderr)
        return 1
    host, _, port = listen.rpartition(":")
    if host != "127.0.0.1" or not port.isdigit():
        print("qwire simulate: %s: only ListenStream=127.0.0.1:PORT is modelled, not %r" % (unit, listen), file=sys.stderr)
        return 1
    service = os.path.join(UNITS, unit[: -len(".socket")] + "@.service")
    if not os.path.isfile(service):
        print("qwire simulate: %s: %s is missing" % (unit, service), file=sys.stderr)
        return 1
    svc = keys(service)
    argv = command(shlex.split(svc.get("ExecStart", "")))
    if not argv or svc.get("StandardInput") != "socket":
        print("qwire simulate: %s: needs ExecStart and StandardInput=socket" % service, file=sys.stderr)
        return 1
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, int(port)))
    except OSError as e:
        print("%s: Failed to listen on %s: %s" % (unit, listen, e.strerror), file=sys.stderr)
        return 1
    s.listen(64)
    os.makedirs(STATE, exist_ok=True)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                continue
            try:
                subprocess.Popen(argv, stdin=c, stdout=c, close_fds=True)
            except OSError:
                pass
            c.close()
    with open(os.path.join(STATE, unit + ".pid"), "w") as f:
        f.write(str(pid))
    with open(os.path.join(STATE, unit + ".listen"), "w") as f:
        f.write(listen + "\n")
    return 0

def main(args):
    record(args)
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return 0
    verb, units = words[0], words[1:]
    status = 0
    for unit in units:
        if not unit.endswith(".socket"):
            continue
        if verb == "is-active":
            status = status or (0 if pid_of(unit) else 3)
        if verb in ("stop", "restart"):
            stop(unit)
        if verb in ("start", "restart"):
            status = start(unit) or status
    return status

sys.exit(main(sys.argv[1:]))
`;

export const QREXEC_CLIENT_VM = String.raw`#!/usr/bin/python3
# qwire simulate: qrexec-client-vm TARGET SERVICE+ARG, through dom0's qrexec in the model.
import json, os, select, socket, sys

args = [a for a in sys.argv[1:] if not a.startswith("-")]
if len(args) != 2:
    print("usage: qrexec-client-vm TARGET SERVICE+ARG (running a local program is not modelled)", file=sys.stderr)
    sys.exit(2)
target, service = args
name = os.environ.get("QWIRE_SIM_QUBE", "")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(os.environ["QWIRE_SIM_QREXEC"])
except (KeyError, OSError) as e:
    print("qrexec-client-vm: cannot reach dom0: %s" % e, file=sys.stderr)
    sys.exit(1)
s.sendall((json.dumps({"source": name, "target": target, "service": service}) + "\n").encode())
status = b""
while not status.endswith(b"\n"):
    c = s.recv(1)
    if not c:
        break
    status += c
if not status.startswith(b"allow "):
    print("Request refused", file=sys.stderr)
    sys.exit(126)
fds = [0, s]
while True:
    for r in select.select(fds, [], [])[0]:
        if r == 0:
            data = os.read(0, 65536)
            if data:
                s.sendall(data)
            else:
                s.shutdown(socket.SHUT_WR)
                fds.remove(0)
        else:
            data = s.recv(65536)
            if not data:
                sys.exit(0)
            os.write(1, data)
`;
