/** Why a simulation could not run to the end (flow failures are results, not errors). */
export type SimulateErrorKind = "prerequisite" | "unsupported" | "salt" | "model" | "interrupted";

export class SimulateError extends Error {
  constructor(
    readonly kind: SimulateErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "SimulateError";
  }
}
