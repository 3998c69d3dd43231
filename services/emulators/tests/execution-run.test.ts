import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// An execution whose bookkeeping breaks mid-run must fail (not stay RUNNING forever) and must never end the
// process. Jest keeps unhandled rejections from ending a test, so the run happens in a Node process of its own.

const script = fileURLToPath(new URL('./support/bookkeeping-failure.ts', import.meta.url));

describe('an execution run whose bookkeeping fails', () => {
  it('records the execution as failed, and the process lives on', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(process.execPath, [script], { timeout: 20_000 }, (error, out, err) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }),
        );
      },
    );
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(stdout)).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      lastEvent: 'ExecutionFailed',
      taskCalls: 0,
    });
    // The failure is reported, once.
    expect(stderr.match(/execution bookkeeping failed/g)).toHaveLength(1);
  });
});
