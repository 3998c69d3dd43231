# The worker Lambda image: Step Functions task handler and S3 ingest handler in one bundle.
# The state machine's worker uses the default command; the ingest function overrides it with
# "index.ingestHandler" (image_config.command in infra).
# Build from the repository root: docker build -f docker/worker.Dockerfile -t mc-vision-worker .
FROM public.ecr.aws/docker/library/node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10
COPY . .
RUN pnpm install --frozen-lockfile && pnpm --filter @mc-vision/worker build
RUN cd services/worker/dist/worker && npm install --omit=dev --no-audit --no-fund --os=linux --cpu=x64 --libc=glibc

FROM public.ecr.aws/lambda/nodejs:24
COPY --from=build /src/services/worker/dist/worker/ ${LAMBDA_TASK_ROOT}/
CMD ["index.taskHandler"]
