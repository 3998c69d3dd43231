import { allow, traceActions, vendedLogDeliveryActions, type Statement } from './iam';
import { imageNames, type ResourceNames } from './names';

// What Terraform needs to plan (read) and apply (read + write) the platform stack, service by service, with
// every action named (no wildcards) and resources scoped to this environment's own resources (its buckets,
// table, functions, topics, secrets, state machines, log groups, ...). `Resource: '*'` appears only for the
// actions in `wildcardResourceActions`, each with the reason AWS gives it no resource; the tests refuse any
// other. When a provider upgrade reads or writes something new, Terraform reports the missing action by
// name: add it here.

/**
 * The actions AWS offers no resource-level permission for (the Service Authorization Reference lists no
 * resource type, or only `*`), and why each is needed: the only ones any statement here grants on `*`.
 */
export const wildcardResourceActions: Readonly<Record<string, string>> = {
  'cloudwatch:GetMetricData': "the API's monitoring view reads metrics, which have no resource type",
  'ecr:GetAuthorizationToken': 'registry login is account-wide (pushing images, SageMaker pulling one)',
  'kms:CreateKey':
    'a key being created has no ARN yet; conditioned on the request carrying the environment tags',
  'kms:TagResource':
    'tags given in CreateKey are authorized before the key exists; same request-tag condition',
  'kms:ListAliases': 'a list of the whole account and region, with no resource type',
  'lambda:GetAccountSettings': "preflight reads the account's concurrency quota, an account-level setting",
  'servicequotas:GetAWSDefaultServiceQuota':
    "preflight's fallback when a quota has no applied value; no resource type",
  'logs:CreateLogDelivery': 'vended log delivery (Step Functions, API Gateway) has no resource type',
  'logs:DeleteLogDelivery': 'vended log delivery has no resource type',
  'logs:GetLogDelivery': 'vended log delivery has no resource type',
  'logs:ListLogDeliveries': 'vended log delivery has no resource type',
  'logs:UpdateLogDelivery': 'vended log delivery has no resource type',
  'logs:PutResourcePolicy': "CloudWatch Logs' resource policies are account-wide, with no resource type",
  'logs:DescribeResourcePolicies':
    "CloudWatch Logs' resource policies are account-wide, with no resource type",
  'logs:DescribeLogGroups': 'a list action AWS authorizes on `*` only (vended log delivery checks it too)',
  'xray:GetSamplingRules': 'X-Ray has no resource types',
  'xray:GetSamplingTargets': 'X-Ray has no resource types',
  'xray:PutTelemetryRecords': 'X-Ray has no resource types',
  'xray:PutTraceSegments': 'X-Ray has no resource types',
};

interface ServicePermissions {
  read: string[];
  write: string[];
  resources: string[];
  condition?: Statement['Condition'];
}

