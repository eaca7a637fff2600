/**
 * SVG through Debian's graphviz: `dot -Tsvg` reads the DOT on stdin. qwire
 * does not bundle a layout engine; when `dot` is missing the caller says
 * which package to install.
 */
import { execa } from "execa";

export class DotMissingError extends Error {}

export async function dotToSvg(dot: string): Promise<string> {
  try {
    const { stdout } = await execa("dot", ["-Tsvg"], { input: dot, stripFinalNewline: false });
    return stdout;
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT")
      throw new DotMissingError(
        "'dot' was not found: install Debian's graphviz package (apt-get install graphviz), or use --format dot or mermaid",
      );
    throw e;
  }
}
