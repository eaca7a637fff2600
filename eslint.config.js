// `npm run lint`: typescript-eslint's recommendedTypeChecked over the
// TypeScript (src/, test/, fuzz/, the vitest configs), ESLint's recommended
// rules over bench/'s plain JavaScript. No stylistic rules: layout is
// Prettier's (neither config holds a rule Prettier would fight).
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // Generated or byte-exact files, and what npm and the build write.
  { ignores: ["dist/", "out/", "node_modules/", "test/golden/", "test/errors*/", "schema/"] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // test/tsconfig.json covers src/, test/ and fuzz/ (fuzz/tsconfig.json points there); the two config files at the root, outside every tsconfig, get a default project.
        projectService: { allowDefaultProject: ["eslint.config.js", "vitest.config.ts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // The code's convention: a name that starts with '_' is left unused on purpose (a key taken out of an object).
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Benchmarks: plain JavaScript run by node, outside every tsconfig.
    files: ["bench/**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
