import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { clientBase, type Config } from '@mc-vision/core';
import { appendFile } from 'node:fs/promises';
import { z } from 'zod';
import { topicName } from './config.ts';
import type { Log } from './log.ts';
import type { Part } from './server.ts';

// The outbox: in the cloud the topic e-mails its subscribers; here an SQS queue subscribed to the topic (on
// fauxqs, sns.ts) is drained into `outbox.jsonl`, one JSON line per notification, with a console line each.
// fauxqs keeps topics and queues in memory: they are created again at every start, and the outbox file is what
// lasts.

/** One line of `outbox.jsonl`. */
export interface OutboxEntry {
  receivedAt: string;
  messageId: string;
  topicArn: string;
  subject: string | undefined;
  message: string;
}

/** The SNS envelope an SQS subscriber receives. */
const envelopeSchema = z.object({
  MessageId: z.string(),
  TopicArn: z.string(),
  Subject: z.string().nullish(),
  Message: z.string(),
  Timestamp: z.string().optional(),
});

export interface Outbox extends Part {
  /** The topic notifications are published to (the ARN fauxqs gave it). */
  topicArn: string;
  /** The alarms topic, drained into the same file (the ARN fauxqs gave it). */
  alarmsTopicArn: string;
  file: string;
  close(): Promise<void>;
}

export interface OutboxOptions {
  config: Config;
  sns: SNSClient;
  /** Where notifications are appended, one JSON line each. */
  file: string;
  /** The alarms topic's name: CloudWatch's alarm notifications, kept apart from the results in the cloud. */
  alarmsTopic: string;
  log: Log;
}

/** Creates the two topics (and the outbox queue subscribed to both) and drains the queue into `file`. */
export async function startOutbox(options: OutboxOptions): Promise<Outbox> {
  const { config, sns, file, log } = options;
  const topic = topicName(config.NOTIFY_TOPIC_ARN);
  const create = async (name: string) => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
    if (!TopicArn) throw new Error(`SNS did not return an ARN for topic ${name}`);
    return TopicArn;
  };
  const TopicArn = await create(topic);
  const alarmsTopicArn = await create(options.alarmsTopic);

  // fauxqs serves SQS on SNS's endpoint.
  const sqs = new SQSClient(clientBase(config, config.SNS_ENDPOINT));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${topic}-outbox` }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (!QueueUrl || !Attributes?.QueueArn) throw new Error('SQS did not create the outbox queue');
  for (const arn of [TopicArn, alarmsTopicArn]) {
    await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'sqs', Endpoint: Attributes.QueueArn }));
  }

  /**
   * Moves what the queue holds into the file; `waitSeconds` > 0 long-polls. Returns how many it moved. A
   * receive's messages go into the file in one append, then leave the queue in one DeleteMessageBatch: a
   * message is deleted only once its line is written, so a failed delete repeats a line (the message comes
   * back), never loses one.
   */
  async function drain(waitSeconds: number, signal?: AbortSignal): Promise<number> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
      signal ? { abortSignal: signal } : {},
    );
    if (Messages.length === 0) return 0;
    const entries: OutboxEntry[] = [];
    for (const message of Messages) {
      const envelope = envelopeSchema.safeParse(parseJson(message.Body));
      if (!envelope.success) {
        log({
          component: 'outbox',
          level: 'warn',
          message: 'skipped a message that is not an SNS notification',
        });
        continue;
      }
      entries.push({
        receivedAt: new Date().toISOString(),
        messageId: envelope.data.MessageId,
        topicArn: envelope.data.TopicArn,
        subject: envelope.data.Subject ?? undefined,
        message: envelope.data.Message,
      });
    }
    if (entries.length > 0) {
      await appendFile(file, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''), {
        mode: 0o600,
      });
    }
    for (const entry of entries) {
      // Alarm notifications are in the file; their state changes have a line of their own (cloudwatch).
      if (entry.topicArn !== alarmsTopicArn) {
        log({ component: 'outbox', level: 'info', message: entry.subject ?? '(no subject)' });
      }
    }
    const { Failed = [] } = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: Messages.map((message, n) => ({ Id: String(n), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    if (Failed.length > 0) {
      // Still in the queue, so written again when they come back: a repeated line, nothing lost.
      log({
        component: 'outbox',
        level: 'warn',
        message: `${Failed.length} messages were written but not taken off the queue`,
        error: Failed.map((failure) => failure.Message ?? failure.Code).join('; '),
      });
    }
    return Messages.length;
  }

  const stop = new AbortController();
  const drained = (async () => {
    while (!stop.signal.aborted) {
      try {
        await drain(5, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) break;
        log({
          component: 'outbox',
          level: 'error',
          message: 'reading the outbox queue failed',
          error: String(error),
        });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  })();

  return {
    name: 'outbox',
    topicArn: TopicArn,
    alarmsTopicArn,
    file,
    async close() {
      stop.abort();
      await drained;
      // Whatever was published before the pipeline stopped still reaches the file.
      try {
        while ((await drain(0)) > 0);
      } finally {
        sqs.destroy();
      }
    },
  };
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}
