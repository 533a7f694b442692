import { defineConfig } from "vite";

// The build is reproducible (the same sources make the same bytes), so
// the Go test TestConsoleBuildFresh can rebuild into a temporary folder
// and compare it with the committed dist/.
export default defineConfig({
  base: "/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Assets sit beside index.html: /console/{asset} is one path segment.
    assetsDir: "",
    // No inline script: the CSP allows script-src 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
