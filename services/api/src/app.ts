import { foreignRequest } from '@mc-vision/core/loopback';
import { healthResponseSchema } from '@mc-vision/core/schemas';
import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { extname, join, resolve } from 'node:path';
import { requireApiKey } from './auth.ts';
import type { ApiDependencies } from './deps.ts';
import { ApiError, errorHandler, notFoundHandler } from './errors.ts';
import { cachedHealthChecks, type HealthReport } from './health.ts';
import { requestContextMiddleware } from './request-context.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { sendValidated } from './validation.ts';

/**
 * Security headers on every answer, the UI's and the API's. The policy is what the built UI (web/dist) needs
 * and nothing more: its scripts, styles and API calls from this origin only (no inline script or style
 * markup: Vite emits files, React sets styles through the DOM), previews of the chosen file (`blob:`) and the
 * empty `data:` favicon; no plugins, no framing, no `<base>` tricks. No `upgrade-insecure-requests`: the
 * laptop platform serves plain HTTP on loopback, and the cloud is HTTPS-only anyway (HSTS below).
 */
export const contentSecurityPolicy = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'blob:', 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

const securityHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy },
  // One year, subdomains too; browsers take it only over HTTPS (the cloud), so loopback HTTP is unaffected.
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
});

/**
 * On a laptop: only requests addressed to this machine's loopback address, from no web page but the UI's own
 * origin (or `CORS_ORIGINS`). A page elsewhere that resolves its own name to 127.0.0.1 (DNS rebinding), or
 * posts from its own origin, gets 403 before any route runs.
 */
function ownerOnly(trustedOrigins: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    const foreign = foreignRequest(req.headers, req.socket.localPort ?? 0, trustedOrigins);
    if (foreign) throw new ApiError(403, 'forbidden', foreign);
    next();
  };
}

/** Each dependency gets this long to answer `/health`, whose report is then served for `healthMaxAgeMs`. */
const healthTimeoutMs = 2_000;
export const healthMaxAgeMs = 3_000;

/** The whole HTTP API as one Express app; the Lambda entry and the laptop server both serve exactly this. */
export function createApp(deps: ApiDependencies): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');

  app.use(requestContextMiddleware(deps));
  if (deps.loopbackOnly) app.use(ownerOnly(config.CORS_ORIGINS));
  app.use(securityHeaders);
  app.use(
    cors({
      origin: config.CORS_ORIGINS,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'x-api-key', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600,
    }),
  );

  let health: (() => Promise<HealthReport>) | undefined;
  app.get('/health', async (_req, res) => {
    health ??= cachedHealthChecks((await deps.services()).healthChecks, {
      timeoutMs: healthTimeoutMs,
      maxAgeMs: healthMaxAgeMs,
    });
    const { ready, components } = await health();
    const allUp = Object.values(components).every((c) => c.status === 'up');
    sendValidated(res, ready ? 200 : 503, healthResponseSchema, {
      status: allUp ? 'ok' : 'degraded',
      mode: config.MODE,
      version: deps.version,
      components,
    });
  });

  // Built (zod-openapi and every schema's JSON Schema) on its first request, not at start.
  let openApiDocument: Promise<unknown> | undefined;
  app.get('/openapi.json', async (_req, res) => {
    openApiDocument ??= import('./openapi.ts').then((m) => m.createOpenApiDocument(deps.version));
    res.json(await openApiDocument);
  });

  app.use('/v1', requireApiKey(deps.apiKeys), (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  app.use(lazyV1Routes(deps));
  if (deps.signIn) app.use(signInRoutes(deps.signIn));

  if (deps.webRoot) app.use(webApp(deps.webRoot));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/**
 * The `/v1` routes (routes/index.ts), loaded with the services they use on the first `/v1` request: neither a
 * Lambda's start nor a request for the UI loads the route modules or the SDK (`/health` loads the services
 * for its checks, not the routes).
 */
function lazyV1Routes(deps: ApiDependencies): RequestHandler {
  let routes: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    if (!req.path.startsWith('/v1/')) return next();
    routes ??= Promise.all([import('./routes/index.ts'), deps.services()]).then(([{ v1Routes }, services]) =>
      v1Routes({ ...deps, ...services }),
    );
    routes.then((router) => router(req, res, next), next);
  };
}

/**
 * The built web UI: its files, and `index.html` for any other page path (client-side routing). API paths and
 * missing files (a path with an extension) fall through to the JSON 404.
 */
function webApp(webRoot: string): RequestHandler {
  const root = resolve(webRoot);
  const index = join(root, 'index.html');
  const router = express.Router();
  router.use((req, res, next) => {
    if (!req.path.startsWith('/v1/')) res.locals.routeLabel = `${req.method} web`;
    next();
  });
  router.use(
    express.static(root, {
      index: 'index.html',
      setHeaders: (res, path) => {
        if (path === index) res.set('cache-control', 'no-cache');
      },
    }),
  );
  router.get('/{*path}', (req, res, next) => {
    if (req.path.startsWith('/v1/') || extname(req.path)) {
      next();
      return;
    }
    res.set('cache-control', 'no-cache').sendFile(index);
  });
  return router;
}
