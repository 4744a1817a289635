// Browser test of the dashboard in real headless Chromium (Debian's, no download).
// Protocol with the C# test that runs it: prints "CAMPAIGN <id>" once the live view of a campaign
// created through the form is showing; the C# side then drives issue requests; this script waits
// until the page shows no stock left and "sold out", saves a screenshot and exits 0.
// Env: BASE_URL, ADMIN_PASSWORD, SCREENSHOT (path), CAMPAIGN_NAME, QUANTITY.
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
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
  page.on("console", (m) => console.error("console:", m.text()));
  page.on("requestfailed", (r) => console.error("request failed:", r.url(), r.failure()?.errorText));

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
  const watch = setInterval(async () => console.error("state:", await page.textContent("#live-state").catch(() => "?")), 2000);

  // The C# test now sells it out; the page must follow by itself.
  try {
    await page.waitForFunction(() =>
      document.querySelector("#remaining").textContent === "0" &&
      document.querySelector("#status").textContent === "sold out", null, { timeout });
  } catch (err) {
    const state = await page.evaluate(async () => {
      const own = await fetch(location.pathname.replace("/dashboard", "") + "/api/v1/campaigns/" + location.hash.split("/").pop(),
        { cache: "no-store", headers: { authorization: "Bearer " + sessionStorage.getItem("couponlive.token"), connection: "close" } }).then((r) => r.text());
      return ["#remaining", "#status", "#live-state", "#issued"].map((s) => document.querySelector(s).textContent).join(" | ") + " | " + location.href + " | " + own.slice(0, 160);
    });
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    throw new Error(`the page did not reach sold out: ${state}`, { cause: err });
  }
  await page.waitForFunction(() => document.querySelectorAll("#rate-chart rect").length > 0 && document.querySelectorAll("#recent li").length > 0);
  await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  console.log(`SOLD_OUT ${id}`);

  // The list shows it sold out too.
  await page.goto(`${base}/dashboard#/`);
  await page.waitForFunction((name) => [...document.querySelectorAll("#campaigns tr")]
    .some((r) => r.textContent.includes(name) && r.textContent.includes("sold out")), process.env.CAMPAIGN_NAME);
  console.log("DONE");
} finally {
  await browser.close();
}
