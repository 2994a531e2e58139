import type { CodegenConfig } from "@graphql-codegen/cli";

// Types for every operation in src/ from the API's committed schema (`npm run codegen`).
// The output is committed and CI checks it is current: keep it deterministic (no timestamps,
// no schema fetched from a running server).
const config: CodegenConfig = {
  schema: ["../../schema.graphql", "codegen-contract.graphql"],
  documents: ["src/**/*.{ts,vue}", "!src/gql/**/*"],
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
