import { defineConfig } from "vitest/config";

/** `npm run fuzz`: the property runs of fuzz/*.fuzz.ts, outside the unit tests (vitest.config.ts does not include them). */
export default defineConfig({
  test: {
    include: ["fuzz/**/*.fuzz.ts"],
    testTimeout: 0,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