export function platformPermissions(names: ResourceNames): Record<string, ServicePermissions> {
  const { base, region, account } = names;
  // The provider's default tags (providers.ts) mark everything the stacks create.
  const ownTags = (key: 'ResourceTag' | 'RequestTag') => ({
    [`aws:${key}/project`]: names.project,
    [`aws:${key}/environment`]: names.env,
  });
  return {
    s3: {
      read: [
        's3:GetAccelerateConfiguration',
        's3:GetBucketAcl',
        's3:GetBucketCORS',
        's3:GetBucketLocation',
        's3:GetBucketLogging',
        's3:GetBucketNotification',
        's3:GetBucketObjectLockConfiguration',
        's3:GetBucketOwnershipControls',
        's3:GetBucketPolicy',
        's3:GetBucketPolicyStatus',
        's3:GetBucketPublicAccessBlock',
        's3:GetBucketRequestPayment',
        's3:GetBucketTagging',
        's3:GetBucketVersioning',
        's3:GetBucketWebsite',
        's3:GetEncryptionConfiguration',
        's3:GetLifecycleConfiguration',
        's3:GetReplicationConfiguration',
        's3:ListBucket',
        // AWS provider >= 6.23 reads, sets and removes bucket tags through the S3 Control tagging API (ABAC).
        's3:ListTagsForResource',
      ],
      write: [
        's3:CreateBucket',
        's3:DeleteBucket',
        's3:DeleteBucketPolicy',
        's3:PutBucketCORS',
        's3:PutBucketNotification',
        's3:PutBucketOwnershipControls',
        's3:PutBucketPolicy',
        's3:PutBucketPublicAccessBlock',
        's3:PutBucketTagging',
        's3:PutBucketVersioning',
        's3:PutEncryptionConfiguration',
        's3:PutLifecycleConfiguration',
        // The provider sends the default tags in CreateBucket itself, which AWS authorizes as s3:TagResource.
        's3:TagResource',
        's3:UntagResource',
      ],
      // The two platform buckets by name: the state bucket shares the `${base}-` prefix and is not Terraform's
      // to change from here.
      resources: [`arn:aws:s3:::${names.imagesBucket}`, `arn:aws:s3:::${names.modelsBucket}`],
    },
    dynamodb: {
      read: [
        'dynamodb:DescribeContinuousBackups',
        'dynamodb:DescribeTable',
        'dynamodb:DescribeTimeToLive',
        'dynamodb:ListTagsOfResource',
      ],
      write: [
        'dynamodb:CreateTable',
        'dynamodb:DeleteTable',
        'dynamodb:TagResource',
        'dynamodb:UntagResource',
        'dynamodb:UpdateContinuousBackups',
        'dynamodb:UpdateTable',
        'dynamodb:UpdateTimeToLive',
      ],
      // The results table by name: the lock table shares the `${base}-` prefix.
      resources: [`arn:aws:dynamodb:${region}:${account}:table/${names.resultsTable}`],
    },
    ecr: {
      read: [
        'ecr:DescribeRepositories',
        'ecr:GetLifecyclePolicy',
        'ecr:GetRepositoryPolicy',
        'ecr:ListTagsForResource',
      ],
      write: [
        // Lambda checks the creating principal can pull the image it is given.
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:CreateRepository',
        'ecr:DeleteLifecyclePolicy',
        'ecr:DeleteRepository',
        'ecr:PutImageScanningConfiguration',
        'ecr:PutImageTagMutability',
        'ecr:PutLifecyclePolicy',
        'ecr:SetRepositoryPolicy',
        'ecr:TagResource',
        'ecr:UntagResource',
      ],
      resources: [`arn:aws:ecr:${region}:${account}:repository/${base}/*`],
    },
    lambda: {
      read: [
        'lambda:GetAlias',
        'lambda:GetFunction',
        'lambda:GetFunctionCodeSigningConfig',
        'lambda:GetFunctionConcurrency',
        'lambda:GetFunctionConfiguration',
        'lambda:GetPolicy',
        'lambda:GetProvisionedConcurrencyConfig',
        'lambda:ListTags',
        'lambda:ListVersionsByFunction',
      ],
      write: [
        'lambda:AddPermission',
        'lambda:CreateAlias',
        'lambda:CreateFunction',
        'lambda:DeleteAlias',
        'lambda:DeleteFunction',
        'lambda:DeleteFunctionConcurrency',
        'lambda:DeleteProvisionedConcurrencyConfig',
        'lambda:PublishVersion',
        'lambda:PutFunctionConcurrency',
        'lambda:PutProvisionedConcurrencyConfig',
        'lambda:RemovePermission',
        'lambda:TagResource',
        'lambda:UntagResource',
        'lambda:UpdateAlias',
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
      ],
      resources: [`arn:aws:lambda:${region}:${account}:function:${base}-*`],
    },
    logs: {
      read: ['logs:ListTagsForResource', 'logs:ListTagsLogGroup'],
      write: [
        'logs:CreateLogGroup',
        'logs:DeleteLogGroup',
        'logs:DeleteRetentionPolicy',
        'logs:PutRetentionPolicy',
        'logs:TagLogGroup',
        'logs:TagResource',
        'logs:UntagLogGroup',
        'logs:UntagResource',
      ],
      // This environment's log groups (functions, HTTP API, pipeline, classifier); the trailing `*` covers
      // the `:*` form some log actions are authorized on.
      resources: names.logGroupPrefixes.map(
        (prefix) => `arn:aws:logs:${region}:${account}:log-group:${prefix}*`,
      ),
    },
    // Vended log delivery (Step Functions and API Gateway logging) has no resource-level permissions.
    logDelivery: {
      read: [
        'logs:DescribeLogGroups',
        'logs:DescribeResourcePolicies',
        'logs:GetLogDelivery',
        'logs:ListLogDeliveries',
      ],
      write: [
        'logs:CreateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:PutResourcePolicy',
        'logs:UpdateLogDelivery',
      ],
      resources: ['*'],
    },
    apigateway: {
      read: ['apigateway:GET'],
      write: ['apigateway:DELETE', 'apigateway:PATCH', 'apigateway:POST', 'apigateway:PUT'],
      resources: [
        `arn:aws:apigateway:${region}::/apis`,
        `arn:aws:apigateway:${region}::/apis/*`,
        `arn:aws:apigateway:${region}::/tags/*`,
      ],
    },
    states: {
      read: ['states:DescribeStateMachine', 'states:ListStateMachineVersions', 'states:ListTagsForResource'],
      write: [
        'states:CreateStateMachine',
        'states:DeleteStateMachine',
        'states:TagResource',
        'states:UntagResource',
        'states:UpdateStateMachine',
      ],
      resources: [`arn:aws:states:${region}:${account}:stateMachine:${base}-*`],
    },
    sagemaker: {
      read: [
        'sagemaker:DescribeEndpoint',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:DescribeModel',
        'sagemaker:ListTags',
      ],
      write: [
        'sagemaker:AddTags',
        'sagemaker:CreateEndpoint',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateModel',
        'sagemaker:DeleteEndpoint',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DeleteModel',
        'sagemaker:DeleteTags',
        'sagemaker:UpdateEndpoint',
      ],
      resources: [
        `arn:aws:sagemaker:${region}:${account}:model/${base}-*`,
        `arn:aws:sagemaker:${region}:${account}:endpoint-config/${base}-*`,
        `arn:aws:sagemaker:${region}:${account}:endpoint/${base}-*`,
      ],
    },
    bedrock: {
      read: ['bedrock:GetGuardrail', 'bedrock:ListTagsForResource'],
      write: [
        'bedrock:CreateGuardrail',
        'bedrock:CreateGuardrailVersion',
        'bedrock:DeleteGuardrail',
        'bedrock:TagResource',
        'bedrock:UntagResource',
        'bedrock:UpdateGuardrail',
      ],
      // Guardrail ids are generated, so the scope is this account's guardrails in the region.
      resources: [`arn:aws:bedrock:${region}:${account}:guardrail/*`],
    },
    sns: {
      read: ['sns:GetSubscriptionAttributes', 'sns:GetTopicAttributes', 'sns:ListTagsForResource'],
      write: [
        'sns:CreateTopic',
        'sns:DeleteTopic',
        'sns:SetSubscriptionAttributes',
        'sns:SetTopicAttributes',
        'sns:Subscribe',
        'sns:TagResource',
        'sns:Unsubscribe',
        'sns:UntagResource',
      ],
      resources: [`arn:aws:sns:${region}:${account}:${base}-*`],
    },
    // The secrets only: Terraform creates them without a value (constructs/secrets.ts), so neither plan nor
    // apply ever reads or writes one. The Azure key's value is the deploy job's (`syncAzureKeyStatement`).
    secretsmanager: {
      read: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetResourcePolicy',
        'secretsmanager:ListSecretVersionIds',
      ],
      write: [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:TagResource',
        'secretsmanager:UntagResource',
        'secretsmanager:UpdateSecret',
      ],
      resources: [`arn:aws:secretsmanager:${region}:${account}:secret:${names.secretPrefix}*`],
    },
    cloudwatch: {
      read: ['cloudwatch:DescribeAlarms', 'cloudwatch:GetDashboard', 'cloudwatch:ListTagsForResource'],
      write: [
        'cloudwatch:DeleteAlarms',
        'cloudwatch:DeleteDashboards',
        'cloudwatch:PutDashboard',
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:TagResource',
        'cloudwatch:UntagResource',
      ],
      resources: [
        `arn:aws:cloudwatch:${region}:${account}:alarm:${base}-*`,
        `arn:aws:cloudwatch::${account}:dashboard/${base}-*`,
      ],
    },
    // The notifications topic's key. Keys have generated ids: the environment's tags scope them.
    kmsKeys: {
      read: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'],
      write: [
        'kms:EnableKeyRotation',
        'kms:PutKeyPolicy',
        'kms:ScheduleKeyDeletion',
        'kms:TagResource',
        'kms:UntagResource',
        'kms:UpdateKeyDescription',
      ],
      resources: [`arn:aws:kms:${region}:${account}:key/*`],
      condition: { StringEquals: ownTags('ResourceTag') },
    },
    // The provider's default tags go into CreateKey itself, and AWS authorizes tags given at creation as
    // kms:TagResource on a key that does not exist yet: both under the same request-tag condition.
    kmsCreateKey: {
      read: [],
      write: ['kms:CreateKey', 'kms:TagResource'],
      resources: ['*'],
      condition: { StringEquals: ownTags('RequestTag') },
    },
    kmsAliases: {
      read: ['kms:ListAliases'],
      write: [],
      resources: ['*'],
    },
    kmsManageAliases: {
      read: [],
      write: ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'],
      resources: [
        `arn:aws:kms:${region}:${account}:alias/${base}-*`,
        `arn:aws:kms:${region}:${account}:key/*`,
      ],
    },
    // Role writes are in `deployStatements`: only with the workload permissions boundary attached.
    iam: {
      read: [
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:ListInstanceProfilesForRole',
        'iam:ListRolePolicies',
      ],
      write: [],
      resources: [`arn:aws:iam::${account}:role/${base}-*`],
    },
  };
}

