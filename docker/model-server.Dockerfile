# The classifier image SageMaker hosts: the model server run from its TypeScript sources by Node 24 (type
# stripping), the model package mounted by SageMaker at /opt/ml/model from model.tar.gz.
# Build from the repository root: docker build -f docker/model-server.Dockerfile -t mc-vision-model-server .
FROM public.ecr.aws/docker/library/node:24-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@10
COPY . .
# Workspace packages stay real folders (node_modules only links to them): Node strips types outside node_modules.
# Install scripts stay off: onnxruntime-node ships its CPU binaries, and its script would fetch CUDA.
RUN pnpm install --frozen-lockfile --prod --filter @mc-vision/model-server... \
 && rm -rf web infra services/api services/worker services/local-cloud services/emulators
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
# SageMaker starts the container as `docker run <image> serve`.
ENTRYPOINT ["node", "services/model-server/src/main.ts"]
CMD ["serve"]
