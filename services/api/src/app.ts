import { foreignRequest, healthResponseSchema } from '@mc-vision/core';
import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { extname, join, resolve } from 'node:path';
import { requireApiKey } from './auth.ts';
import type { ApiDependencies } from './deps.ts';
import { ApiError, errorHandler, notFoundHandler } from './errors.ts';
import { runHealthChecks } from './health.ts';
import { createOpenApiDocument } from './openapi.ts';
import { requestContextMiddleware } from './request-context.ts';
import { analysisRoutes } from './routes/analyses.ts';
import { imageRoutes } from './routes/images.ts';
import { monitoringRoutes } from './routes/monitoring.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { resultRoutes } from './routes/results.ts';
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

/** Each dependency gets this long to answer `/health`. */
const healthTimeoutMs = 2_000;

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

  app.get('/health', async (_req, res) => {
    const { ready, components } = await runHealthChecks(deps.healthChecks, healthTimeoutMs);
    const allUp = Object.values(components).every((c) => c.status === 'up');
    sendValidated(res, ready ? 200 : 503, healthResponseSchema, {
      status: allUp ? 'ok' : 'degraded',
      mode: config.MODE,
      version: deps.version,
      components,
    });
  });

  const openApiDocument = createOpenApiDocument(deps.version);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  app.use('/v1', requireApiKey(deps.apiKeys), (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  app.use(
    imageRoutes(deps),
    analysisRoutes(deps),
    pipelineRoutes(deps),
    resultRoutes(deps),
    monitoringRoutes(deps),
  );
  if (deps.signIn) app.use(signInRoutes(deps.signIn));

  if (deps.webRoot) app.use(webApp(deps.webRoot));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
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