/** Where an environment's Terraform state lives: the bucket (its name and ARN) and the lock table. */
export interface StateStore {
  bucketName: string;
  bucketArn: string;
  lockTableArn: string;
}

/**
 * Reads the state objects `keys` (exact keys like `dev/aws-platform.tfstate`, or a pattern like `dev/*`). With
 * `write`, also writes them and takes their locks, both mechanisms: the S3 lock file `<key>.tflock` and the
 * DynamoDB items `<bucket>/<key>` and `<bucket>/<key>-md5` (the condition keeps other states' items out of
 * reach). The plan role, which pull requests can assume, only reads, and only the states it needs.
 */
export function stateAccess(state: StateStore, keys: string[], access: 'read' | 'write'): Statement[] {
  const lockItems = keys.flatMap((key) => [`${state.bucketName}/${key}`, `${state.bucketName}/${key}-md5`]);
  const lockTable = (actions: string[]): Statement => ({
    Sid: 'StateLockTable',
    Effect: 'Allow',
    Action: actions,
    Resource: state.lockTableArn,
    Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': lockItems } },
  });
  const list: Statement = {
    Sid: 'StateList',
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: state.bucketArn,
  };
  const objects = (actions: string | string[]): Statement => ({
    Sid: 'StateObjects',
    Effect: 'Allow',
    Action: actions,
    Resource: keys.map((key) => `${state.bucketArn}/${key}`),
  });
  // Plans run with -lock=false: they read the state and its digest item (`<key>-md5`), never take a lock,
  // so a pull request can neither hold the lock nor break another run's.
  if (access === 'read') {
    return [list, objects('s3:GetObject'), lockTable(['dynamodb:DescribeTable', 'dynamodb:GetItem'])];
  }
  return [
    list,
    objects(['s3:GetObject', 's3:PutObject']),
    {
      Sid: 'StateLockFile',
      Effect: 'Allow',
      Action: ['s3:DeleteObject', 's3:PutObject'],
      Resource: keys.map((key) => `${state.bucketArn}/${key}.tflock`),
    },
    lockTable(['dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem']),
  ];
}

