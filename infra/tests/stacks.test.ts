import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { BedrockGuardrail } from '@cdktf/provider-aws/lib/bedrock-guardrail';
import { BedrockGuardrailVersion } from '@cdktf/provider-aws/lib/bedrock-guardrail-version';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { LambdaProvisionedConcurrencyConfig } from '@cdktf/provider-aws/lib/lambda-provisioned-concurrency-config';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { SagemakerEndpoint } from '@cdktf/provider-aws/lib/sagemaker-endpoint';
import { SagemakerEndpointConfiguration } from '@cdktf/provider-aws/lib/sagemaker-endpoint-configuration';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { CognitiveAccount } from '@cdktf/provider-azurerm/lib/cognitive-account';
import { CognitiveDeployment } from '@cdktf/provider-azurerm/lib/cognitive-deployment';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { describe, expect, it } from '@jest/globals';
import { guardrailPolicy } from '@mc-vision/core/guardrail-policy';
import { buildMonitoringDefinition } from '@mc-vision/core/monitoring/index';
import { resultsTable } from '@mc-vision/core/results-store';
import { Testing } from 'cdktf';
import { platformPermissions } from '../src/deploy-permissions';
import { resourceNames } from '../src/names';
import { AwsPlatformStack, formerAzureKeyVersion, ingestCommand } from '../src/stacks/aws-platform';
import { AzureOpenAiStack } from '../src/stacks/azure-openai';
import { StateBackendStack } from '../src/stacks/state-backend';
import { configOf, expectSynth, only, ref, resources, synth, type TerraformJson } from './helpers';
import { asList, type PolicyStatement } from './policy-checks';

const dev = configOf('dev');
const prod = configOf('prod');
const names = resourceNames(dev);
const platform = synth(new AwsPlatformStack(Testing.app(), 'dev-aws-platform', dev));
const azure = synth(new AzureOpenAiStack(Testing.app(), 'dev-azure-openai', dev));
const backend = synth(new StateBackendStack(Testing.app(), 'dev-state-backend', dev));
const { json } = platform;

describe('snapshots', () => {
  it.each([
    ['state backend', backend],
    ['AWS platform', platform],
    ['Azure OpenAI', azure],
  ])('the %s stack synthesizes as before', (_, stack) => {
    expect(stack.text).toMatchSnapshot();
  });
});

describe('dev and prod', () => {
  const addresses = (j: TerraformJson) =>
    Object.entries(j.resource ?? {}).flatMap(([type, all]) => Object.keys(all).map((a) => `${type}.${a}`));

  it('are the same stacks with other values', () => {
    const prodPlatform = synth(new AwsPlatformStack(Testing.app(), 'prod-aws-platform', prod)).json;
    expect(addresses(prodPlatform)).toEqual(addresses(json));
    expect(only(prodPlatform, 'aws_lambda_function', 'api-function')[1].memory_size).toBe(prod.API_MEMORY_MB);
    expect(only(json, 'aws_lambda_function', 'api-function')[1].memory_size).toBe(dev.API_MEMORY_MB);
    expectSynth(platform.text).not.toHaveResource(LambdaProvisionedConcurrencyConfig);
  });

  it('reserve and keep warm what the configuration asks for, once the account has the quota', () => {
    // Both environments start without (a new account's quota cannot meet it); the values prod.env suggests.
    const raised = {
      ...prod,
      API_RESERVED_CONCURRENCY: 50,
      WORKER_RESERVED_CONCURRENCY: 40,
      API_PROVISIONED_CONCURRENCY: 2,
    };
    const stack = synth(new AwsPlatformStack(Testing.app(), 'prod-aws-platform', raised));
    expectSynth(stack.text).toHaveResourceWithProperties(LambdaProvisionedConcurrencyConfig, {
      qualifier: ref('aws_lambda_alias', 'api-live', 'name'),
      provisioned_concurrent_executions: 2,
    });
    expect(only(stack.json, 'aws_lambda_function', 'api-function')[1].reserved_concurrent_executions).toBe(
      50,
    );
    expect(only(stack.json, 'aws_lambda_function', 'worker-function')[1].reserved_concurrent_executions).toBe(
      40,
    );
    expect(
      only(json, 'aws_lambda_function', 'api-function')[1].reserved_concurrent_executions,
    ).toBeUndefined();
  });
});

