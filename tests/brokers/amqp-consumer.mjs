// A downstream consumer of CouponLive's RabbitMQ events, written with amqplib (a client CouponLive does not use),
// for the tests. Usage:
//   node amqp-consumer.mjs bind  <amqp-url> <exchange> <queue> [binding-key]   declare the exchange as CouponLive does
//        (durable topic, alternate exchange <exchange>.unrouted) and a durable queue bound to it (default key #)
//   node amqp-consumer.mjs drain <amqp-url> <queue> <idle-ms>                   print every message as a JSON line
//        and ack it, until none came for idle-ms
//   node amqp-consumer.mjs delete <amqp-url> <queue>                            delete the queue (the benchmark's)
// Exits 0 on success, 1 with a message otherwise.
import amqp from "amqplib";

const [mode, url, ...args] = process.argv.slice(2);
const conn = await amqp.connect(url);
const ch = await conn.createChannel();
try {
  if (mode === "bind") {
    const [exchange, queue, key = "#"] = args;
    await ch.assertExchange(exchange, "topic", { durable: true, arguments: { "alternate-exchange": `${exchange}.unrouted` } });
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, exchange, key);
  } else if (mode === "drain") {
    const [queue, idleMs] = args;
    await ch.checkQueue(queue);
    let last = Date.now();
    await ch.consume(queue, (msg) => {
      last = Date.now();
      const p = msg.properties;
      console.log(JSON.stringify({
        routingKey: msg.fields.routingKey, redelivered: msg.fields.redelivered, messageId: p.messageId,
        contentType: p.contentType, deliveryMode: p.deliveryMode, type: p.type, body: msg.content.toString("utf8"),
      }));
      ch.ack(msg);
    }, { noAck: false });
    while (Date.now() - last < Number(idleMs)) await new Promise((r) => setTimeout(r, 50));
  } else if (mode === "delete") {
    await ch.deleteQueue(args[0]);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  console.error(`amqp-consumer: ${e.message}`);
  process.exitCode = 1;
} finally {
  await ch.close().catch(() => {});
  await conn.close().catch(() => {});
}
