import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { resultsTable } from '@mc-vision/core/results-store';
import { Construct } from 'constructs';

/**
 * The results table, laid out by the core's `resultsTable` (the same layout the local cloud creates in
 * dynalite): on demand, TTL on `expiresAt`, point-in-time recovery, encrypted, protected from deletion.
 */
export class ResultsTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: { name: string }) {
    super(scope, id);
    const { partitionKey, ttlAttribute, listIndex, batchIndex } = resultsTable;
    this.table = new DynamodbTable(this, 'table', {
      name: props.name,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: partitionKey,
      attribute: [
        { name: partitionKey, type: 'S' },
        { name: listIndex.partitionKey, type: 'S' },
        { name: listIndex.sortKey, type: 'S' },
        { name: batchIndex.partitionKey, type: 'S' },
        { name: batchIndex.sortKey, type: 'S' },
      ],
      globalSecondaryIndex: [
        {
          name: listIndex.name,
          hashKey: listIndex.partitionKey,
          rangeKey: listIndex.sortKey,
          projectionType: 'ALL',
        },
        {
          name: batchIndex.name,
          hashKey: batchIndex.partitionKey,
          rangeKey: batchIndex.sortKey,
          projectionType: 'INCLUDE',
          nonKeyAttributes: [...batchIndex.projected],
        },
      ],
      ttl: { attributeName: ttlAttribute, enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: true,
    });
  }
}
