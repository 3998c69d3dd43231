import { z } from 'zod';

// Imported first by main.tsx, before any schema exists: no eval-based fast path, because the API's
// Content-Security-Policy forbids eval (zod would fall back by itself, but only after a reported violation).
z.config({ jitless: true });
