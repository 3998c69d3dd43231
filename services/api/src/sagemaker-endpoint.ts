import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';

// The SageMaker control plane, for `/health` alone: health.ts imports this module on its first check, so no
// other request loads it. A module of its own because esbuild tree-shakes what a static import names, never a
// dynamically imported package.

/** The endpoint's status (`InService`, `Creating`, …), read with DescribeEndpoint. */
export function endpointStatusReader(region: string) {
  const client = new SageMakerClient({ region });
  return async (endpointName: string, abortSignal: AbortSignal): Promise<string | undefined> => {
    const { EndpointStatus } = await client.send(
      new DescribeEndpointCommand({ EndpointName: endpointName }),
      {
        abortSignal,
      },
    );
    return EndpointStatus;
  };
}
