# The classifier image SageMaker hosts: the model server run from its TypeScript sources by Node 24 (type
# stripping); SageMaker unpacks the model package (model.tar.gz) into /opt/ml/model.
# Build from the repository root, for SageMaker's architecture (x86_64):
#   docker buildx build --platform linux/amd64 --provenance=false -f docker/model-server.Dockerfile -t mc-vision-model-server .

# Built on the target platform: pnpm installs the native packages (sharp, onnxruntime-node) for it.
FROM public.ecr.aws/docker/library/node:24-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10
# The packages, from the lockfile alone: this layer stays cached until the lockfile changes. fetch also links
# every workspace's packages into node_modules: drop that (the store stays) so only what the server needs
# is linked below.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch --prod && rm -rf node_modules
COPY . .
# Production dependencies of the model server and the core only. Install scripts stay off: onnxruntime-node
# ships its CPU binaries, and its script would fetch CUDA.
RUN pnpm install --offline --frozen-lockfile --prod --filter @mc-vision/model-server...
# onnxruntime-node carries every platform's binaries (about 290 MB): keep this platform's only.
RUN cd node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6 \
 && find . -mindepth 2 -maxdepth 2 -type d ! -path "./$(node -p process.platform)/$(node -p process.arch)" -exec rm -rf {} +

FROM public.ecr.aws/docker/library/node:24-bookworm-slim
WORKDIR /app
# Workspace packages stay real folders (their node_modules only link into node_modules/.pnpm): Node strips
# types from .ts files outside node_modules only.
COPY --from=build /app/node_modules/ ./node_modules/
COPY --from=build /app/services/core/ ./services/core/
COPY --from=build /app/services/model-server/ ./services/model-server/
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
# SageMaker starts the container as `docker run <image> serve`.
ENTRYPOINT ["node", "services/model-server/src/main.ts"]
CMD ["serve"]
