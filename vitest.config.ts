import { defineConfig } from "vitest/config";

// Convex functions run in an edge-like runtime; convex-test must be inlined to be transformed.
export default defineConfig({
  test: {
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    include: ["convex/**/*.test.ts"],
  },
});
