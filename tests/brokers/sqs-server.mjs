// A private SQS endpoint (fauxqs) on 127.0.0.1 only, started by scripts/services.sh.
// Usage: node sqs-server.mjs [port] [pid-file]   (port also from COUPONLIVE_SQS_PORT; default 9325)
// The pid file is written once listening, so it doubles as the ready signal.
// fauxqs keeps everything in memory: queues and messages do NOT survive a restart of this process.
// (startFauxqs() binds 0.0.0.0, hence buildApp() and our own listen on loopback.)
import fs from "node:fs";
import { buildApp } from "fauxqs";
// The stores are not in fauxqs's package exports; the version is pinned in package-lock.json.
import { SqsStore } from "./node_modules/fauxqs/dist/sqs/sqsStore.js";
import { SnsStore } from "./node_modules/fauxqs/dist/sns/snsStore.js";
import { S3Store } from "./node_modules/fauxqs/dist/s3/s3Store.js";

const host = "127.0.0.1";
const port = Number(process.argv[2] ?? process.env.COUPONLIVE_SQS_PORT ?? 9325);
const pidFile = process.argv[3];

// An empty host makes queue URLs follow the request's Host header (http://127.0.0.1:9325/000000000000/name)
// instead of fauxqs's default http://sqs.<region>.localhost:<port>/..., which needs *.localhost to resolve.
const sqsStore = new SqsStore();
sqsStore.host = "";
const app = buildApp({
  logger: process.env.FAUXQS_LOGGER === "true",
  stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() },
});

await app.listen({ port, host });
if (pidFile) fs.writeFileSync(pidFile, `${process.pid}\n`);
console.log(`fauxqs listening on http://${host}:${port} (pid ${process.pid})`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => app.close().finally(() => process.exit(0)));
}
