import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In production the API serves dist/ itself (same origin); `vite dev` forwards API calls to a running `pnpm start`.
const api = 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    proxy: { '/v1': api, '/health': api, '/openapi.json': api },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
