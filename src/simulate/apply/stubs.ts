/**
 * The dom0 and in-qube commands the bundle may call, as small shell scripts
 * in a bin directory put first on PATH. They answer from files the
 * simulator writes from the model:
 *
 * - dom0 (`$QWIRE_SIM_DB/<qube>/<property>`): qvm-prefs, qvm-check, qvm-features;
 *   qubes-prefs (`$QWIRE_SIM_DB/-global/<property>`: no qube name starts with '-');
 * - in a qube (`$QWIRE_SIM_QUBESDB/<key>`): qubesdb-read; logger only
 *   records its arguments in `$QWIRE_SIM_LOG`; systemctl and
 *   qrexec-client-vm model qrexec link sockets (qrexec-stubs.ts).
 */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { address6, type ModelQube, type QubesModel } from "../model/network.js";
import { QREXEC_CLIENT_VM, SYSTEMCTL } from "./qrexec-stubs.js";

const QVM_PREFS = `#!/bin/sh
# qwire simulate: qvm-prefs answering from the model.
set -u
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; break ;;
	-*) shift ;;
	*) break ;;
	esac
done
vm=\${1-}
[ -n "$vm" ] || { echo "usage: qvm-prefs [--] VMNAME [PROPERTY [VALUE]]" >&2; exit 2; }
dir=$QWIRE_SIM_DB/$vm
[ -d "$dir" ] || { echo "qvm-prefs: error: no such domain: '$vm'" >&2; exit 1; }
if [ $# -eq 1 ]; then
	for f in "$dir"/prefs/*; do printf '%-20s - %s\\n' "\${f##*/}" "$(cat "$f")"; done
	exit 0
fi
prop=$(printf '%s' "$2" | tr - _)
if [ $# -ge 3 ]; then
	printf '%s\\n' "$3" >"$dir/prefs/$prop"
	exit 0
fi
[ -f "$dir/prefs/$prop" ] || { echo "qvm-prefs: error: no such property: '$2'" >&2; exit 1; }
value=$(cat "$dir/prefs/$prop")
[ -z "$value" ] || printf '%s\\n' "$value"
`;

const QUBES_PREFS = `#!/bin/sh
# qwire simulate: qubes-prefs answering from the model (dom0's global properties).
set -u
[ "\${1-}" != "--" ] || shift
[ -n "\${1-}" ] || { echo "usage: qubes-prefs PROPERTY" >&2; exit 2; }
file=$QWIRE_SIM_DB/-global/$(printf '%s' "$1" | tr - _)
[ -f "$file" ] || { echo "qubes-prefs: error: no such property: '$1'" >&2; exit 1; }
cat "$file"
`;

const QVM_CHECK = `#!/bin/sh
# qwire simulate: qvm-check answering from the model.
running=0
quiet=0
status=0
for arg in "$@"; do
	case $arg in
	--running) running=1 ;;
	-q | --quiet) quiet=1 ;;
	-*) ;;
	*)
		if [ ! -d "$QWIRE_SIM_DB/$arg" ] || { [ $running -eq 1 ] && [ ! -e "$QWIRE_SIM_DB/$arg/running" ]; }; then
			[ $quiet -eq 1 ] || echo "qvm-check: error: no such domain (or not running): '$arg'" >&2
			status=1
		else
			[ $quiet -eq 1 ] || echo "$arg: exists"
		fi
		;;
	esac
done
exit $status
`;

const QVM_FEATURES = `#!/bin/sh
# qwire simulate: qvm-features answering from the model.
set -u
unset_it=0
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; break ;;
	--unset | --delete | -D) unset_it=1; shift ;;
	-*) shift ;;
	*) break ;;
	esac
done
vm=\${1-}
dir=$QWIRE_SIM_DB/$vm
[ -n "$vm" ] && [ -d "$dir" ] || { echo "qvm-features: error: no such domain: '$vm'" >&2; exit 1; }
mkdir -p "$dir/features"
case $# in
1) for f in "$dir"/features/*; do [ -f "$f" ] && printf '%-20s %s\\n' "\${f##*/}" "$(cat "$f")"; done; exit 0 ;;
2)
	if [ $unset_it -eq 1 ]; then rm -f "$dir/features/$2"; exit 0; fi
	[ -f "$dir/features/$2" ] || exit 1
	cat "$dir/features/$2"
	;;
*) printf '%s\\n' "$3" >"$dir/features/$2" ;;
esac
`;

const QUBESDB_READ = `#!/bin/sh
# qwire simulate: qubesdb-read answering from the model.
status=0
for arg in "$@"; do
	case $arg in
	-*) ;;
	*)
		if [ -f "$QWIRE_SIM_QUBESDB$arg" ]; then cat "$QWIRE_SIM_QUBESDB$arg"
		else echo "Failed to read $arg" >&2; status=1; fi
		;;
	esac
done
exit $status
`;

