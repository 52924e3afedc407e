import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Built into dist/ with hashed file names (the gateway caches them for a year); `npm run dev`
// serves the console on its own port and sends the API to the suite's gateway on 8080.
const gateway = "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // No inline scripts or styles: the gateway's Content-Security-Policy allows none.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // The budget that matters is the first screen's gzipped JavaScript, which
    // .ci/console-check.sh holds to 300 KB.
    chunkSizeWarningLimit: 1000,
  },
  server: {
    port: 5181,
    strictPort: true,
    hmr: false,
    proxy: {
      "/v1": gateway,
      "/crm.": gateway,
    },
  },
});
