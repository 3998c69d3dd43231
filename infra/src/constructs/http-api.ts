import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Construct } from 'constructs';
import type { ResourceNames } from '../names';

export interface HttpApiProps {
  names: ResourceNames;
  throttleRateLimit: number;
  throttleBurstLimit: number;
  logRetentionDays: number;
}

/** One JSON line per request in the access log; never a header or body (they may carry the API key). */
const accessLogFormat = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  time: '$context.requestTime',
  method: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  responseBytes: '$context.responseLength',
  integrationError: '$context.integrationErrorMessage',
});

/**
 * The API over HTTPS: an API Gateway HTTP API whose `$default` route proxies every request to the Express
 * app on Lambda (payload format 2.0), with stage-wide throttling and access logs. The app checks the API
 * key and handles CORS itself, so the same code decides both on a laptop and in the cloud. The API exists
 * before its route to the function (`routeTo`), so the function can be told its id (the `ApiId` of the
 * metrics its monitoring dashboard reads).
 */
export class HttpApi extends Construct {
  readonly api: Apigatewayv2Api;
  readonly stage: Apigatewayv2Stage;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const { names } = props;
    this.api = new Apigatewayv2Api(this, 'api', { name: names.httpApi, protocolType: 'HTTP' });
    const accessLogs = new CloudwatchLogGroup(this, 'access-logs', {
      name: names.httpApiLogGroup,
      retentionInDays: props.logRetentionDays,
    });
    this.stage = new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        detailedMetricsEnabled: true,
      },
      accessLogSettings: { destinationArn: accessLogs.arn, format: accessLogFormat },
    });
  }

  /** Proxies every request to `target` (the API function's `live` alias). */
  routeTo(target: LambdaAlias): void {
    const integration = new Apigatewayv2Integration(this, 'lambda', {
      apiId: this.api.id,
      integrationType: 'AWS_PROXY',
      integrationUri: target.arn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: 30_000,
    });
    new Apigatewayv2Route(this, 'default-route', {
      apiId: this.api.id,
      routeKey: '$default',
      target: `integrations/${integration.id}`,
    });
    new LambdaPermission(this, 'invoke-permission', {
      statementId: 'AllowHttpApiInvoke',
      action: 'lambda:InvokeFunction',
      functionName: target.functionName,
      qualifier: target.name,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.api.executionArn}/*`,
    });
  }

  get url(): string {
    return this.api.apiEndpoint;
  }
}