const RECORD = (name: string) => `#!/bin/sh
# qwire simulate: ${name} only records that it was called.
printf '${name}' >>"\${QWIRE_SIM_LOG:-/dev/null}"
for arg in "$@"; do printf ' %s' "$arg" >>"\${QWIRE_SIM_LOG:-/dev/null}"; done
printf '\\n' >>"\${QWIRE_SIM_LOG:-/dev/null}"
exit 0
`;

export interface StubPaths {
  readonly bin: string;
  readonly db: string;
  readonly qubesdb: string;
  readonly logs: string;
  /** Unix socket of dom0's qrexec in the model (qrexec/dom0-daemon.ts). */
  readonly qrexec: string;
}

export async function writeStubs(dir: string): Promise<StubPaths> {
  const dirs = {
    bin: join(dir, "bin"),
    db: join(dir, "dom0db"),
    qubesdb: join(dir, "qubesdb"),
    logs: join(dir, "logs"),
  };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  const paths = { ...dirs, qrexec: join(dir, "qrexec.sock") };
  const scripts: Record<string, string> = {
    "qvm-prefs": QVM_PREFS,
    "qubes-prefs": QUBES_PREFS,
    "qvm-check": QVM_CHECK,
    "qvm-features": QVM_FEATURES,
    "qubesdb-read": QUBESDB_READ,
    logger: RECORD("logger"),
    systemctl: SYSTEMCTL,
    "qrexec-client-vm": QREXEC_CLIENT_VM,
  };
  for (const [name, text] of Object.entries(scripts)) await writeFile(join(paths.bin, name), text, { mode: 0o755 });
  return paths;
}

/** dom0's view of the qubes (qvm-prefs), rewritten from the model before each apply; features are kept. */
export async function writeDom0Db(paths: StubPaths, model: QubesModel): Promise<void> {
  const known = new Set(model.qubes().map((q) => q.name as string));
  for (const entry of await readdir(paths.db))
    if (!known.has(entry)) await rm(join(paths.db, entry), { recursive: true, force: true });
  for (const q of model.qubes()) {
    const prefs = join(paths.db, q.name, "prefs");
    await mkdir(prefs, { recursive: true });
    const netvm = q.netvm ? model.qube(q.netvm) : undefined;
    const values: Record<string, string> = {
      name: q.name,
      ip: q.ip,
      visible_ip: q.ip,
      // qubesd's ip6 for a qube with the ipv6 feature: the Qubes prefix and the IPv4 address.
      ip6: address6(q) ?? "",
      netvm: q.netvm ?? "",
      gateway: netvm?.ip ?? "",
      provides_network: q.providesNetwork ? "True" : "False",
    };
    for (const [k, v] of Object.entries(values)) await writeFile(join(prefs, k), `${v}\n`);
    if (q.ns) await writeFile(join(paths.db, q.name, "running"), "");
    else await rm(join(paths.db, q.name, "running"), { force: true });
  }
  // dom0's default_netvm: what qwire.yaml says it is (sys-firewall on a fresh install otherwise).
  await mkdir(join(paths.db, GLOBAL), { recursive: true });
  await writeFile(join(paths.db, GLOBAL, "default_netvm"), `${model.defaultNetvm ?? "sys-firewall"}\n`);
}

const GLOBAL = "-global";

/** A qube's own qubesdb keys (reference/qubes-salt.md §3.2). */
export async function writeQubesDb(paths: StubPaths, model: QubesModel, q: ModelQube): Promise<string> {
  const dir = join(paths.qubesdb, q.name);
  await mkdir(dir, { recursive: true });
  const netvm = q.netvm ? model.qube(q.netvm) : undefined;
  const keys: Record<string, string> = { name: q.name, type: "AppVM", "qubes-vm-persistence": "rw-only" };
  if (netvm)
    Object.assign(keys, {
      "qubes-ip": q.ip,
      "qubes-netmask": "255.255.255.255",
      "qubes-gateway": netvm.ip,
      "qubes-primary-dns": "10.139.1.1",
      "qubes-secondary-dns": "10.139.1.2",
    });
  const six = address6(q);
  const gateway6 = netvm ? address6(netvm) : undefined;
  if (six && gateway6) Object.assign(keys, { "qubes-ip6": six, "qubes-gateway6": gateway6 });
  if (q.providesNetwork) {
    const connected = model
      .qubes()
      .filter((c) => c.netvm === q.name && c.vif)
      .map((c) => c.ip);
    Object.assign(keys, {
      "qubes-netvm-gateway": q.ip,
      "qubes-netvm-netmask": "255.255.255.255",
      "connected-ips": connected.join(" "),
    });
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [k, v] of Object.entries(keys)) await writeFile(join(dir, k), v);
  return dir;
}
