import { App } from 'cdktf';
import { join } from 'node:path';
import { addEnvironment } from './app';
import { deployEnvironments, loadDeployConfig } from './config';

// `pnpm synth` (tsx src/main.ts) and `cdktf synth|plan|deploy` (cdktf.json's app) both run this: every
// environment's stacks, as Terraform JSON, in infra/cdktf.out/stacks/<env>-<stack>/.
const app = new App({
  outdir: process.env.CDKTF_OUTDIR ?? join(__dirname, '..', 'cdktf.out'),
  stackTraces: false,
});
for (const env of deployEnvironments) addEnvironment(app, loadDeployConfig(env));
app.synth();
