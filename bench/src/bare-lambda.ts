// The baseline the Lambda bundles are measured against: a bare Express app behind @codegenie/serverless-express,
// bundled by the same scripts/bundle.ts, with one JSON route.
import { configure } from '@codegenie/serverless-express';
import express from 'express';

const app = express();
app.use(express.json());
app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' });
});

export const handler = configure({ app });