describe('AWS platform', () => {
  it('pins the provider to the configured account and region, and tags everything', () => {
    expectSynth(platform.text).toHaveProviderWithProperties(AwsProvider, {
      region: dev.AWS_REGION,
      allowed_account_ids: [dev.AWS_ACCOUNT_ID],
      default_tags: [{ tags: { project: dev.NAME_PREFIX, environment: 'dev', 'managed-by': 'cdktf' } }],
    });
  });

  it('runs the three functions from their images at the configured tag, the ingest one on its own handler', () => {
    const [apiRepo] = only(json, 'aws_ecr_repository', 'registry_api');
    const [workerRepo] = only(json, 'aws_ecr_repository', 'registry_worker');
    const image = (repo: string) => `${ref('aws_ecr_repository', repo, 'repository_url')}:${dev.IMAGE_TAG}`;
    expectSynth(platform.text).toHaveResourceWithProperties(LambdaFunction, {
      function_name: names.functionName('api'),
      package_type: 'Image',
      image_uri: image(apiRepo),
      memory_size: dev.API_MEMORY_MB,
      timeout: dev.API_TIMEOUT_SECONDS,
    });
    expectSynth(platform.text).toHaveResourceWithProperties(LambdaFunction, {
      function_name: names.functionName('worker'),
      image_uri: image(workerRepo),
      timeout: dev.WORKER_TIMEOUT_SECONDS,
    });
    expectSynth(platform.text).toHaveResourceWithProperties(LambdaFunction, {
      function_name: names.functionName('ingest'),
      image_uri: image(workerRepo),
      image_config: { command: ingestCommand },
    });
  });

  it('serves the API over an HTTP API with throttling from the configuration', () => {
    const [aliasAddress] = only(json, 'aws_lambda_alias');
    expectSynth(platform.text).toHaveResourceWithProperties(Apigatewayv2Integration, {
      integration_type: 'AWS_PROXY',
      integration_uri: ref('aws_lambda_alias', aliasAddress, 'arn'),
      payload_format_version: '2.0',
    });
    expectSynth(platform.text).toHaveResourceWithProperties(Apigatewayv2Route, { route_key: '$default' });
    expectSynth(platform.text).toHaveResourceWithProperties(Apigatewayv2Stage, {
      name: '$default',
      auto_deploy: true,
      default_route_settings: {
        throttling_rate_limit: dev.API_THROTTLE_RATE_LIMIT,
        throttling_burst_limit: dev.API_THROTTLE_BURST_LIMIT,
        detailed_metrics_enabled: true,
      },
    });
    expectSynth(platform.text).toHaveResourceWithProperties(LambdaPermission, {
      principal: 'apigateway.amazonaws.com',
      qualifier: ref('aws_lambda_alias', aliasAddress, 'name'),
      source_arn: `${ref('aws_apigatewayv2_api', only(json, 'aws_apigatewayv2_api')[0], 'execution_arn')}/*`,
    });
  });

  it('sends every upload under images/ to the ingest function, and lets the UI origins PUT', () => {
    const [ingest] = only(json, 'aws_lambda_function', 'ingest-function');
    const [bucket] = only(json, 'aws_s3_bucket', 'images');
    expectSynth(platform.text).toHaveResourceWithProperties(S3BucketNotification, {
      bucket: ref('aws_s3_bucket', bucket, 'id'),
      lambda_function: [
        {
          lambda_function_arn: ref('aws_lambda_function', ingest, 'arn'),
          events: ['s3:ObjectCreated:*'],
          filter_prefix: 'images/',
        },
      ],
    });
    expectSynth(platform.text).toHaveResourceWithProperties(LambdaPermission, {
      principal: 's3.amazonaws.com',
      source_arn: ref('aws_s3_bucket', bucket, 'arn'),
      source_account: dev.AWS_ACCOUNT_ID,
    });
    const [, cors] = only(json, 'aws_s3_bucket_cors_configuration');
    const [apiAddress] = only(json, 'aws_apigatewayv2_api');
    expect(cors.cors_rule).toEqual([
      expect.objectContaining({
        allowed_methods: ['PUT'],
        allowed_origins: [...dev.CORS_ORIGINS, ref('aws_apigatewayv2_api', apiAddress, 'api_endpoint')],
      }),
    ]);
  });

  it("lays out the results table as the core's resultsTable says", () => {
    expectSynth(platform.text).toHaveResourceWithProperties(DynamodbTable, {
      name: names.resultsTable,
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: resultsTable.partitionKey,
      ttl: { attribute_name: resultsTable.ttlAttribute, enabled: true },
      global_secondary_index: [
        {
          name: resultsTable.listIndex.name,
          hash_key: resultsTable.listIndex.partitionKey,
          range_key: resultsTable.listIndex.sortKey,
          projection_type: 'ALL',
        },
        {
          name: resultsTable.batchIndex.name,
          hash_key: resultsTable.batchIndex.partitionKey,
          range_key: resultsTable.batchIndex.sortKey,
          projection_type: 'INCLUDE',
          non_key_attributes: [...resultsTable.batchIndex.projected],
        },
      ],
    });
  });

  it('hosts the classifier on a serverless endpoint sized by the configuration', () => {
    const [, model] = only(json, 'aws_sagemaker_model');
    const [repo] = only(json, 'aws_ecr_repository', 'registry_model-server');
    const [modelsBucket] = only(json, 'aws_s3_bucket', 'models');
    expect(model.primary_container).toEqual({
      image: `${ref('aws_ecr_repository', repo, 'repository_url')}:${dev.IMAGE_TAG}`,
      model_data_url: `s3://${ref('aws_s3_bucket', modelsBucket, 'bucket')}/${dev.MODEL_ARTIFACT_KEY}`,
    });
    // Serverless Inference supports neither network isolation nor a VPC: either would fail the endpoint.
    expect(model.enable_network_isolation).toBeUndefined();
    expect(model.vpc_config).toBeUndefined();
    expectSynth(platform.text).toHaveResourceWithProperties(SagemakerEndpointConfiguration, {
      production_variants: [
        expect.objectContaining({
          serverless_config: {
            memory_size_in_mb: dev.SAGEMAKER_MEMORY_MB,
            max_concurrency: dev.SAGEMAKER_MAX_CONCURRENCY,
          },
        }),
      ],
    });
    expectSynth(platform.text).toHaveResourceWithProperties(SagemakerEndpoint, {
      name: names.sagemakerEndpoint,
    });
    // Its role reads only that artifact and pulls only from that repository.
    const [, policy] = only(json, 'aws_iam_role_policy', 'classifier');
    const statements = (
      JSON.parse(String(policy.policy)) as { Statement: { Action: unknown; Resource: unknown }[] }
    ).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: `${ref('aws_s3_bucket', modelsBucket, 'arn')}/${dev.MODEL_ARTIFACT_KEY}`,
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: ref('aws_ecr_repository', repo, 'arn'),
      }),
    );
  });

  it("renders the guardrail from the core's guardrail policy, and publishes a version", () => {
    const [address] = only(json, 'aws_bedrock_guardrail');
    expectSynth(platform.text).toHaveResourceWithProperties(BedrockGuardrail, {
      name: names.guardrail,
      blocked_input_messaging: guardrailPolicy.blockedInputMessaging,
      blocked_outputs_messaging: guardrailPolicy.blockedOutputsMessaging,
      sensitive_information_policy_config: [
        { pii_entities_config: guardrailPolicy.piiEntities.map((e) => ({ type: e.type, action: e.action })) },
      ],
      content_policy_config: [
        {
          filters_config: guardrailPolicy.contentFilters.map((f) => ({
            type: f.type,
            input_strength: f.inputStrength,
            output_strength: f.outputStrength,
          })),
        },
      ],
      word_policy_config: [
        { managed_word_lists_config: guardrailPolicy.managedWordLists.map((type) => ({ type })) },
      ],
    });
    expectSynth(platform.text).toHaveResourceWithProperties(BedrockGuardrailVersion, {
      guardrail_arn: ref('aws_bedrock_guardrail', address, 'guardrail_arn'),
    });
  });

  it('keeps every secret value out of Terraform: two secrets without a version, no variable carries one', () => {
    // The Azure key is copied into its secret by the deploy job, the API keys by an operator: neither is in
    // the plan, the state or any variable, so the plan role (pull requests) never sees one.
    expect(
      resources(json, 'aws_secretsmanager_secret')
        .map(([, s]) => s.name)
        .sort(),
    ).toEqual([names.apiKeysSecret, names.azureKeySecret]);
    expectSynth(platform.text).not.toHaveResource(SecretsmanagerSecretVersion);
    expect(json.variable ?? {}).toEqual({});
    for (const stack of [platform, backend]) {
      for (const [name, variable] of Object.entries(stack.json.variable ?? {})) {
        expect({ name, sensitive: variable.sensitive }).toEqual({ name, sensitive: undefined });
      }
    }
    expect(JSON.stringify(json.output)).not.toMatch(/var\.|azure_openai_api_key|primary_access_key/);
  });

  it('forgets the secret version earlier releases managed, without destroying its value', () => {
    const [, former] = formerAzureKeyVersion.split('.');
    expect(platform.json.removed).toEqual([
      { from: `aws_secretsmanager_secret_version.${former}`, lifecycle: [{ destroy: false }] },
    ]);
    // The address is the one the Secrets construct gave the version (constructs/secrets.ts before this change).
    expect(former).toMatch(/^secrets_azure-openai-key-value_[0-9A-F]{8}$/);
  });

  it("lets the account use every KMS action the deploy role and the pipeline take on the topic's key", () => {
    // IAM grants on a key work only for the actions its key policy delegates to the account.
    const [, key] = only(json, 'aws_kms_key');
    const account = { AWS: `arn:aws:iam::${dev.AWS_ACCOUNT_ID}:root` };
    const delegated = (JSON.parse(String(key.policy)) as { Statement: PolicyStatement[] }).Statement.filter(
      (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal) === JSON.stringify(account),
    ).flatMap((s) => asList(s.Action));
    const permissions = platformPermissions(names);
    // Creating, renaming or deleting an alias needs the action on the key as well as on the alias.
    const used = [
      ...permissions.kmsKeys!.read,
      ...permissions.kmsKeys!.write,
      ...permissions.kmsManageAliases!.write,
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ];
    expect(used.filter((action) => !delegated.includes(action))).toEqual([]);
  });

  it('e-mails the alarms to the alert address and the results to the results address', () => {
    const [alarmsAddress] = only(json, 'aws_sns_topic', 'notifications_alarms-topic_');
    const [resultsAddress] = only(json, 'aws_sns_topic', 'notifications_topic_');
    const subscriptions = resources(json, 'aws_sns_topic_subscription').map(
      ([, subscription]) => subscription,
    );
    expect(subscriptions.map(({ topic_arn, endpoint }) => ({ topic_arn, endpoint }))).toEqual([
      { topic_arn: ref('aws_sns_topic', alarmsAddress, 'arn'), endpoint: dev.ALERT_EMAIL },
      { topic_arn: ref('aws_sns_topic', resultsAddress, 'arn'), endpoint: dev.RESULTS_EMAIL },
    ]);
  });
});

