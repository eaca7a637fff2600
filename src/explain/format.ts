/** An Explanation as the text `qwire explain` prints: numbered hops, the verdict, and for a closed path what would open it. */
import type { Explanation } from "./explanation.js";

export function formatExplanation(
  title: string,
  e: Explanation,
  near?: { port: number; proto: string; by: string },
): string {
  const lines = [`qwire explain: ${title}`];
  const width = Math.max(...e.hops.map((h) => h.at.length));
  e.hops.forEach((h, i) =>
    lines.push(`  ${String(i + 1).padStart(2)}. ${h.at.padEnd(width)}  ${h.passes ? "pass" : "DROP"}  ${h.rule}`),
  );
  if (e.open) {
    const answer = e.reaches === "the internet" ? "the internet host" : `${e.reaches} on ${e.proto}/${e.serverPort}`;
    lines.push(`verdict: open, by ${e.by}; ${answer} answers`);
  } else {
    lines.push(`verdict: closed, dropped at ${e.droppedAt}`);
    if (near) lines.push(`note: did you mean ${near.port}/${near.proto}? ${near.by} opens it`);
    if (e.opener && e.opener.length > 0) {
      const yaml = e.opener[0]!.endsWith(":");
      lines.push(yaml ? "to open it, add to qwire.yaml:" : "to open it:", ...e.opener.map((l) => `  ${l}`));
    }
  }
  return `${lines.join("\n")}\n`;
}
