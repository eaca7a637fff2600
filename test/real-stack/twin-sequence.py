#!/usr/bin/python3
"""Applies several qwire bundles, one after the other, to ONE twin machine.

The twin (shared/twin, its README says what is real) applies one bundle per
run; a teardown is only seen when a second bundle is applied to the machine
the first one configured. This driver uses the twin's own Twin class for
that, in the same private mount namespace run.sh enters:

    unshare --mount --propagation private /usr/bin/python3 twin-sequence.py \
        --twin DIR --vendor DIR --out DIR --inventory FILE STEP...

--systemctl FILE installs FILE as /usr/bin/systemctl in every qube (not in dom0
or the management disposables): the twin's qubes run no systemd (no PID 1 of
their own), so a qrexec link's socket units need a stand-in; the tests pass
the one `qwire simulate` uses (src/simulate/apply/qrexec-stubs.ts).
--card QUBE (repeated) gives QUBE a network card, an interface named ens6
(a veth whose peer is elsewhere): the twin's qubes have only lo, a real
sys-net has its card.

STEP is BUNDLE_DIR:KIND with KIND apply | dry-run, or vm:QUBE (qubesctl
applies qwire.vm to QUBE alone, e.g. a bystander qwire has no state for).
Writes OUT/summary.json (what the tests read) and OUT/report.md (the twin's
own report of every install.sh run, for a human).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time


def states(report, apply_):
    """{"dom0": [...], qube: [...] or None} of one apply, each state {id, fun, result, changed, comment}."""
    def slim(sts):
        if sts is None:
            return None
        return [{"id": s["id"], "fun": s["fun"], "result": s["result"], "changed": bool(s["changes"]),
                 "comment": report.short(s["comment"], 400),
                 # what a failed cmd.run said: the line a user reads first
                 "stderr": report.short(str((s["changes"] or {}).get("stderr", "")) if isinstance(s["changes"], dict) else "", 400)}
                for s in sts]
    out = {"dom0": []}
    for job in report.dom0_state_jobs(apply_):
        out["dom0"].extend(slim(report.states_of(job.get("return"))) or [])
    for host, (sts, _raw) in report.vm_state_returns(apply_).items():
        out[host] = slim(sts)
    return out


def add_qube_extras(tw, systemctl, cards):
    """Every qube machine the twin sets up from now on (also one a `create:` makes) gets the systemctl
    stand-in, and each qube named in `cards` a network card: an interface `ens6` in its network
    namespace (the twin's qubes have only lo; `uplink: auto` looks for the one card a sys-net has)."""
    text = None
    if systemctl:
        with open(systemctl) as f:
            text = f.read()
    setup_vm = tw.setup_vm

    def setup_qube(name, kind="vm"):
        m = setup_vm(name, kind)
        if kind == "vm" and text is not None:
            m.write("/usr/bin/systemctl", text, 0o755)
        if kind == "vm" and name in cards:
            add_card(tw, m)
        return m

    tw.setup_vm = setup_qube


def add_card(tw, m):
    """ens6 in the qube's network namespace: one end of a veth pair whose other end is in a namespace
    of its own (a holder process the twin kills at cleanup), so the qube sees exactly one card and
    this machine's namespace gets nothing (no dummy driver is needed either)."""
    holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"], start_new_session=True)
    tw.pids.append(holder.pid)
    for _ in range(100):  # wait for the unshare to happen
        if os.readlink("/proc/%d/ns/net" % holder.pid) != os.readlink("/proc/self/ns/net"):
            break
        time.sleep(0.01)
    for argv in (["ip", "link", "add", "ens6", "type", "veth", "peer", "name", "wire", "netns", str(holder.pid)],
                 ["ip", "link", "set", "ens6", "up"]):
        r = m.cmd(argv, chroot=False)
        if r.returncode != 0:
            raise RuntimeError("%s: %s: %s" % (m.name, " ".join(argv), r.stderr.strip()))


def plan_of(bundle):
    """A bundle's plan.json, or {} when it cannot be read."""
    try:
        with open(os.path.join(bundle, "plan.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def add_release_layout(tw, release):
    """The twin's dom0 is R4.2-style; what an older dom0 has that a bundle of its release writes into.
    R4.0's qrexec policy is one file per service in /etc/qubes-rpc/policy, a folder every R4.0 dom0 has
    (shared/reference/qubes-networking.md) and the twin's R4.2-style dom0 lacks."""
    if release == "4.0":
        os.makedirs(tw.dom0.p("/etc/qubes-rpc/policy"), exist_ok=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--twin", required=True)
    ap.add_argument("--vendor", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--systemctl", help="a systemctl stand-in for the qubes (see the header)")
    ap.add_argument("--card", action="append", default=[], help="a qube with a network card (see the header)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for one install.sh run (a loaded machine is slow)")
    ap.add_argument("steps", nargs="+")
    args = ap.parse_args()
    sys.path.insert(0, args.twin)
    import twin
    import report

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    os.makedirs(args.out, exist_ok=True)
    first = args.steps[0].rsplit(":", 1)[0]
    targs = argparse.Namespace(bundle=first, inventory=args.inventory, vendor=args.vendor, out=args.out,
                               applies="", exec_=None, thin_cache=True, timeout=args.timeout)
    tw = twin.Twin(targs)
    summary = {"steps": [], "vmnames": tw.vmnames}
    full = {"bundle": tw.bundle, "inventory": tw.inventory, "applies": []}
    t0 = time.time()
    try:
        tw.setup_dom0()
        add_qube_extras(tw, args.systemctl, set(args.card))
        add_release_layout(tw, plan_of(first).get("release"))
        tw.serve_qrexec()
        tw.start_qubesd()
        for n in tw.vmnames:
            q = tw.inventory["qubes"][n] or {}
            if q.get("class") not in ("TemplateVM",):
                tw.setup_vm(n)
        prov = tw.provision_dom0_salt()
        summary["provision_failed"] = [p["cmd"] for p in prov if p["rc"] != 0]
        # What a real dom0 has and the twin's lacks: dom0's qubes-prefs (qwire.dom0 asks it for
        # default_netvm), and what qvm.present needs to run qvm-check and qvm-create as "user".
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "twin-dom0-gaps.sh")) as f:
            r, _ = tw.dom0_sh(f.read())
        if r.returncode != 0:
            summary["provision_failed"].append("twin-dom0-gaps.sh: " + r.stderr[-300:])
        summary["model_before"] = tw.model()
        current = None
        for i, step in enumerate(args.steps):
            where, kind = step.rsplit(":", 1)
            label = "%d-%s" % (i + 1, kind)
            if where == "vm":
                r, secs = tw.dom0_sh("qubesctl --skip-dom0 --targets=%s state.apply qwire.vm saltenv=user" % kind,
                                     timeout=args.timeout)
                fake = {"vm_returns": tw.harvest_dispvms()}
                summary["steps"].append({"label": "vm-" + kind, "kind": "vm", "rc": r.returncode,
                                         "stdout": r.stdout[-3000:], "stderr": r.stderr[-3000:],
                                         "states": states(report, fake)})
                continue
            if where != current:
                shutil.rmtree(tw.dom0.p("/root/qwire-bundle"), ignore_errors=True)
                shutil.copytree(where, tw.dom0.p("/root/qwire-bundle"))
                current = where
            if kind == "apply-all":
                # The twin runs install.sh without options; with no record of what was applied,
                # install.sh targets every qube, as `install.sh --all` does.
                try:
                    os.unlink(tw.dom0.p("/var/lib/qwire/applied"))
                except FileNotFoundError:
                    pass
            a = tw.apply(label, dry_run=(kind == "dry-run"), kind="apply")
            a["label"] = "%s (%s)" % (label, os.path.basename(where.rstrip("/")))
            full["applies"].append(a)
            summary["steps"].append({
                "label": a["label"], "kind": kind, "bundle": where, "rc": a["rc"], "secs": a["secs"],
                "stdout": a["stdout"][-3000:], "stderr": a["stderr"][-3000:],
                "states": states(report, a),
                "rw": a["rw"], "nft": a["nft"], "model": a["model"],
            })
    finally:
        summary["secs"] = round(time.time() - t0, 1)
        with open(os.path.join(args.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=str)
        tw.cleanup()
    full["secs"] = summary["secs"]
    full["provision"] = prov
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report.render(full))


if __name__ == "__main__":
    main()
