# The worker Lambda image: the Step Functions task handler and the S3 ingest handler in one bundle.
# The worker function runs the default command; the ingest function overrides it with
# "index.ingestHandler" (`ingestCommand`, the image_config.command in infra/src/stacks/aws-platform.ts).
# Build from the repository root, for the functions' architecture (x86_64):
#   docker buildx build --platform linux/amd64 --provenance=false -f docker/worker.Dockerfile -t mc-vision-worker .

# The build runs on the builder's own platform; sharp is installed for Lambda's platform explicitly, below.
FROM --platform=$BUILDPLATFORM public.ecr.aws/docker/library/node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10
# The packages, from the lockfile alone: this layer stays cached until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile --filter mc-vision --filter @mc-vision/worker... \
 && pnpm --filter @mc-vision/worker build
# The bundle's package.json pins sharp at the workspace's version: install it for Lambda (linux x64, glibc).
RUN cd services/worker/dist/worker && npm install --omit=dev --no-audit --no-fund --os=linux --cpu=x64 --libc=glibc

FROM public.ecr.aws/lambda/nodejs:24
COPY --from=build /src/services/worker/dist/worker/ ${LAMBDA_TASK_ROOT}/
CMD ["index.taskHandler"]
