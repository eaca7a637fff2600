/**
 * `qwire build` renders each file straight into the staging folder and lets
 * it go (renderTo into emitAsProduced): the files, bytes, modes and digests
 * are those of the in-memory render(), nothing rendered is kept once written,
 * and a failure while producing leaves the output folder as it was.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { emit, emitAsProduced } from "../../src/emit/index.js";
import { render, renderTo, type Artifact } from "../../src/render/index.js";
import { bundleDigest } from "../../src/render/install-list.js";
import { compileOk } from "../helpers/compile.js";

const SPEC = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  db: { netvm: sys-firewall }
forwards:
  - { to: web, port: 443, from: [192.168.1.0/24] }
links:
  - { from: web, to: db, ports: [5432] }
`;

const work = mkdtempSync(join(tmpdir(), "qwire-streamed-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (bytes: string | Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("a build renders each file straight into the bundle", () => {
  const { plan } = compileOk(SPEC);

  it("hands over the files of render(), each once, and lists each with its sha256", () => {
    const handed: Artifact[] = [];
    const { files, digest } = renderTo(plan, (a) => handed.push(a));
    const whole = render(plan);
    expect(handed.map((a) => a.path).sort()).toEqual(whole.map((a) => a.path).sort());
    expect(new Set(handed.map((a) => a.path)).size).toBe(handed.length);
    const byPath = new Map(handed.map((a) => [a.path, a]));
    for (const a of whole) {
      expect(byPath.get(a.path)?.content, a.path).toBe(a.content);
      expect(byPath.get(a.path)?.mode, a.path).toBe(a.mode);
    }
    // The entries, in the bundle's order, are what plan.json lists (plan.json itself last).
    expect(files.map((f) => f.path)).toEqual(whole.map((a) => a.path));
    for (const f of files) expect(f.sha256, f.path).toBe(sha256(byPath.get(f.path)!.content));
    expect(digest).toBe(bundleDigest(whole));
  });

  it("keeps no file it has handed over", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const refs: WeakRef<Artifact>[] = [];
    renderTo(plan, (a) => refs.push(new WeakRef(a)));
    // A WeakRef holds its target until the current job ends.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    const kept = refs.map((r) => r.deref()?.path).filter((p) => p !== undefined);
    expect(kept).toEqual([]);
    expect(refs.length).toBeGreaterThan(10);
  });

  it("writes the same folder as emit() of render()", () => {
    const streamed = join(work, "streamed");
    const whole = join(work, "whole");
    emitAsProduced(streamed, (write) => renderTo(plan, write));
    emit(whole, render(plan));
    const list = (dir: string) =>
      (readdirSync(dir, { recursive: true }) as string[]).filter((p) => statSync(join(dir, p)).isFile()).sort();
    expect(list(streamed)).toEqual(list(whole));
    for (const p of list(whole)) {
      expect(readFileSync(join(streamed, p), "utf8"), p).toBe(readFileSync(join(whole, p), "utf8"));
      expect(statSync(join(streamed, p)).mode, p).toBe(statSync(join(whole, p)).mode);
    }
  });

  it("leaves the folder as it was, with no staging folder, when producing fails half-way", () => {
    const out = join(work, "failing");
    emitAsProduced(out, (write) => renderTo(plan, write));
    const before = readFileSync(join(out, "plan.json"), "utf8");
    const bug = new Error("a bug in the renderer");
    let handed = 0;
    expect(() =>
      emitAsProduced(out, (write) =>
        renderTo(plan, (a) => {
          if (++handed === 5) throw bug;
          write(a);
        }),
      ),
    ).toThrow(bug);
    expect(handed).toBe(5);
    expect(readFileSync(join(out, "plan.json"), "utf8")).toBe(before);
    expect(readdirSync(work).filter((n) => n.startsWith("failing.qwire-"))).toEqual([]);
    expect(existsSync(join(out, "install.sh"))).toBe(true);
  });
});