/**
 * Rotating the Azure key (rotate-azure-key.yml) ends by deleting the older versions of the states that held
 * the old key: listing a state's versions (that prefix only) and deleting versions of those objects.
 */
export function purgeStateVersionsStatements(state: StateStore, keys: string[]): Statement[] {
  return [
    {
      Sid: 'ListStateVersions',
      Effect: 'Allow',
      Action: 's3:ListBucketVersions',
      Resource: state.bucketArn,
      Condition: { StringEquals: { 's3:prefix': keys } },
    },
    allow(
      's3:DeleteObjectVersion',
      keys.map((key) => `${state.bucketArn}/${key}`),
      'DeleteOldStateVersions',
    ),
  ];
}

function statements(
  permissions: Record<string, ServicePermissions>,
  pick: (p: ServicePermissions) => string[],
): Statement[] {
  return Object.entries(permissions)
    .filter(([, p]) => pick(p).length > 0)
    .map(([service, p]) => ({
      Sid: service.replace(/^./, (c) => c.toUpperCase()),
      Effect: 'Allow',
      Action: pick(p),
      Resource: p.resources,
      ...(p.condition ? { Condition: p.condition } : {}),
    }));
}

/**
 * Read everything the platform consists of: what a plan needs, and the reading half of an apply. One managed
 * policy attached to both GitHub roles (an inline policy per role could not hold it and the writes: IAM
 * allows 10,240 characters of inline policy per role).
 */
export function planStatements(names: ResourceNames): Statement[] {
  return statements(platformPermissions(names), (p) => p.read);
}

/**
 * Where model packages live in the models bucket. The deploy role may write only below it, so every
 * environment's `MODEL_ARTIFACT_KEY` starts with it (tests/deploy-permissions.test.ts); a new model version
 * is a new key below it and needs no change to the role.
 */
