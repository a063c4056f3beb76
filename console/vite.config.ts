import { defineConfig } from "vite";

// Served by the control plane at /console/; no inline scripts (the server's CSP forbids them).
export default defineConfig({
  base: "/console/",
  build: { outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0, modulePreload: { polyfill: false } },
});
