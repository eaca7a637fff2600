/** `qwire explain`: one packet, hop by hop, the rule that decides at each hop, and the verdict. */
export { explainFlow } from "./explain.js";
export { formatExplanation } from "./format.js";
export { nearestPort, resolveQuery, type ExplainQuery } from "./query.js";
export type { Explanation, Hop } from "./explanation.js";
