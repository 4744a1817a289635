// A downstream consumer of CouponLive's SQS events, with the AWS SDK for JavaScript (not CouponLive's client), for
// the tests. Usage:
//   node sqs-consumer.mjs create <endpoint> <queue-name.fifo>   create a FIFO queue (no content-based dedup), print its URL
//   node sqs-consumer.mjs drain  <endpoint> <queue-url> <idle-ms>   print every message as a JSON line and delete it,
//        until none came for idle-ms
import { SQSClient, CreateQueueCommand, ReceiveMessageCommand, DeleteMessageBatchCommand } from "@aws-sdk/client-sqs";

const [mode, endpoint, target, idleMs] = process.argv.slice(2);
const sqs = new SQSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
try {
  if (mode === "create") {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({
      QueueName: target, Attributes: { FifoQueue: "true", ContentBasedDeduplication: "false" },
    }));
    console.log(QueueUrl);
  } else if (mode === "drain") {
    let last = Date.now();
    while (Date.now() - last < Number(idleMs)) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
        QueueUrl: target, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60,
        MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"],
      }));
      if (Messages.length === 0) { await new Promise((r) => setTimeout(r, 50)); continue; }
      last = Date.now();
      for (const m of Messages) {
        console.log(JSON.stringify({
          messageId: m.MessageId, groupId: m.Attributes?.MessageGroupId, deduplicationId: m.Attributes?.MessageDeduplicationId,
          sequenceNumber: m.Attributes?.SequenceNumber, contentType: m.MessageAttributes?.contentType?.StringValue, body: m.Body,
        }));
      }
      await sqs.send(new DeleteMessageBatchCommand({
        QueueUrl: target, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }));
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  console.error(`sqs-consumer: ${e.message}`);
  process.exitCode = 1;
}
