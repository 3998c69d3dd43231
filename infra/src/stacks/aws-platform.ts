import { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias';
import { LambdaProvisionedConcurrencyConfig } from '@cdktf/provider-aws/lib/lambda-provisioned-concurrency-config';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { foundationModelArn, grantedBedrockModelIds } from '@mc-vision/core/bedrock-models';
import type { Config } from '@mc-vision/core/config/index';
import { guardrailPolicy } from '@mc-vision/core/guardrail-policy';
import { resultsTable } from '@mc-vision/core/results-store';
import type { Construct } from 'constructs';
import { batchPrefixes, batchSources } from '@mc-vision/core/batches';
import { Batches } from '../constructs/batches';
import { Classifier } from '../constructs/classifier';
import { ContainerFunction } from '../constructs/container-function';
import { ContainerRegistry } from '../constructs/container-registry';
import { Guardrail } from '../constructs/guardrail';
import { HttpApi } from '../constructs/http-api';
import { ImagesBucket } from '../constructs/images-bucket';
import { Monitoring } from '../constructs/monitoring';
import { Notifications } from '../constructs/notifications';
import { Pipeline } from '../constructs/pipeline';
import { ResultsTable } from '../constructs/results-table';
import { Secrets } from '../constructs/secrets';
import { SecureBucket } from '../constructs/secure-bucket';
import { allow } from '../iam';
import { lambdaEnvironment, type GeneratedValues, type KnownValues } from '../lambda-environment';
import { azureOpenAiEndpoint, functionImage, imagesPrefix, resourceNames, type FunctionRole } from '../names';
import { awsProvider, s3Backend } from '../providers';

/** The worker image's second entry point: the S3 ingest handler (docker/worker.Dockerfile). */
export const ingestCommand = ['index.ingestHandler'];
export const liveAlias = 'live';

/**
 * The Azure key's secret version Terraform used to manage (from the variable `azure_openai_api_key`), as
 * addressed in states written before the key left Terraform. A `removed` block drops it from the state
 * without destroying it, so the value stays current until the deploy job compares and replaces it. A no-op
 * for a state that never had it; delete this once every environment has applied it.
 */
export const formerAzureKeyVersion =
  'aws_secretsmanager_secret_version.secrets_azure-openai-key-value_53981757';

function forgetAzureKeyVersion(stack: TerraformStack): void {
  stack.addOverride('removed', [{ from: formerAzureKeyVersion, lifecycle: [{ destroy: false }] }]);
}

/** Everything the platform runs on in AWS, one construct per concern. */
export class AwsPlatformStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id);
    const names = resourceNames(config);
    awsProvider(this, config);
    s3Backend(this, config, 'aws-platform');

    const registry = new ContainerRegistry(this, 'registry', { names, keepImages: config.ECR_KEEP_IMAGES });
    const results = new ResultsTable(this, 'results', { name: names.resultsTable });
    const notifications = new Notifications(this, 'notifications', {
      names,
      alertEmail: config.ALERT_EMAIL,
      resultsEmail: config.RESULTS_EMAIL,
    });
    const secrets = new Secrets(this, 'secrets', { names });
    forgetAzureKeyVersion(this);
    const guardrail = new Guardrail(this, 'guardrail', { name: names.guardrail, policy: guardrailPolicy });
    const models = new SecureBucket(this, 'models', {
      name: names.modelsBucket,
      noncurrentVersionDays: config.NONCURRENT_VERSION_DAYS,
    });
    const classifier = new Classifier(this, 'classifier', {
      names,
      repository: registry.repositories['model-server'],
      imageTag: config.IMAGE_TAG,
      modelsBucket: { name: models.name, arn: models.arn },
      modelArtifactKey: config.MODEL_ARTIFACT_KEY,
      memoryMb: config.SAGEMAKER_MEMORY_MB,
      maxConcurrency: config.SAGEMAKER_MAX_CONCURRENCY,
      logRetentionDays: config.LOG_RETENTION_DAYS,
    });

    // ---- least privilege, per function ----
    const { region, account } = names;
    const imagesArn = `arn:aws:s3:::${names.imagesBucket}`;
    const readImages = [
      allow('s3:GetObject', `${imagesArn}/${imagesPrefix}*`, 'ReadImages'),
      // Without it S3 answers 403 for a missing key, and a missing image could not be told from a denied one.
      allow('s3:ListBucket', imagesArn, 'TellMissingImagesApart'),
    ];
    const invokeProviders = [
      allow('sagemaker:InvokeEndpoint', classifier.endpoint.arn, 'InvokeClassifier'),
      allow(
        'bedrock:InvokeModel',
        grantedBedrockModelIds.map((modelId) => foundationModelArn(region, modelId)),
        'InvokeBedrockModel',
      ),
      allow('bedrock:ApplyGuardrail', guardrail.guardrail.guardrailArn, 'ApplyGuardrail'),
      allow('secretsmanager:GetSecretValue', secrets.azureOpenAiKey.arn, 'ReadAzureKey'),
    ];
    const table = results.table.arn;
    const batchMachines = batchSources.map((source) => names.batchStateMachineArn(source));
    const batchExecutions = batchSources.map(
      (source) => `arn:aws:states:${region}:${account}:execution:${names.batchStateMachine(source)}:*`,
    );
    const batchMapRuns = batchSources.map(
      (source) => `arn:aws:states:${region}:${account}:mapRun:${names.batchStateMachine(source)}/*`,
    );
    const batchIndex = `${table}/index/${resultsTable.batchIndex.name}`;
    const permissions: Record<FunctionRole, ReturnType<typeof allow>[]> = {
      api: [
        ...readImages,
        allow('s3:PutObject', `${imagesArn}/${imagesPrefix}*`, 'StoreImages'),
        allow(
          ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          [table, `${table}/index/${resultsTable.listIndex.name}`],
          'Results',
        ),
        allow('states:StartExecution', names.stateMachineArn, 'StartPipelines'),
        allow(
          ['states:DescribeExecution', 'states:GetExecutionHistory'],
          `arn:aws:states:${region}:${account}:execution:${names.stateMachine}:*`,
          'ReadPipelines',
        ),
        ...invokeProviders,
        allow('secretsmanager:GetSecretValue', secrets.apiKeys.arn, 'ReadApiKeys'),
        // GET /health looks at each dependency (the images bucket is covered by ListBucket above).
        allow('dynamodb:DescribeTable', table, 'HealthResultsTable'),
        allow('states:DescribeStateMachine', names.stateMachineArn, 'HealthStateMachine'),
        // Batches: start them (after writing their key list), follow their map runs, count their records.
        allow('s3:PutObject', `${imagesArn}/${batchPrefixes.manifests}*`, 'WriteKeyLists'),
        allow(['states:StartExecution', 'states:ListExecutions'], batchMachines, 'StartBatches'),
        allow(
          ['states:DescribeExecution', 'states:RedriveExecution', 'states:ListMapRuns'],
          batchExecutions,
          'ReadAndRedriveBatches',
        ),
        allow('states:DescribeMapRun', batchMapRuns, 'ReadBatchMapRuns'),
        allow(['dynamodb:Query', 'dynamodb:BatchGetItem'], [table, batchIndex], 'ReadBatchRecords'),
        allow('sagemaker:DescribeEndpoint', classifier.endpoint.arn, 'HealthClassifier'),
        // The monitoring view: GetMetricData has no resource-level permissions (it reads only metrics); the
        // alarms and their history are this environment's alarms only.
        allow('cloudwatch:GetMetricData', '*', 'ReadMonitoringMetrics'),
        allow(
          ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
          `arn:aws:cloudwatch:${region}:${account}:alarm:${names.alarmPrefix}*`,
          'ReadAlarms',
        ),
      ],
      worker: [
        ...readImages,
        ...invokeProviders,
        // SummarizeBatch: the batch's map run and its records.
        allow('states:ListMapRuns', batchExecutions, 'FindBatchMapRuns'),
        allow('states:DescribeMapRun', batchMapRuns, 'CountBatchMapRuns'),
        allow('dynamodb:Query', batchIndex, 'CountBatchRecords'),
      ],
      ingest: [],
    };

    const httpApi = new HttpApi(this, 'http-api', {
      names,
      throttleRateLimit: config.API_THROTTLE_RATE_LIMIT,
      throttleBurstLimit: config.API_THROTTLE_BURST_LIMIT,
      logRetentionDays: config.LOG_RETENTION_DAYS,
    });

    const known: KnownValues = {
      imagesBucket: names.imagesBucket,
      resultsTable: names.resultsTable,
      notifyTopicArn: names.topicArn,
      stateMachineArn: names.stateMachineArn,
      batchStateMachineArns: {
        prefix: names.batchStateMachineArn('prefix'),
        keys: names.batchStateMachineArn('keys'),
      },
      sagemakerEndpoint: names.sagemakerEndpoint,
      azureOpenAiEndpoint: azureOpenAiEndpoint(config),
    };
    const generated: GeneratedValues = {
      guardrailId: guardrail.guardrail.guardrailId,
      guardrailVersion: guardrail.version.version,
      azureKeySecretArn: secrets.azureOpenAiKey.arn,
      apiKeysSecretArn: secrets.apiKeys.arn,
      httpApiId: httpApi.api.id,
    };
    const sizing: Record<FunctionRole, { memoryMb: number; timeoutSeconds: number; reserved?: number }> = {
      api: {
        memoryMb: config.API_MEMORY_MB,
        timeoutSeconds: config.API_TIMEOUT_SECONDS,
        reserved: config.API_RESERVED_CONCURRENCY,
      },
      worker: {
        memoryMb: config.WORKER_MEMORY_MB,
        timeoutSeconds: config.WORKER_TIMEOUT_SECONDS,
        reserved: config.WORKER_RESERVED_CONCURRENCY,
      },
      ingest: { memoryMb: config.INGEST_MEMORY_MB, timeoutSeconds: config.INGEST_TIMEOUT_SECONDS },
    };
    const fn = (role: FunctionRole, values = generated) =>
      new ContainerFunction(this, `${role}-function`, {
        names,
        role,
        imageUri: registry.imageUri(functionImage[role], config.IMAGE_TAG),
        ...(role === 'ingest' ? { command: ingestCommand } : {}),
        memoryMb: sizing[role].memoryMb,
        timeoutSeconds: sizing[role].timeoutSeconds,
        reservedConcurrency: sizing[role].reserved,
        // The API is served through an alias, which provisioned concurrency needs.
        publish: role === 'api',
        environment: lambdaEnvironment(role, config, known, values, sizing[role].timeoutSeconds),
        logRetentionDays: config.LOG_RETENTION_DAYS,
        statements: permissions[role],
      });
    const api = fn('api');
    const ingest = fn('ingest');

    const live = new LambdaAlias(this, 'api-live', {
      name: liveAlias,
      functionName: api.function.functionName,
      functionVersion: api.function.version,
    });
    if (config.API_PROVISIONED_CONCURRENCY > 0) {
      new LambdaProvisionedConcurrencyConfig(this, 'api-provisioned-concurrency', {
        functionName: api.function.functionName,
        qualifier: live.name,
        provisionedConcurrentExecutions: config.API_PROVISIONED_CONCURRENCY,
      });
    }
    httpApi.routeTo(live);
    // After the API: the worker's result notices link to it.
    const worker = fn('worker', { ...generated, apiBaseUrl: httpApi.url });

    const images = new ImagesBucket(this, 'images', {
      name: names.imagesBucket,
      account,
      // The UI is served by the API itself, so its URL is an upload origin too.
      uploadOrigins: [...config.CORS_ORIGINS, httpApi.url],
      retentionDays: config.RESULT_TTL_DAYS,
      noncurrentVersionDays: config.NONCURRENT_VERSION_DAYS,
      ingestFunction: ingest.function,
    });

    const pipeline = new Pipeline(this, 'pipeline', {
      names,
      resources: {
        workerFunctionArn: worker.function.arn,
        resultsTableName: results.table.name,
        notifyTopicArn: notifications.topic.arn,
      },
      topicKeyArn: notifications.key.arn,
      workerTimeoutSeconds: config.WORKER_TIMEOUT_SECONDS,
      logLevel: config.PIPELINE_LOG_LEVEL,
      logRetentionDays: config.LOG_RETENTION_DAYS,
    });

    const batches = new Batches(this, 'batches', {
      names,
      resources: {
        workerFunctionArn: worker.function.arn,
        resultsTableName: results.table.name,
        notifyTopicArn: notifications.topic.arn,
        imagesBucket: names.imagesBucket,
      },
      topicKeyArn: notifications.key.arn,
      config,
    });

    const monitoring = new Monitoring(this, 'monitoring', {
      config,
      names,
      topicArn: notifications.alarmsTopic.arn,
      httpApiId: httpApi.api.id,
    });

    const output = (id: string, value: string, description: string) =>
      new TerraformOutput(this, id, { value, description });
    output('api_url', httpApi.url, 'The API (and web UI) over HTTPS');
    output('images_bucket', images.name, 'Uploads land here under images/');
    output('models_bucket', models.name, `Upload model.tar.gz here as ${config.MODEL_ARTIFACT_KEY}`);
    output('state_machine_arn', pipeline.stateMachine.arn, 'The pipeline');
    for (const source of batchSources) {
      output(
        `batch_${source}_state_machine_arn`,
        batches.stateMachines[source].arn,
        `Batches over ${source === 'prefix' ? 'a prefix' : 'a key list'}`,
      );
    }
    output(
      'notifications_topic_arn',
      notifications.topic.arn,
      "Pipeline results (the functions' NOTIFY_TOPIC_ARN)",
    );
    output('alarms_topic_arn', notifications.alarmsTopic.arn, 'CloudWatch alarms, e-mailed to ALERT_EMAIL');
    output('sagemaker_endpoint', classifier.endpoint.name, 'The classifier endpoint');
    output('guardrail_id', guardrail.guardrail.guardrailId, 'The Bedrock guardrail');
    output('guardrail_version', guardrail.version.version, 'Its published version the functions use');
    output('api_keys_secret_arn', secrets.apiKeys.arn, 'Put the API keys here (see docs/infrastructure.md)');
    output('dashboard_name', monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    for (const [image, repository] of Object.entries(registry.repositories)) {
      output(`ecr_${image.replace('-', '_')}`, repository.repositoryUrl, `Push the ${image} image here`);
    }
  }
}
