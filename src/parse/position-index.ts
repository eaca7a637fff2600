/**
 * A side table from YAML paths (e.g. ["forwards", 0, "port"]) to positions in
 * the user's file. js-yaml reports positions only for syntax errors, so we
 * listen to its node open/close events (the `listener` load option) and
 * rebuild the node tree beside the loaded value. Positions never enter the
 * user's data (unlike aerleon's `__line__` keys).
 *
 * The tree is built only when a position is first asked for (a diagnostic):
 * a file without problems is loaded once, without the listener, which for
 * 10,000 intents saves a tenth of a second and ~100,000 frames of memory.
 */
import type { Span } from "../diagnostics/diagnostic.js";

export type YamlPath = readonly (string | number)[];

interface Frame {
  readonly start: number;
  end: number;
  result: unknown;
  readonly children: Frame[];
}

/** Minimal shape of js-yaml's loader state that the listener sees. */
export interface LoaderState {
  readonly position: number;
  readonly result: unknown;
}

export class PositionRecorder {
  readonly #stack: Frame[] = [{ start: 0, end: 0, result: undefined, children: [] }];

  readonly listener = (event: "open" | "close", state: LoaderState): void => {
    if (event === "open") {
      this.#stack.push({ start: state.position, end: state.position, result: undefined, children: [] });
      return;
    }
    const frame = this.#stack.pop();
    const parent = this.#stack[this.#stack.length - 1];
    if (frame === undefined || parent === undefined) return;
    frame.end = state.position;
    frame.result = state.result;
    // A block sequence item that is a scalar or a flow collection is composed
    // twice, the outer node wrapping the inner one with the same result:
    // keep the inner one, which has the children and the exact position.
    const only = frame.children.length === 1 ? frame.children[0] : undefined;
    // composeNode also fires for empty nodes (e.g. a key with no value); those
    // are still children, as the loaded value has them too.
    parent.children.push(only !== undefined && only.result === frame.result ? only : frame);
  };

  /** The document's root node, once the load has finished. */
  root(): Frame | undefined {
    return this.#stack[0]?.children[0];
  }
}

/** The root frame of a document, from loading it again with a PositionRecorder's listener. */
export type FrameTree = () => Frame | undefined;

export class PositionIndex {
  readonly #text: string;
  #lineStartsMemo: number[] | undefined;
  #tree: FrameTree | undefined;
  #rootMemo: Frame | undefined;

  /** `tree`: how to record the document's nodes when a position is first asked for; without it, only offsets. */
  constructor(text: string, tree?: FrameTree) {
    this.#text = text;
    this.#tree = tree;
  }

  get #root(): Frame | undefined {
    if (this.#tree !== undefined) {
      this.#rootMemo = this.#tree();
      this.#tree = undefined;
    }
    return this.#rootMemo;
  }

  get #lineStarts(): number[] {
    if (this.#lineStartsMemo === undefined) {
      this.#lineStartsMemo = [0];
      for (let i = 0; i < this.#text.length; i++) if (this.#text[i] === "\n") this.#lineStartsMemo.push(i + 1);
    }
    return this.#lineStartsMemo;
  }

  /** Span of the value at `path`; falls back to the nearest ancestor that exists. */
  value(path: YamlPath): Span {
    return this.#spanOf(this.#find(path, false));
  }

  /** Span of the key that introduces `path` (for "unknown key" errors). */
  key(path: YamlPath): Span {
    return this.#spanOf(this.#find(path, true));
  }

  /** Span of the first alias (`*name`) in the file that stands for a list or a mapping. */
  firstAlias(): Span | undefined {
    const walk = (frame: Frame): Frame | undefined => {
      if (frame.children.length === 0) {
        return frame.result !== null &&
          typeof frame.result === "object" &&
          this.#text[this.#firstCharacter(frame.start)] === "*"
          ? frame
          : undefined;
      }
      for (const child of frame.children) {
        const found = walk(child);
        if (found) return found;
      }
      return undefined;
    };
    const alias = this.#root && walk(this.#root);
    return alias && this.#spanOf(alias);
  }

  #find(path: YamlPath, wantKey: boolean): Frame | undefined {
    let frame = this.#root;
    let keyFrame: Frame | undefined;
    for (const step of path) {
      if (frame === undefined) break;
      const next = this.#child(frame, step);
      if (next === undefined) break;
      keyFrame = next.key;
      frame = next.value;
    }
    // An empty value ("forwards:" and nothing) has no text of its own: its
    // key is the place to point at, not the next line.
    if (keyFrame !== undefined && (wantKey || (frame !== undefined && frame.result === null && this.#isBlank(frame))))
      return keyFrame;
    return frame;
  }

  #isBlank(frame: Frame): boolean {
    return this.#text.slice(frame.start, frame.end).trim() === "";
  }

  #child(frame: Frame, step: string | number): { key?: Frame; value: Frame } | undefined {
    if (Array.isArray(frame.result)) {
      if (typeof step !== "number") return undefined;
      const value = frame.children[step];
      return value === undefined ? undefined : { value };
    }
    // A mapping: children alternate key, value.
    for (let i = 0; i + 1 < frame.children.length; i += 2) {
      const key = frame.children[i]!;
      if (String(key.result) === String(step)) return { key, value: frame.children[i + 1]! };
    }
    return undefined;
  }

  #spanOf(frame: Frame | undefined): Span {
    if (frame === undefined) return { line: 1, column: 1, length: 1 };
    const at = this.#firstCharacter(frame.start);
    let end = Math.max(at + 1, frame.end);
    const lineEnd = this.#text.indexOf("\n", at);
    if (lineEnd !== -1 && end > lineEnd) end = lineEnd;
    while (end > at + 1 && /\s/.test(this.#text[end - 1] ?? "")) end--;
    return { ...this.position(at), length: end - at };
  }

  /**
   * The loader opens a node before skipping the whitespace and comments in
   * front of it: the offset of the node's first character.
   */
  #firstCharacter(start: number): number {
    let at = start;
    for (;;) {
      const c = this.#text[at];
      if (c === " " || c === "\t" || c === "\r" || c === "\n") at++;
      else if (c === "#") while (at < this.#text.length && this.#text[at] !== "\n") at++;
      else return at;
    }
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.#lineStarts[lo]! + 1 };
  }
}
