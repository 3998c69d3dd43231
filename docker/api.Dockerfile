# The API Lambda image: the Express app bundled by esbuild, plus the built web UI it serves.
# Build from the repository root: docker build -f docker/api.Dockerfile -t mc-vision-api .
FROM public.ecr.aws/docker/library/node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm --filter @mc-vision/web build \
 && pnpm --filter @mc-vision/api build
# Native packages left out of the bundle, installed for the Lambda platform (linux x64, glibc).
RUN cd services/api/dist/api && npm install --omit=dev --no-audit --no-fund --os=linux --cpu=x64 --libc=glibc

FROM public.ecr.aws/lambda/nodejs:24
COPY --from=build /src/services/api/dist/api/ ${LAMBDA_TASK_ROOT}/
COPY --from=build /src/web/dist/ ${LAMBDA_TASK_ROOT}/web/
ENV WEB_ROOT=/var/task/web
CMD ["index.handler"]
