/** Compiling qwire.yaml text in-process, for tests. */
import { compile, type CompileOptions, type CompileResult } from "../../src/pipeline.js";

export function compileText(text: string, options: CompileOptions = {}): CompileResult {
  return compile({ name: "qwire.yaml", text }, options);
}

/** Compiles and fails the test with readable diagnostics if there are errors. */
export function compileOk(
  text: string,
  options: CompileOptions = {},
): Required<Pick<CompileResult, "artifacts" | "plan">> & CompileResult {
  const result = compileText(text, options);
  if (!result.artifacts || !result.plan) {
    throw new Error(
      `expected a bundle, got:\n${result.diagnostics.map((d) => `${d.span.line}:${d.span.column} ${d.code} ${d.message}`).join("\n")}`,
    );
  }
  return result as Required<Pick<CompileResult, "artifacts" | "plan">> & CompileResult;
}

export function file(result: { artifacts?: readonly { path: string; content: string }[] }, path: string): string {
  const a = result.artifacts?.find((f) => f.path === path);
  if (!a) throw new Error(`no ${path} in bundle: ${result.artifacts?.map((f) => f.path).join(", ")}`);
  return a.content;
}
