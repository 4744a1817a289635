// Browser test of the dashboard in real headless Chromium (Debian's, no download): sign in, create a
// campaign through the form, open its live view, send a crowd of issue requests (to HIT_URL, which in
// production mode is another server process), and wait until the page shows no stock left and
// "sold out"; then save a screenshot. Back in the view, pause, resume and add 5 coupons through the
// operator controls, each seen in the status, the total and the audit trail. Exit code 0 means it all happened.
// Env: BASE_URL (the watched server), HIT_URL, ADMIN_PASSWORD, SIGNING_KEY, SCREENSHOT, CAMPAIGN_NAME, QUANTITY, USERS.
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const hit = process.env.HIT_URL || base;

// HS256 tokens for synthetic users, as an external identity provider or the load tool mints them.
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
function mint(sub) {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, role: "user", iss: "couponlive", aud: "couponlive", iat: now, nbf: now, exp: now + 3600 })}`;
  return `${unsigned}.${createHmac("sha256", process.env.SIGNING_KEY).update(unsigned).digest("base64url")}`;
}

// Bounded: USERS requests, 20 at a time, each answered or failed once.
async function crowd(id, users) {
  const statuses = {};
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < users) {
      const user = next++;
      const r = await fetch(`${hit}/api/v1/campaigns/${id}/issue`, { method: "POST", headers: { authorization: "Bearer " + mint(`browser-fan-${user}`) } });
      statuses[r.status] = (statuses[r.status] || 0) + 1;
      await r.arrayBuffer();
    }
  }));
  return statuses;
}
const timeout = 60_000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (err) => { console.error("page error:", err.message); process.exitCode = 3; });

  await page.goto(`${base}/dashboard`);
  await page.fill("#signin-form input[name=loginId]", "admin");
  await page.fill("#signin-form input[name=password]", process.env.ADMIN_PASSWORD);
  await page.click("#signin-form button");
  await page.waitForSelector("#list:not([hidden])");

  // Create through the form; a first try with a bad quantity must show the API's message.
  await page.click("a[href='#/new']");
  const pad = (n) => String(n).padStart(2, "0");
  const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const now = new Date();
  await page.fill("#create-form input[name=name]", process.env.CAMPAIGN_NAME);
  await page.fill("#create-form input[name=totalQuantity]", "0");
  await page.fill("#create-form input[name=issueStartsAt]", local(new Date(now.getTime() - 60_000)));
  await page.fill("#create-form input[name=issueEndsAt]", local(new Date(now.getTime() + 3_600_000)));
  await page.evaluate(() => document.querySelector("#create-form input[name=totalQuantity]").removeAttribute("min"));
  await page.click("#create-form button");
  await page.waitForFunction(() => document.querySelector("#create-error").textContent.includes("totalQuantity"));
  await page.fill("#create-form input[name=totalQuantity]", process.env.QUANTITY);
  await page.click("#create-form button");

  await page.waitForURL(/#\/campaigns\/\d+$/);
  await page.waitForFunction(() => document.querySelector("#live-state").textContent.startsWith("live"));
  const id = page.url().match(/campaigns\/(\d+)$/)[1];
  const quantity = await page.textContent("#total");
  if (quantity.replace(/\D/g, "") !== process.env.QUANTITY) throw new Error(`page shows total ${quantity}`);
  console.log(`CAMPAIGN ${id}`);

  // Sell it out; the page must follow by itself.
  const statuses = await crowd(id, Number(process.env.USERS));
  console.log(`CROWD ${JSON.stringify(statuses)}`);
  if (statuses[201] !== Number(process.env.QUANTITY)) throw new Error(`expected ${process.env.QUANTITY} coupons issued: ${JSON.stringify(statuses)}`);
  try {
    await page.waitForFunction(() =>
      document.querySelector("#remaining").textContent === "0" &&
      document.querySelector("#status").textContent === "sold out", null, { timeout });
  } catch (err) {
    const state = await page.evaluate(() => ["#remaining", "#status", "#issued", "#live-state"].map((s) => document.querySelector(s).textContent).join(" | "));
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    throw new Error(`the page did not reach sold out: ${state}`, { cause: err });
  }
  await page.waitForFunction(() => document.querySelectorAll("#rate-chart rect").length > 0 && document.querySelectorAll("#recent li").length > 0
    && parseFloat(document.querySelector("#stock-bar").style.width) === 0);
  await page.waitForTimeout(600); // let the stock bar's 0.4 s transition finish before the picture
  await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  console.log(`SOLD_OUT ${id}`);

  // Readable on a phone: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) throw new Error(`the live view is ${overflow}px wider than a phone screen`);
  await page.screenshot({ path: process.env.SCREENSHOT.replace(/\.png$/, "-phone.png"), fullPage: true });
  await page.setViewportSize({ width: 1200, height: 900 });

  // The list shows it sold out too.
  await page.goto(`${base}/dashboard#/`);
  await page.waitForFunction((name) => [...document.querySelectorAll("#campaigns tr")]
    .some((r) => r.textContent.includes(name) && r.textContent.includes("sold out")), process.env.CAMPAIGN_NAME);

  // Operate it from its view: pause, resume, add stock; each shows in the status and the audit trail.
  await page.click(`#campaigns tr[data-id="${id}"]`);
  await page.waitForURL(/#\/campaigns\/\d+$/);
  const audited = (action, text = "") => page.waitForFunction(([a, t]) => [...document.querySelectorAll("#audit tbody tr")]
    .some((r) => r.dataset.action === a && r.textContent.includes(t)), [action, text]);
  const status = (text) => page.waitForFunction((t) => document.querySelector("#status").textContent === t, text);
  await page.click("#pause");
  await status("paused");
  await audited("pause", "status: active → paused");
  await page.click("#resume");
  await audited("resume", "status: paused → active");
  await status("sold out");

  const before = Number((await page.textContent("#total")).replace(/\D/g, ""));
  await page.fill("#add-stock-amount", "5");
  await page.click("#add-stock");
  await page.waitForFunction((n) => document.querySelector("#total").textContent.replace(/\D/g, "") === String(n), before + 5);
  await audited("update", `totalQuantity: ${before} → ${before + 5}`);
  await status("open");
  // A bulk grant of the 5 new coupons shows in the campaign view with its progress, done.
  const granted = await page.evaluate(async (campaign) => {
    const r = await fetch(`/api/v1/campaigns/${campaign}/grants`, {
      method: "POST",
      headers: { authorization: "Bearer " + sessionStorage.getItem("couponlive.token"), "content-type": "application/json" },
      body: JSON.stringify({ grantId: "browser-grant", userIds: ["vip-1", "vip-2", "vip-3", "vip-4", "vip-5"] }),
    });
    return r.status;
  }, id);
  if (granted !== 202) throw new Error(`posting a grant answered ${granted}`);
  await page.waitForFunction(() => [...document.querySelectorAll("#grant-rows tr")]
    .some((row) => row.dataset.status === "done" && row.textContent.includes("browser-grant") && row.textContent.includes("100%")));
  await status("sold out");
  const error = await page.textContent("#control-error");
  if (error) throw new Error(`the operator controls showed an error: ${error}`);
  await page.screenshot({ path: process.env.SCREENSHOT.replace(/\.png$/, "-operated.png"), fullPage: true });
  console.log(`OPERATED ${id}`);
  console.log("DONE");
} finally {
  await browser.close();
}
