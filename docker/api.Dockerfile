# The API Lambda image: the Express app bundled by esbuild, plus the built web UI it serves.
# Build from the repository root, for the functions' architecture (x86_64):
#   docker buildx build --platform linux/amd64 --provenance=false -f docker/api.Dockerfile -t mc-vision-api .
# (--provenance=false: Lambda refuses the image index buildx makes when it attaches attestations.)

# The build runs on the builder's own platform (esbuild's and Vite's binaries must run there); the one
# native package the bundle leaves out is installed for Lambda's platform explicitly, below.
FROM --platform=$BUILDPLATFORM public.ecr.aws/docker/library/node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10
# The packages, from the lockfile alone: this layer stays cached until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
# Only what the UI and the API build need (and the root's esbuild), never the infrastructure's providers.
RUN pnpm install --offline --frozen-lockfile --filter mc-vision --filter @mc-vision/web... --filter @mc-vision/api... \
 && pnpm --filter @mc-vision/web build \
 && pnpm --filter @mc-vision/api build
# The bundle's package.json pins sharp at the workspace's version: install it for Lambda (linux x64, glibc).
RUN cd services/api/dist/api && npm install --omit=dev --no-audit --no-fund --os=linux --cpu=x64 --libc=glibc

FROM public.ecr.aws/lambda/nodejs:24
COPY --from=build /src/services/api/dist/api/ ${LAMBDA_TASK_ROOT}/
COPY --from=build /src/web/dist/ ${LAMBDA_TASK_ROOT}/web/
# The built UI, for the app's `webRoot` (services/api/tests/image.test.ts checks the Lambda entry serves it).
ENV WEB_ROOT=/var/task/web
CMD ["index.handler"]
