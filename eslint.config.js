// `npm run lint`: typescript-eslint's recommendedTypeChecked over the
// TypeScript (src/, test/, fuzz/, the vitest configs), ESLint's recommended
// rules over bench/'s and build/'s plain JavaScript. No stylistic rules: layout is
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
      // zod's `z` is a namespace object holding all of zod (64 locales, JSON Schema import...): esbuild
      // keeps every part of it in the bundle (build/bundle.js). `import * as z from "zod"`, read as
      // z.object(...), keeps only the parts used: a third less code for `qwire check` to compile at start.
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind!='type'] > :matches(ImportSpecifier[importKind!='type'][imported.name='z'], ImportDefaultSpecifier)",
          message: 'import * as z from "zod": the bundle then leaves out the parts of zod qwire does not use.',
        },
      ],
    },
  },
  {
    // Benchmarks and the bundle step: plain JavaScript run by node, outside every tsconfig.
    files: ["bench/**/*.js", "build/**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
