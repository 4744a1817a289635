// Interop suite: one real client (CLIENT) calls all three methods of couponlive.v1.CouponService and
// checks Timestamp and int64 round-trips, every error code, deadlines and a concurrent sale.
// Run by tests/CouponLive.Tests/Rpc/InteropTests.cs, which starts the servers and sets:
//   CLIENT               grpc-js | connect-grpc | connect-json-h1 | connect-binary-h1 | connect-json-h2 | connect-binary-h2
//   COUPONLIVE_HTTP      the HTTP/1.1 port       COUPONLIVE_GRPC      the HTTP/2-only (h2c) port
//   COUPONLIVE_DOWN_HTTP, COUPONLIVE_DOWN_GRPC   a server whose commits always time out (UNAVAILABLE)
//   COUPONLIVE_SIGNING_KEY                       the HS256 key, to mint tokens as an identity provider would
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createClients, mintToken } from "./clients.mjs";

const CLIENT = process.env.CLIENT ?? "grpc-js";
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const { client, down, close } = createClients(CLIENT, {
  http: env("COUPONLIVE_HTTP"),
  grpc: env("COUPONLIVE_GRPC"),
  downHttp: env("COUPONLIVE_DOWN_HTTP"),
  downGrpc: env("COUPONLIVE_DOWN_GRPC"),
});
const key = env("COUPONLIVE_SIGNING_KEY");
const run = `${CLIENT}-${process.pid}-${Date.now()}`;
const admin = mintToken(key, `admin-${run}`, "admin");
const service = mintToken(key, `service-${run}`, "service");
const userToken = (name) => mintToken(key, `${run}-${name}`, "user");