export const modelArtifactsPrefix = 'models/';

/** The ECR actions of `docker push` (AWS's list for pushing to one repository). */
const pushImageActions = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:CompleteLayerUpload',
  'ecr:InitiateLayerUpload',
  'ecr:PutImage',
  'ecr:UploadLayerPart',
];

/**
 * Publishing a release (deploy-images.yml, in infra-apply.yml's job for the environment): push the images
 * to this environment's three repositories and put the model package in the models bucket. Rolling them
 * out is Terraform's job, in the same job.
 */
export function publishStatements(names: ResourceNames): Statement[] {
  const repositories = imageNames.map(
    (image) => `arn:aws:ecr:${names.region}:${names.account}:repository/${names.repository(image)}`,
  );
  return [
    // Registry login is account-wide: GetAuthorizationToken has no resource-level permission.
    allow('ecr:GetAuthorizationToken', '*', 'LogInToRegistry'),
    // DescribeImages: a tag already pushed is skipped (tags are immutable, a second push would fail).
    allow([...pushImageActions, 'ecr:DescribeImages'], repositories, 'PushImages'),
    // GetObject: an identical package already there is kept (and HEAD tells a missing key apart).
    allow(
      ['s3:GetObject', 's3:PutObject'],
      `arn:aws:s3:::${names.modelsBucket}/${modelArtifactsPrefix}*`,
      'PublishModelPackage',
    ),
  ];
}

/**
 * The Azure OpenAI key's value: the deploy job copies it from the Azure stack's sensitive output into its
 * secret, reading the current value first so it writes a new version only when the key changed. This secret
 * only: the API keys are an operator's, and no role of the workflows reads or writes them.
 */
export function syncAzureKeyStatement(names: ResourceNames): Statement {
  // Secrets Manager appends `-` and six random characters to the name.
  const secret = `arn:aws:secretsmanager:${names.region}:${names.account}:secret:${names.azureKeySecret}-??????`;
  return allow(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], secret, 'SyncAzureKey');
}

/**
 * Apply (with `planStatements` for the reading): change the platform, and hand its roles to the services
 * that assume them. The deploy role may only
 * create or change a role that carries the workload permissions boundary, so no role it makes can do more
 * than its boundary (`workloadBoundaryStatements`) allows, whatever policy it is given. It also publishes the release it applies and keeps
 * the Azure key's secret current.
 */
