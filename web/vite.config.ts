import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

// In production the API serves dist/ itself (same origin); `vite dev` forwards API calls to a running `pnpm start`.
const api = 'http://127.0.0.1:3000';

// The local API answers only requests addressed to it (Host) from its own pages (Origin). Forwarded, the dev
// server's own page is presented as the API's: Host becomes the API's (changeOrigin), and so does the Origin of
// a request from the dev server's own origin. A request from any other page keeps its Origin, and is refused.
const toApi: ProxyOptions = {
  target: api,
  changeOrigin: true,
  configure: (proxy) =>
    proxy.on('proxyReq', (proxyReq, req) => {
      if (req.headers.origin === `http://${req.headers.host}`) proxyReq.setHeader('origin', api);
    }),
};

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    proxy: { '/v1': toApi, '/local': toApi, '/health': toApi, '/openapi.json': toApi },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
