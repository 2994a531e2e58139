import { readFileSync } from "node:fs";
import type { CodegenConfig } from "@graphql-codegen/cli";

// Issue 25's contract for what other branches add to the API, read only while schema.graphql lacks
// it (so the same config works before and after they are merged; the generated types are the
// same either way, nullability aside: re-run codegen after a merge).
const api = readFileSync("../../schema.graphql", "utf8");
const contract = api.includes("billingKeyMethod") ? [] : ["codegen-contract-v2.graphql"];

// Types for every operation in src/ from the API's committed schema (`npm run codegen`).
// The output is committed and CI checks it is current: keep it deterministic (no timestamps,
// no schema fetched from a running server).
const config: CodegenConfig = {
  schema: ["../../schema.graphql", ...contract],
  documents: ["src/**/*.{ts,vue}", "!src/gql/**/*", "!src/bootpayCards.ts"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // The official template's tsconfig: verbatimModuleSyntax and erasableSyntaxOnly (no enums).
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", Upload: "File" },
      },
    },
  },
};

export default config;