export function deployStatements(names: ResourceNames): Statement[] {
  const roles = `arn:aws:iam::${names.account}:role/${names.base}-*`;
  const withBoundary = { StringEquals: { 'iam:PermissionsBoundary': names.workloadBoundaryArn } };
  return [
    ...statements(platformPermissions(names), (p) => p.write),
    ...publishStatements(names),
    syncAzureKeyStatement(names),
    ...preflightStatements(names),
    {
      Sid: 'ManageWorkloadRolesWithBoundary',
      Effect: 'Allow',
      Action: ['iam:CreateRole', 'iam:DeleteRolePolicy', 'iam:PutRolePolicy'],
      Resource: roles,
      Condition: withBoundary,
    },
    // No iam:UpdateAssumeRolePolicy: IAM has no condition key on a trust policy's content, so it could make a
    // workload role trust anyone. The trusts never change (a service principal and this account); a change
    // is an administrator's, or a new role. iam:TagRole also covers the tags given in CreateRole.
    {
      Sid: 'ManageWorkloadRoles',
      Effect: 'Allow',
      Action: ['iam:DeleteRole', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateRole'],
      Resource: roles,
    },
    {
      Sid: 'PassWorkloadRoles',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: roles,
      Condition: {
        StringEquals: {
          'iam:PassedToService': ['lambda.amazonaws.com', 'states.amazonaws.com', 'sagemaker.amazonaws.com'],
        },
      },
    },
  ];
}

/** The SageMaker Serverless quota `pnpm preflight` reads: total concurrency across all serverless endpoints. */
export const sagemakerServerlessConcurrencyQuota = {
  ServiceCode: 'sagemaker',
  QuotaCode: 'L-96300102',
} as const;

/** `pnpm preflight <env>` in the deploy job: the account's quotas (the rest it reads is granted above). */
export function preflightStatements(names: ResourceNames): Statement[] {
  const { ServiceCode, QuotaCode } = sagemakerServerlessConcurrencyQuota;
  return [
    allow('lambda:GetAccountSettings', '*', 'PreflightLambdaQuota'),
    allow(
      'servicequotas:GetServiceQuota',
      `arn:aws:servicequotas:${names.region}:${names.account}:${ServiceCode}/${QuotaCode}`,
      'PreflightSageMakerQuota',
    ),
    allow('servicequotas:GetAWSDefaultServiceQuota', '*', 'PreflightSageMakerDefaultQuota'),
  ];
}

/**
 * Everything a workload role (Lambda, Step Functions, SageMaker) may ever be allowed, and on what: the
 * permissions boundary of every role the deploy role creates. It names this environment's own resources, so
 * whatever policy a deploy job gives a workload role, that role cannot reach another environment's secrets,
 * buckets, table or functions, nor anything else in the account. Each role's own policy then narrows it.
 */
export function workloadBoundaryStatements(names: ResourceNames): Statement[] {
  const { base, region, account } = names;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
  const table = arn('dynamodb', `table/${names.resultsTable}`);
  const buckets = [names.imagesBucket, names.modelsBucket].flatMap((bucket) => [
    `arn:aws:s3:::${bucket}`,
    `arn:aws:s3:::${bucket}/*`,
  ]);
  const keysVia = ['s3', 'secretsmanager', 'sns', 'dynamodb'].map(
    (service) => `${service}.${region}.amazonaws.com`,
  );
  return [
    // Foundation models are AWS's, not an environment's; the region's models, invoked on-demand.
    allow('bedrock:InvokeModel', `arn:aws:bedrock:${region}::foundation-model/*`, 'InvokeFoundationModels'),
    // Guardrail ids are generated: the account's guardrails in the region.
    allow('bedrock:ApplyGuardrail', arn('bedrock', 'guardrail/*'), 'ApplyGuardrails'),
    allow(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:DescribeTable',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ],
      [table, `${table}/index/*`],
      'ResultsTable',
    ),
    allow(
      ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      arn('ecr', `repository/${base}/*`),
      'PullImages',
    ),
    // Keys used through the services that encrypt this environment's data (the topic's key, and the
    // AWS-managed keys of S3, Secrets Manager and DynamoDB), whose own resources the statements here scope.
    {
      Sid: 'UseKeysThroughServices',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: arn('kms', 'key/*'),
      Condition: { StringEquals: { 'kms:ViaService': keysVia } },
    },
    allow('lambda:InvokeFunction', arn('lambda', `function:${base}-*`), 'InvokeFunctions'),
    allow(
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      names.logGroupPrefixes.map((prefix) => arn('logs', `log-group:${prefix}*`)),
      'WriteLogs',
    ),
    allow(
      [
        's3:AbortMultipartUpload',
        's3:GetObject',
        's3:ListBucket',
        's3:ListMultipartUploadParts',
        's3:PutObject',
      ],
      buckets,
      'Buckets',
    ),
    allow(
      ['sagemaker:DescribeEndpoint', 'sagemaker:InvokeEndpoint'],
      arn('sagemaker', `endpoint/${names.sagemakerEndpoint}`),
      'Classifier',
    ),
    allow('secretsmanager:GetSecretValue', arn('secretsmanager', `secret:${names.secretPrefix}*`), 'Secrets'),
    allow('sns:Publish', names.topicArn, 'PublishResults'),
    allow(
      ['states:DescribeStateMachine', 'states:ListExecutions', 'states:StartExecution'],
      arn('states', `stateMachine:${base}-*`),
      'StartPipelines',
    ),
    allow(
      [
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'states:ListMapRuns',
        'states:RedriveExecution',
        'states:StopExecution',
      ],
      arn('states', `execution:${base}-*`),
      'ReadPipelines',
    ),
    // A batch's Distributed Map runs (their children are executions of `<batch machine>/Images`, covered above).
    allow('states:DescribeMapRun', arn('states', `mapRun:${base}-*`), 'ReadMapRuns'),
    // The monitoring view: this environment's alarms and their history.
    allow(
      ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
      arn('cloudwatch', `alarm:${names.alarmPrefix}*`),
      'ReadAlarms',
    ),
    // No resource-level permissions (`wildcardResourceActions`).
    allow('cloudwatch:GetMetricData', '*', 'ReadMetrics'),
    allow('ecr:GetAuthorizationToken', '*', 'LogInToRegistry'),
    allow([...vendedLogDeliveryActions], '*', 'DeliverVendedLogs'),
    allow([...traceActions], '*', 'SendTraces'),
  ];
}
