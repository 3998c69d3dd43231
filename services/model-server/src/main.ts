import { loadModelServerConfig } from './config.ts';
import { resolveModelDir } from './paths.ts';
import { startModelServer } from './server.ts';

// `pnpm model-server`, and the container's entry point: SageMaker starts it as `docker run <image> serve`.
// One JSON line per event on stdout (CloudWatch Logs in the cloud).

const usage = 'usage: node src/main.ts [serve]   (settings come from the environment: see README.md)';
const args = process.argv.slice(2).filter((arg) => arg !== 'serve');
if (args.length > 0) {
  console.error(args.includes('--help') ? usage : `unexpected arguments: ${args.join(' ')}\n${usage}`);
  process.exit(args.includes('--help') ? 0 : 2);
}

const log = (event: Record<string, unknown>) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), ...event }));

try {
  const config = loadModelServerConfig();
  const modelDir = resolveModelDir(config.MODEL_DIR);
  const server = await startModelServer({
    modelDir,
    port: config.PORT,
    host: config.HOST,
    maxImageBytes: config.MAX_IMAGE_BYTES,
    maxImagePixels: config.MAX_IMAGE_PIXELS,
    defaultTopK: config.CLASSIFIER_TOP_K,
    endpointName: config.SAGEMAKER_ENDPOINT_NAME,
    log,
  });
  log({ event: 'listening', url: server.url, model: server.classifier.model, modelDir });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ event: 'stopping', signal });
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  log({ event: 'failed', error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