describe('monitoring', () => {
  const [topicAddress] = only(json, 'aws_sns_topic', 'notifications_alarms-topic_');
  const topicArn = ref('aws_sns_topic', topicAddress, 'arn');

  it('sends alarms to their own topic, never to the pipeline results topic', () => {
    const [resultsAddress, results] = only(json, 'aws_sns_topic', 'notifications_topic_');
    const [, alarmsTopic] = only(json, 'aws_sns_topic', 'notifications_alarms-topic_');
    expect(results.name).toBe(names.topic);
    expect(alarmsTopic.name).toBe(names.alarmsTopic);
    expect(names.alarmsTopic).not.toBe(names.topic);
    // The pipeline publishes its results to the results topic (its definition names the topic by reference).
    const [, machine] = only(json, 'aws_sfn_state_machine', 'pipeline_');
    const resultsArn = ref('aws_sns_topic', resultsAddress, 'arn');
    expect(String(machine.definition)).toContain(resultsArn);
    expect(String(machine.definition)).not.toContain(topicArn);
    // Every alarm notifies the alarms topic only.
    for (const [, alarm] of resources(json, 'aws_cloudwatch_metric_alarm')) {
      expect([...(alarm.alarm_actions as string[]), ...(alarm.ok_actions as string[])]).not.toContain(
        resultsArn,
      );
    }
  });
  const alarms = resources(json, 'aws_cloudwatch_metric_alarm').map(([, alarm]) => alarm);
  const alarm = (id: string) => alarms.find((a) => a.alarm_name === names.alarm(id));

  it("renders every alarm of core's monitoring definition as it is, each notifying the topic", () => {
    const [apiAddress] = only(json, 'aws_apigatewayv2_api');
    const definition = buildMonitoringDefinition(
      {
        functionNames: {
          api: names.functionName('api'),
          worker: names.functionName('worker'),
          ingest: names.functionName('ingest'),
        },
        serviceName: dev.SERVICE_NAME,
        stateMachineArn: names.stateMachineArn,
        batchStateMachineArns: [names.batchStateMachineArn('prefix'), names.batchStateMachineArn('keys')],
        classifierEndpoint: names.sagemakerEndpoint,
        httpApiId: ref('aws_apigatewayv2_api', apiAddress, 'id'),
        resultsTable: names.resultsTable,
        alarmNamePrefix: names.alarmPrefix,
        dashboardName: names.dashboard,
      },
      dev,
    );
    const expected = definition.alarms.map((a) => ({
      alarm_name: a.name,
      alarm_description: a.description,
      namespace: a.metric.namespace,
      metric_name: a.metric.name,
      dimensions: a.metric.dimensions,
      ...(a.statistic.startsWith('p') ? { extended_statistic: a.statistic } : { statistic: a.statistic }),
      period: a.period,
      evaluation_periods: a.evaluationPeriods,
      datapoints_to_alarm: a.datapointsToAlarm,
      threshold: a.threshold,
      comparison_operator: a.comparison,
      treat_missing_data: a.treatMissingData,
      alarm_actions: [topicArn],
      ok_actions: [topicArn],
    }));
    const byName = (a: { alarm_name?: unknown }, b: { alarm_name?: unknown }) =>
      String(a.alarm_name).localeCompare(String(b.alarm_name));
    expect([...alarms].sort(byName)).toEqual(expected.sort(byName));
    // 25, and a failed and a timed-out alarm for each of the two batch state machines.
    expect(alarms).toHaveLength(29);
  });

  it('watches the metrics each part publishes, with thresholds from the configuration', () => {
    const fn = (role: 'api' | 'worker' | 'ingest') => ({ FunctionName: names.functionName(role) });
    const service = { service: dev.SERVICE_NAME };
    const expected: [string, string, string, string, number, Record<string, string>][] = [
      ['api-errors', 'AWS/Lambda', 'Errors', 'Sum', dev.ALARM_API_ERRORS, fn('api')],
      ['api-p95-duration', 'AWS/Lambda', 'Duration', 'p95', dev.ALARM_API_P95_MS, fn('api')],
      ['worker-errors', 'AWS/Lambda', 'Errors', 'Sum', dev.ALARM_WORKER_ERRORS, fn('worker')],
      ['ingest-p95-duration', 'AWS/Lambda', 'Duration', 'p95', dev.ALARM_INGEST_P95_MS, fn('ingest')],
      [
        'pipeline-failed',
        'AWS/States',
        'ExecutionsFailed',
        'Sum',
        dev.ALARM_PIPELINE_FAILED,
        { StateMachineArn: names.stateMachineArn },
      ],
      [
        'classifier-5xx',
        'AWS/SageMaker',
        'Invocation5XXErrors',
        'Sum',
        dev.ALARM_SAGEMAKER_5XX,
        { EndpointName: names.sagemakerEndpoint, VariantName: 'AllTraffic' },
      ],
      ['api-p95-latency', 'MCVision', 'Latency', 'p95', dev.ALARM_API_LATENCY_P95_MS, service],
      [
        'bedrock-unavailable',
        'MCVision',
        'ProviderUnavailable',
        'Average',
        dev.ALARM_PROVIDER_UNAVAILABLE_PERCENT / 100,
        { ...service, provider: 'bedrock' },
      ],
      [
        'azure-throttled',
        'MCVision',
        'ProviderThrottled',
        'Average',
        dev.ALARM_PROVIDER_THROTTLED_PERCENT / 100,
        { ...service, provider: 'azure' },
      ],
      [
        'bedrock-guardrail-interventions',
        'MCVision',
        'GuardrailInterventions',
        'Sum',
        dev.ALARM_GUARDRAIL_INTERVENTIONS,
        { ...service, provider: 'bedrock' },
      ],
      ['partial-records', 'MCVision', 'PartialRecords', 'Sum', dev.ALARM_PARTIAL_RECORDS, service],
      ['failed-records', 'MCVision', 'FailedRecords', 'Sum', dev.ALARM_FAILED_RECORDS, service],
      [
        'ingest-skipped-records',
        'MCVision',
        'IngestRecordsSkipped',
        'Sum',
        dev.ALARM_INGEST_SKIPPED_RECORDS,
        service,
      ],
    ];
    for (const [id, namespace, metric, statistic, threshold, dimensions] of expected) {
      const a = alarm(id);
      expect({ id, ...a, statistic: a?.statistic ?? a?.extended_statistic }).toMatchObject({
        id,
        namespace,
        metric_name: metric,
        statistic,
        threshold,
        dimensions,
        comparison_operator: 'GreaterThanThreshold',
        treat_missing_data: 'notBreaching',
      });
    }
  });

  it("lets the API read the dashboard's metrics and this environment's alarms, nothing wider", () => {
    const statements = resources(json, 'aws_iam_role_policy').flatMap(
      ([, policy]) => (JSON.parse(String(policy.policy)) as { Statement: PolicyStatement[] }).Statement,
    );
    const cloudwatch = statements.filter((statement) =>
      asList(statement.Action).some((action) => action.startsWith('cloudwatch:')),
    );
    expect(cloudwatch).toEqual([
      { Sid: 'ReadMonitoringMetrics', Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*' },
      {
        Sid: 'ReadAlarms',
        Effect: 'Allow',
        Action: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        Resource: `arn:aws:cloudwatch:${dev.AWS_REGION}:${dev.AWS_ACCOUNT_ID}:alarm:${names.alarmPrefix}*`,
      },
    ]);
    const [, api] = only(json, 'aws_lambda_function', 'api-function');
    const variables = (api.environment as { variables: Record<string, string> }).variables;
    const [apiAddress] = only(json, 'aws_apigatewayv2_api');
    expect(variables).toMatchObject({
      NAME_PREFIX: dev.NAME_PREFIX,
      DEPLOY_ENV: 'dev',
      HTTP_API_ID: ref('aws_apigatewayv2_api', apiAddress, 'id'),
    });
  });

  it('follows the configuration when the thresholds change', () => {
    const stricter = { ...dev, ALARM_WORKER_ERRORS: 0, ALARM_API_P95_MS: 1234 };
    const other = synth(new AwsPlatformStack(Testing.app(), 'dev-aws-platform', stricter)).json;
    const thresholds = Object.fromEntries(
      resources(other, 'aws_cloudwatch_metric_alarm').map(([, a]) => [a.alarm_name, a.threshold]),
    );
    expect(thresholds[names.alarm('worker-errors')]).toBe(0);
    expect(thresholds[names.alarm('api-p95-duration')]).toBe(1234);
  });

  it('draws a dashboard of at least 19 widgets over every part of the platform', () => {
    const [, dashboard] = only(json, 'aws_cloudwatch_dashboard');
    const body = JSON.parse(String(dashboard.dashboard_body)) as {
      widgets: { type: string; properties: { metrics?: unknown[][]; alarms?: string[] } }[];
    };
    expect(body.widgets.length).toBeGreaterThanOrEqual(19);
    const lines = body.widgets.flatMap((w) => w.properties.metrics ?? []).map((l) => JSON.stringify(l));
    const covers = (...parts: string[]) => lines.some((l) => parts.every((p) => l.includes(p)));
    for (const role of ['api', 'worker', 'ingest'] as const) {
      expect(covers('AWS/Lambda', names.functionName(role))).toBe(true);
    }
    expect(covers('AWS/States', names.stateMachineArn)).toBe(true);
    expect(covers('AWS/SageMaker', names.sagemakerEndpoint)).toBe(true);
    expect(covers('AWS/DynamoDB', names.resultsTable)).toBe(true);
    expect(covers('AWS/ApiGateway')).toBe(true);
    expect(body.widgets.find((w) => w.type === 'alarm')?.properties.alarms).toHaveLength(alarms.length);
  });

  it('draws DynamoDB metrics with the dimensions DynamoDB publishes them under', () => {
    // A line with other dimensions than the metric has draws nothing (ThrottledRequests needs Operation).
    const published: Record<string, string[]> = {
      ConsumedReadCapacityUnits: ['TableName'],
      ConsumedWriteCapacityUnits: ['TableName'],
      ReadThrottleEvents: ['TableName'],
      WriteThrottleEvents: ['TableName'],
      ThrottledRequests: ['Operation', 'TableName'],
      SystemErrors: ['Operation', 'TableName'],
      SuccessfulRequestLatency: ['Operation', 'TableName'],
      UserErrors: [],
    };
    const [, dashboard] = only(json, 'aws_cloudwatch_dashboard');
    const body = JSON.parse(String(dashboard.dashboard_body)) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    const lines = body.widgets
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((line) => line[0] === 'AWS/DynamoDB');
    expect(lines.length).toBeGreaterThan(0);
    for (const [, metric, ...rest] of lines) {
      const pairs = rest.filter((part) => typeof part === 'string');
      const dimensions = pairs.filter((_, i) => i % 2 === 0).sort();
      expect({ metric, dimensions }).toEqual({ metric, dimensions: published[String(metric)] });
    }
  });
});

describe('Azure OpenAI', () => {
  it('deploys GPT-4o-mini on an OpenAI account with the configured subdomain, auth and capacity', () => {
    expectSynth(azure.text).toHaveProviderWithProperties(AzurermProvider, { features: [{}] });
    expectSynth(azure.text).toHaveResourceWithProperties(CognitiveAccount, {
      kind: 'OpenAI',
      name: dev.AZURE_OPENAI_ACCOUNT,
      custom_subdomain_name: dev.AZURE_OPENAI_ACCOUNT,
      local_auth_enabled: dev.AZURE_OPENAI_LOCAL_AUTH,
    });
    expectSynth(azure.text).toHaveResourceWithProperties(CognitiveDeployment, {
      name: dev.AZURE_OPENAI_DEPLOYMENT,
      model: { format: 'OpenAI', name: 'gpt-4o-mini', version: dev.AZURE_OPENAI_MODEL_VERSION },
      sku: { name: dev.AZURE_OPENAI_SKU, capacity: '${var.openai_capacity}' },
    });
    expect(azure.json.variable?.openai_capacity).toMatchObject({
      type: 'number',
      default: dev.AZURE_OPENAI_CAPACITY,
    });
  });

  it('outputs the endpoint and deployment, and the key only as sensitive', () => {
    // No key among them: the workflows read it live from the account.
    expect(Object.keys(azure.json.output ?? {}).sort()).toEqual(['deployment_name', 'endpoint']);
    expect(azure.json.output?.endpoint?.sensitive).toBeUndefined();
  });

  it('is the endpoint the AWS functions are given', () => {
    const [, account] = only(azure.json, 'azurerm_cognitive_account');
    const endpoint = `https://${String(account.custom_subdomain_name)}.openai.azure.com/`;
    for (const role of ['api', 'worker'] as const) {
      const [, fn] = only(json, 'aws_lambda_function', `${role}-function`);
      const variables = (fn.environment as { variables: Record<string, string> }).variables;
      expect(variables.AZURE_OPENAI_ENDPOINT).toBe(endpoint);
      expect(variables.AZURE_OPENAI_DEPLOYMENT).toBe(dev.AZURE_OPENAI_DEPLOYMENT);
    }
  });
});

describe('state backend', () => {
  it("trusts GitHub's OIDC tokens for this repository only: PRs and main may plan, the environment deploys", () => {
    expectSynth(backend.text).toHaveResourceWithProperties(IamOpenidConnectProvider, {
      url: 'https://token.actions.githubusercontent.com',
      client_id_list: ['sts.amazonaws.com'],
    });
    const trust = (purpose: 'plan' | 'deploy') => {
      const [, role] = resources(backend.json, 'aws_iam_role').find(
        ([, r]) => r.name === names.githubRole(purpose),
      )!;
      return (JSON.parse(String(role.assume_role_policy)) as { Statement: { Condition: unknown }[] })
        .Statement;
    };
    const repo = dev.DEPLOY_REPOSITORY;
    // The subjects carry the ref (the repository's OIDC subject template: repo, context, ref).
    expect(trust('plan')).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
          StringLike: {
            'token.actions.githubusercontent.com:sub': [
              `repo:${repo}:pull_request:ref:refs/pull/*/merge`,
              `repo:${repo}:ref:refs/heads/main:ref:refs/heads/main`,
            ],
          },
        },
      }),
    ]);
    expect(trust('deploy')).toEqual([
      expect.objectContaining({
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': [`repo:${repo}:environment:dev:ref:refs/heads/main`],
          },
        },
      }),
    ]);
  });

  it('lets the deploy role create roles only under the workload permissions boundary', () => {
    const [, policy] = resources(backend.json, 'aws_iam_role_policy').find(([a]) =>
      a.startsWith('github_deploy'),
    )!;
    const statements = (
      JSON.parse(String(policy.policy)) as { Statement: { Action: string | string[]; Condition?: unknown }[] }
    ).Statement;
    const creating = statements.filter((s) => [s.Action].flat().includes('iam:CreateRole'));
    expect(creating).toEqual([
      expect.objectContaining({
        Condition: { StringEquals: { 'iam:PermissionsBoundary': names.workloadBoundaryArn } },
      }),
    ]);
    expect(statements.filter((s) => [s.Action].flat().includes('iam:PutRolePolicy'))).toEqual(creating);
  });

  it('reuses an existing OIDC provider when the account has one', () => {
    const shared = synth(
      new StateBackendStack(Testing.app(), 'dev-state-backend', { ...dev, GITHUB_OIDC_PROVIDER: 'existing' }),
    );
    expectSynth(shared.text).not.toHaveResource(IamOpenidConnectProvider);
    expect(shared.json.data?.aws_iam_openid_connect_provider).toBeDefined();
  });
});
