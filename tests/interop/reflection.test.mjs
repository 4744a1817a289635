// grpcurl-style use through server reflection: a client that has no .proto file lists the services,
// fetches couponlive.v1.CouponService's descriptors from the server and calls it with them. All lookups go
// over one bidirectional ServerReflectionInfo stream, each sent after the previous answer and the stream
// half-closed only at the end, as grpcurl and buf curl use it.
// Run by tests/CouponLive.Tests/Rpc/InteropTests.cs with COUPONLIVE_GRPC (the h2c port) and
// COUPONLIVE_SIGNING_KEY set.
import { test } from "node:test";
import assert from "node:assert/strict";
import grpc from "@grpc/grpc-js";
import { GrpcReflection } from "grpc-js-reflection-client";
import { mintToken } from "./clients.mjs";

const target = new URL(process.env.COUPONLIVE_GRPC).host;
const key = process.env.COUPONLIVE_SIGNING_KEY;
const run = `reflection-${process.pid}-${Date.now()}`;
const metadata = (token) => {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
};
// grpc-js-reflection-client opens a stream per lookup and half-closes it at once, so it would pass against a
// server that answers only once the request has ended: its lookups go on one stream kept open instead.
class OneStreamReflection extends GrpcReflection {
  #call;
  #waiting = [];
  answers = 0;

  request(payload) {
    this.#call ??= this.#open();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#call.write(this.reflectionRequestConstructor(payload));
    });
  }

  #open() {
    const call = this.client.ServerReflectionInfo({ deadline: Date.now() + 30_000 });
    call.on("data", (data) => {
      this.answers++;
      const waiting = this.#waiting.shift();
      if (data.errorResponse) waiting?.reject(new Error(data.errorResponse.errorMessage));
      else waiting?.resolve(data);
    });
    call.on("error", (e) => { for (const waiting of this.#waiting.splice(0)) waiting.reject(e); });
    return call;
  }

  close() {
    this.#call?.end();
  }
}

const unary = (client, method, request, md) =>
  new Promise((resolve, reject) => client[method](request, md, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))));

test("lists the services and calls CreateCampaign and IssueCoupon from reflected descriptors only", async () => {
  const reflection = new OneStreamReflection(target, grpc.credentials.createInsecure());
  const services = await reflection.listServices();
  assert.ok(services.includes("couponlive.v1.CouponService"), services.join(", "));
  assert.ok(services.includes("grpc.health.v1.Health"), services.join(", "));

  const methods = (await reflection.listMethods("couponlive.v1.CouponService")).map((m) => m.name);
  assert.deepEqual([...methods].sort(), ["CancelCampaign", "CreateCampaign", "GetCampaign", "IssueCoupon", "PauseCampaign", "ResumeCampaign", "UpdateCampaign", "RedeemCoupon", "GetCoupon"].sort());

  const descriptor = await reflection.getDescriptorBySymbol("couponlive.v1.CouponService");
  const pkg = descriptor.getPackageObject({ keepCase: true, longs: String, defaults: true });
  assert.ok(reflection.answers >= 3, `one stream answered ${reflection.answers} lookups`);
  reflection.close();
  const client = new pkg.couponlive.v1.CouponService(target, grpc.credentials.createInsecure());

  const now = Date.now();
  const seconds = (ms) => ({ seconds: String(Math.floor(ms / 1000)), nanos: 0 });
  const created = await unary(client, "CreateCampaign",
    { name: `c-${run}`, amount: "3", issued_at: seconds(now - 1000), expires_at: seconds(now + 3_600_000) },
    metadata(mintToken(key, `admin-${run}`, "admin")));
  const coupon = await unary(client, "IssueCoupon", { campaign_id: created.campaign.id }, metadata(mintToken(key, `user-${run}`, "user")));
  assert.equal(coupon.campaign_id, created.campaign.id);
  assert.equal(coupon.sequence, "1");
  assert.match(coupon.code, /^[가-힣0-9]{1,10}$/u);
  client.close();
});