const ts = (ms) => ({ seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
const tsMs = (t) => Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000);
const HOUR = 3_600_000;

async function createCampaign(amount, startsInMs = -1000, durationMs = HOUR, extra = {}) {
  const now = Date.now();
  const response = await client.createCampaign(
    { name: `c-${run}-${Math.random().toString(36).slice(2)}`, amount: BigInt(amount), issuedAt: ts(now + startsInMs), expiresAt: ts(now + startsInMs + durationMs), ...extra },
    admin);
  return response.campaign;
}

/** Awaits a call that must fail with the given gRPC code name and REST reason. */
async function expectError(call, code, reason) {
  let error;
  try {
    const value = await call;
    assert.fail(`expected ${code} ${reason ?? ""}, got ${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    error = e;
  }
  assert.equal(error.codeName, code, `code of ${error.message}`);
  if (reason) {
    assert.equal(error.reason, reason, `reason of ${error.message}`);
    assert.ok(error.message.includes(reason), `message "${error.message}" names ${reason}`);
  }
  return error;
}

after(() => close());

describe(`${CLIENT}: CreateCampaign and GetCampaign`, () => {
  test("Timestamps and int64 round-trip; get by id and by name", async () => {
    const start = Date.UTC(2031, 0, 2, 3, 4, 5, 678); // millisecond precision, as the store keeps it
    const created = (await client.createCampaign(
      { name: `round-trip-${run}`, amount: 10_000_000n, issuedAt: ts(start), expiresAt: ts(start + HOUR), couponValidUntil: ts(start + 2 * HOUR), benefit: { type: "percent", value: "12.5" } },
      admin)).campaign;
    assert.equal(typeof created.amount, "bigint");
    assert.equal(created.amount, 10_000_000n);
    assert.equal(created.remaining, 10_000_000n);
    assert.equal(tsMs(created.issuedAt), start);
    assert.equal(created.issuedAt.nanos, 678_000_000);
    assert.equal(tsMs(created.expiresAt), start + HOUR);
    assert.equal(tsMs(created.couponValidUntil), start + 2 * HOUR);
    assert.equal(created.status, "scheduled");
    assert.equal(created.benefit.value, "12.5");
    assert.equal(created.windows.length, 1);

    const byId = await client.getCampaign({ id: created.id }, userToken("reader"));
    assert.equal(byId.campaign.name, `round-trip-${run}`);
    assert.equal(byId.campaign.amount, 10_000_000n);
    assert.equal(tsMs(byId.campaign.windows[0].startsAt), start);
    assert.deepEqual(byId.couponCodes, []);

    const byName = await client.getCampaign({ name: `  round-trip-${run} ` }, admin); // trimmed like at creation
    assert.equal(byName.campaign.id, created.id);
  });

  test("INVALID_ARGUMENT with the field in proto names; int64 beyond 2^53 is decoded, not wrapped", async () => {
    const now = Date.now();
    const e = await expectError(client.createCampaign({ name: `bad-${run}`, amount: 0n, issuedAt: ts(now), expiresAt: ts(now + HOUR) }, admin),
      "INVALID_ARGUMENT", "campaign.invalid_quantity");
    assert.equal(e.metadata.field, "amount");
    await expectError(client.createCampaign({ name: `big-${run}`, amount: 9_007_199_254_740_993n, issuedAt: ts(now), expiresAt: ts(now + HOUR) }, admin),
      "INVALID_ARGUMENT", "campaign.invalid_quantity");
    const noEnd = await expectError(client.createCampaign({ name: `noend-${run}`, amount: 5n, issuedAt: ts(now) }, admin),
      "INVALID_ARGUMENT", "validation.required");
    assert.equal(noEnd.metadata.field, "expires_at");
    await expectError(client.getCampaign({}, admin), "INVALID_ARGUMENT", "validation.required");
  });

  test("ALREADY_EXISTS, PERMISSION_DENIED, NOT_FOUND, UNAUTHENTICATED", async () => {
    const c = await createCampaign(5);
    const now = Date.now();
    await expectError(client.createCampaign({ name: c.name, amount: 5n, issuedAt: ts(now), expiresAt: ts(now + HOUR) }, admin),
      "ALREADY_EXISTS", "campaign.name_taken");
    await expectError(client.createCampaign({ name: `user-${run}`, amount: 5n, issuedAt: ts(now), expiresAt: ts(now + HOUR) }, userToken("u")),
      "PERMISSION_DENIED", "auth.forbidden");
    await expectError(client.getCampaign({ id: "4000000000" }, admin), "NOT_FOUND", "campaign.not_found");
    await expectError(client.getCampaign({ name: `missing-${run}` }, admin), "NOT_FOUND", "campaign.not_found");
    await expectError(client.getCampaign({ id: c.id }, null), "UNAUTHENTICATED", "auth.unauthorized");
    await expectError(client.getCampaign({ id: c.id }, "not-a-jwt"), "UNAUTHENTICATED", "auth.invalid_token");
    await expectError(client.getCampaign({ id: c.id }, mintToken(key, "old", "user", -120)), "UNAUTHENTICATED", "auth.token_expired");
    await expectError(client.getCampaign({ id: c.id }, mintToken("another key, 32 bytes or more........", "x", "admin")), "UNAUTHENTICATED", "auth.invalid_token");
  });
});

describe(`${CLIENT}: IssueCoupon`, () => {
  let ending; // ends 1.5 s after the suite starts; checked last
  before(async () => { ending = await createCampaign(10, -1000, 2500); });

  test("issues once, a retry returns the same coupon; codes listed for operators only", async () => {
    const c = await createCampaign(3);
    const alice = userToken("alice");
    const first = await client.issueCoupon({ campaignId: c.id }, alice);
    assert.equal(first.alreadyIssued, false);
    assert.equal(typeof first.sequence, "bigint");
    assert.equal(first.sequence, 1n);
    assert.equal(first.campaignId, c.id);
    assert.equal(first.userId, `${run}-alice`);
    assert.match(first.code, /^[\uAC00-\uD7A30-9]{1,10}$/u);
    assert.ok(Math.abs(tsMs(first.issuedAt) - Date.now()) < 60_000);

    const again = await client.issueCoupon({ campaignId: c.id, userId: `${run}-alice` }, alice);
    assert.equal(again.alreadyIssued, true);
    assert.equal(again.code, first.code);
    assert.equal(again.sequence, first.sequence);
    assert.equal(tsMs(again.issuedAt), tsMs(first.issuedAt));

    const seen = await client.getCampaign({ id: c.id }, admin);
    assert.equal(seen.campaign.issuedCount, 1n);
    assert.equal(seen.campaign.remaining, 2n);
    assert.deepEqual(seen.couponCodes, [first.code]);
    assert.equal(seen.codesTruncated, false);
    assert.deepEqual((await client.getCampaign({ id: c.id }, alice)).couponCodes, []);
  });

  test("a service token issues for a named user; a user cannot", async () => {
    const c = await createCampaign(3);
    const issued = await client.issueCoupon({ campaignId: c.id, userId: `${run}-bob` }, service);
    assert.equal(issued.userId, `${run}-bob`);
    const bobs = await client.issueCoupon({ campaignId: c.id }, userToken("bob"));
    assert.equal(bobs.code, issued.code);
    assert.equal(bobs.alreadyIssued, true);
    await expectError(client.issueCoupon({ campaignId: c.id, userId: `${run}-carol` }, userToken("mallory")), "PERMISSION_DENIED", "auth.forbidden");
    await expectError(client.issueCoupon({ campaignId: c.id }, null), "UNAUTHENTICATED", "auth.unauthorized");
  });

  test("NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION (not open), RESOURCE_EXHAUSTED (sold out, window sold out)", async () => {
    const u = userToken("dave");
    await expectError(client.issueCoupon({ campaignId: "3999999999" }, u), "NOT_FOUND", "campaign.not_found");
    await expectError(client.issueCoupon({ campaignId: "" }, u), "INVALID_ARGUMENT", "validation.required");

    const later = await createCampaign(5, HOUR, HOUR);
    const notOpen = await expectError(client.issueCoupon({ campaignId: later.id }, u), "FAILED_PRECONDITION", "campaign.not_open");
    assert.equal(Date.parse(notOpen.metadata.opens_at), tsMs(later.issuedAt));

    const one = await createCampaign(1);
    await client.issueCoupon({ campaignId: one.id }, userToken("first"));
    await expectError(client.issueCoupon({ campaignId: one.id }, u), "RESOURCE_EXHAUSTED", "campaign.sold_out");

    const now = Date.now();
    const windowed = (await client.createCampaign({
      name: `w-${run}`, amount: 3n,
      windows: [{ startsAt: ts(now - 1000), endsAt: ts(now + HOUR), quota: 1n }, { startsAt: ts(now + HOUR), endsAt: ts(now + 2 * HOUR) }],
    }, admin)).campaign;
    assert.equal(windowed.windows[0].quota, 1n);
    await client.issueCoupon({ campaignId: windowed.id }, userToken("w1"));
    await expectError(client.issueCoupon({ campaignId: windowed.id }, u), "RESOURCE_EXHAUSTED", "campaign.window_sold_out");
  });

  test("UNAVAILABLE when the store cannot commit in time", async () => {
    const now = Date.now();
    const c = (await down.createCampaign({ name: `down-${run}`, amount: 5n, issuedAt: ts(now - 1000), expiresAt: ts(now + HOUR) }, admin)).campaign;
    await expectError(down.issueCoupon({ campaignId: c.id }, userToken("eve")), "UNAVAILABLE", "service.unavailable");
  });

  test("a 1 ms deadline ends with DEADLINE_EXCEEDED, not a hang", async () => {
    // 50 calls at once cannot all be committed within 1 ms: some must end with the deadline,
    // every one must settle promptly, and none may end any other way than success or DEADLINE_EXCEEDED.
    const c = await createCampaign(1000);
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      client.issueCoupon({ campaignId: c.id }, userToken(`deadline-${i}`), 1).then(() => "OK", (e) => e.codeName)));
    assert.ok(Date.now() - started < 5000, "deadlines are enforced promptly");
    assert.ok(outcomes.includes("DEADLINE_EXCEEDED"), outcomes.join());
    assert.deepEqual(outcomes.filter((o) => o !== "OK" && o !== "DEADLINE_EXCEEDED"), []);
    // A generous deadline is fine.
    assert.equal((await client.getCampaign({ id: c.id }, admin, 10_000)).campaign.id, c.id);
  });

  test("500 users x 2 requests for 100 coupons: exactly 100 issued, duplicates get the same code", async () => {
    const c = await createCampaign(100);
    const users = Array.from({ length: 500 }, (_, i) => ({ id: `${run}-crowd-${i}`, token: userToken(`crowd-${i}`) }));
    const calls = users.flatMap((user) => [user, user]);
    const answers = new Map(users.map((u) => [u.id, []]));
    let next = 0;
    const worker = async () => {
      while (next < calls.length) {
        const user = calls[next++];
        try {
          const coupon = await client.issueCoupon({ campaignId: c.id }, user.token, 30_000);
          answers.get(user.id).push(coupon.code);
        } catch (e) {
          assert.equal(e.codeName, "RESOURCE_EXHAUSTED", e.message);
          answers.get(user.id).push(null);
        }
      }
    };
    // Shuffle so each user's two requests race at different moments.
    for (let i = calls.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [calls[i], calls[j]] = [calls[j], calls[i]];
    }
    await Promise.all(Array.from({ length: 64 }, worker));

    const winners = [...answers.entries()].filter(([, codes]) => codes.some((code) => code !== null));
    assert.equal(winners.length, 100);
    for (const [id, codes] of winners) {
      assert.equal(codes.length, 2);
      assert.equal(codes[0], codes[1], `${id} got two different answers`);
    }
    const codes = new Set(winners.map(([, codes]) => codes[0]));
    assert.equal(codes.size, 100);

    const seen = await client.getCampaign({ id: c.id }, admin);
    assert.equal(seen.campaign.issuedCount, 100n);
    assert.equal(seen.campaign.remaining, 0n);
    assert.equal(seen.campaign.status, "sold_out");
    assert.deepEqual(new Set(seen.couponCodes), codes);
  });

  test("FAILED_PRECONDITION once the campaign has ended", async () => {
    const wait = tsMs(ending.expiresAt) - Date.now() + 100;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await expectError(client.issueCoupon({ campaignId: ending.id }, userToken("late")), "FAILED_PRECONDITION", "campaign.ended");
  });
});
