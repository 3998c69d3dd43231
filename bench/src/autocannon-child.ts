// Runs one autocannon load in a process of its own (forked with IPC), so the load generator does not share
// the event loop of the local cloud it measures. (autocannon in a worker thread acts as one of its own
// workers and answers raw histograms.)
import autocannon from 'autocannon';

// A Buffer body arrives as a plain Uint8Array (structured clone); autocannon wants a Buffer or a string.
const asBuffer = (body: unknown) =>
  (body instanceof Uint8Array ? Buffer.from(body) : body) as string | Buffer;

process.once('message', (options: autocannon.Options) => {
  const load = {
    ...options,
    ...(options.requests
      ? { requests: options.requests.map((r) => ({ ...r, ...(r.body ? { body: asBuffer(r.body) } : {}) })) }
      : {}),
  };
  autocannon(load, (error, result) => {
    process.send!(error ? { error: String(error) } : { result }, () => process.exit(0));
  });
});
