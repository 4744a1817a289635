// CouponLive dashboard: plain JavaScript, no build step. The token lives in sessionStorage;
// the live view reads the server-sent event stream with fetch so it can send the bearer token.
"use strict";

const COLORS = { issued: "#1a9c5b", already_issued: "#7fc8a0", sold_out: "#d64545", window_sold_out: "#f08c8c",
  not_open: "#d9822b", ended: "#9aa1ae", unavailable: "#7b4bd6", rejected_auth: "#333a48", rate_limited: "#c9a227",
  paused: "#5b8def", cancelled: "#8b2d2d" };
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("couponlive.token");
let liveAbort = null;

// The body and the ETag of an answer. Headers given in options (lower case) win over the defaults.
async function request(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = "Bearer " + token;
  if (options.body && !headers["content-type"]) headers["content-type"] = "application/json";
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && path !== "/api/v1/auth/token") { signOut(); throw new Error("Signed out"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw Object.assign(new Error(body?.detail || response.statusText), { problem: body, status: response.status });
  return { body, etag: response.headers.get("etag") };
}

async function api(path, options) {
  return (await request(path, options)).body;
}

function show(section) {
  for (const id of ["signin", "list", "create", "live"]) $(id).hidden = id !== section;
  $("nav").hidden = !token;
}

function signOut() {
  token = null;
  sessionStorage.removeItem("couponlive.token");
  location.hash = "#/";
  route();
}

async function route() {
  if (liveAbort) { liveAbort.abort(); liveAbort = null; }
  stopOperating();
  if (!token) return show("signin");
  const hash = location.hash || "#/";
  if (hash === "#/new") return show("create");
  const live = hash.match(/^#\/campaigns\/(\d+)$/);
  if (live) return showLive(live[1]);
  show("list");
  const list = await api("/api/v1/campaigns");
  $("campaigns").replaceChildren(...list.items.map((c) => {
    const row = document.createElement("tr");
    row.dataset.id = c.id;
    for (const text of [c.name, c.status.replace("_", " "), `${c.issuedCount} / ${c.totalQuantity}`, new Date(c.startsAt).toLocaleString()]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.onclick = () => { location.hash = `#/campaigns/${c.id}`; };
    return row;
  }));
}

$("signin-form").onsubmit = async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  try {
    const result = await api("/api/v1/auth/token", { method: "POST", body: JSON.stringify(Object.fromEntries(form)) });
    token = result.accessToken;
    sessionStorage.setItem("couponlive.token", token);
    $("signin-error").textContent = "";
    route();
  } catch (err) {
    $("signin-error").textContent = err.message;
  }
};
$("signout").onclick = signOut;

// ---- create ----------------------------------------------------------------------------------

for (const radio of document.querySelectorAll("input[name=kind]")) {
  radio.onchange = () => {
    for (const div of document.querySelectorAll("[data-kind]")) div.hidden = div.dataset.kind !== radio.value;
  };
}

// datetime-local carries no offset: add the browser's, as the API wants ISO 8601 with an offset.
function withOffset(local) {
  if (!local) return undefined;
  const d = new Date(local);
  const minutes = -d.getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  return `${local.length === 16 ? local + ":00" : local}${sign}${pad(minutes / 60)}:${pad(minutes % 60)}`;
}

function campaignBody(form) {
  const body = { name: form.get("name"), totalQuantity: Number(form.get("totalQuantity")) };
  const kind = form.get("kind");
  if (kind === "single") {
    body.issueStartsAt = withOffset(form.get("issueStartsAt"));
    body.issueEndsAt = withOffset(form.get("issueEndsAt"));
  } else if (kind === "windows") {
    body.windows = form.get("windows").split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
      const [startsAt, endsAt, quota] = line.split(",").map((p) => p.trim());
      return quota ? { startsAt, endsAt, quota: Number(quota) } : { startsAt, endsAt };
    });
  } else {
    body.schedule = {
      timeZone: form.get("timeZone"), fromDate: form.get("fromDate"), toDate: form.get("toDate"),
      dailyStartTimes: form.get("dailyStartTimes").split(",").map((t) => t.trim()).filter(Boolean),
      durationSeconds: Number(form.get("durationSeconds")),
    };
    if (form.get("quotaPerWindow")) body.schedule.quotaPerWindow = Number(form.get("quotaPerWindow"));
  }
  return body;
}

$("create-form").onsubmit = async (e) => {
  e.preventDefault();
  for (const el of e.target.querySelectorAll(".invalid")) el.classList.remove("invalid");
  try {
    const campaign = await api("/api/v1/campaigns", { method: "POST", body: JSON.stringify(campaignBody(new FormData(e.target))) });
    $("create-error").textContent = "";
    location.hash = `#/campaigns/${campaign.id}`;
  } catch (err) {
    const field = err.problem?.field;
    $("create-error").textContent = field ? `${field}: ${err.message}` : err.message;
    const input = field && e.target.querySelector(`[name="${field.split(/[.[]/)[0] === "schedule" ? field.split(".")[1] : field.split(/[.[]/)[0]}"]`);
    if (input) input.classList.add("invalid");
  }
};

// ---- live view -------------------------------------------------------------------------------

const history = [];   // [{t, issued}] from the snapshots, for the issued-over-time chart

async function showLive(id) {
  show("live");
  history.length = 0;
  startOperating(id);
  liveAbort = new AbortController();
  const signal = liveAbort.signal;
  $("live-state").textContent = "connecting…";
  try {
    const response = await fetch(`/api/v1/campaigns/${id}/live`, { headers: { authorization: "Bearer " + token }, signal });
    if (response.status === 401) return signOut();
    if (!response.ok) { $("live-state").textContent = `cannot watch: ${response.status}`; return; }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (event.startsWith("data: ")) render(JSON.parse(event.slice(6)));
      }
    }
    $("live-state").textContent = "stream ended; reload to reconnect";
  } catch (err) {
    if (!signal.aborted) $("live-state").textContent = "disconnected: " + err.message;
  }
}

function render(s) {
  streamed = s.campaign;
  const c = newest(s.campaign);
  showCampaign(c);
  $("live-state").textContent = "live · " + new Date(c.serverTime).toLocaleTimeString();

  history.push({ t: Date.parse(c.serverTime), issued: c.issuedCount });
  if (history.length > 600) history.shift();
  lineChart($("issued-chart"), [history.map((h) => h.issued)], ["#1a9c5b"]);

  const seconds = s.seconds;
  stackedBars($("rate-chart"), seconds, s.outcomeNames);
  $("legend").replaceChildren(...s.outcomeNames.map((name) => {
    const span = document.createElement("span");
    span.style.setProperty("--c", COLORS[name]);
    span.textContent = name.replace("_", " ");
    return span;
  }));
  const last = seconds[seconds.length - 1];
  $("p50").textContent = last ? last.p50Ms.toFixed(1) + " ms" : "–";
  $("p99").textContent = last ? last.p99Ms.toFixed(1) + " ms" : "–";
  lineChart($("latency-chart"), [seconds.map((x) => x.p50Ms), seconds.map((x) => x.p99Ms)], ["#2f6fed", "#d64545"]);

  $("recent").replaceChildren(...s.recent.map((k) => {
    const li = document.createElement("li");
    li.textContent = `${k.code} · #${k.sequence}`;
    return li;
  }));
}

// Counts, status and what the operator may do with the campaign as shown.
function showCampaign(c) {
  $("live-name").textContent = c.name;
  $("status").textContent = c.status.replace("_", " ");
  $("status").className = "badge " + c.status;
  $("remaining").textContent = c.remaining.toLocaleString();
  $("total").textContent = c.totalQuantity.toLocaleString();
  $("issued").textContent = c.issuedCount.toLocaleString();
  $("redeemed").textContent = (c.redeemedCount ?? 0).toLocaleString();
  $("stock-bar").style.width = (100 * c.remaining / c.totalQuantity).toFixed(2) + "%";
  countdown(c);
  controls(c);
}

function countdown(c) {
  const now = Date.parse(c.serverTime);
  let text = "";
  if (c.status === "cancelled") text = `cancelled${when(c.cancelledAt)}` + (c.issuedRevoked ? " · issued coupons revoked" : "");
  else if (c.status === "paused") text = `paused${when(c.pausedAt)}: nobody gets a coupon until it is resumed`;
  else if (c.status === "open" && c.currentWindow) text = `window closes in ${duration(Date.parse(c.currentWindow.endsAt) - now)}`;
  else if (c.nextWindow) text = `next window opens in ${duration(Date.parse(c.nextWindow.startsAt) - now)}`;
  else if (c.status === "ended") text = "all windows are over";
  $("countdown").textContent = text;
}

function when(at) {
  return at ? " at " + new Date(at).toLocaleString() : "";
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h}h ` : "") + (h || m ? `${m}m ` : "") + `${sec}s`;
}

// ---- operating the campaign -------------------------------------------------------------------

const POLL_MS = 3000;
let viewing = null;    // id of the campaign on screen (from the route)
let current = null;    // the campaign as last read over REST (GET or a change's answer)
let etag = null;       // its ETag, sent as If-Match with a change of its fields
let streamed = null;   // the campaign in the latest live snapshot
let busy = false;      // a change is on its way
let poll = null;
let auditSeq = 0;

function startOperating(id) {
  viewing = id;
  current = etag = streamed = null;
  busy = false;
  $("control-message").textContent = $("control-error").textContent = $("operate-state").textContent = "";
  $("audit-rows").replaceChildren();
  $("grant-rows").replaceChildren();
  controls(null);
  refresh();
  refreshEvents();
  poll = setInterval(() => { refresh(); refreshEvents(); }, POLL_MS);
}

// The outbox: what the broker has not confirmed yet (all campaigns), read from the store.
async function refreshEvents() {
  try {
    const b = await api("/api/v1/events/backlog");
    $("events-pending").textContent = b.pending.toLocaleString();
    $("events-age").textContent = b.oldestPendingSeconds == null ? "–" : `${b.oldestPendingSeconds.toFixed(1)} s`;
    $("events-detail").textContent = `transport ${b.transport}` + (b.parked ? ` · ${b.parked.toLocaleString()} parked` : "");
  } catch (e) {
    $("events-detail").textContent = `cannot read the outbox: ${e.message}`;
  }
}

function stopOperating() {
  clearInterval(poll);
  poll = viewing = null;
}

// The live stream can lag behind a change (another process learns of it within a second): until it has
// caught up, show the definition and status last read over REST with the stream's counts.
function newest(live) {
  if (!live) return current;
  if (!current || live.version >= current.version) return live;
  return { ...current, issuedCount: live.issuedCount, remaining: Math.max(0, current.totalQuantity - live.issuedCount), serverTime: live.serverTime };
}

// Keeps a campaign read over REST unless an answer to a later request has already brought a newer version.
function remember(campaign, tag) {
  if (String(campaign.id) !== viewing || (current && campaign.version < current.version)) return;
  current = campaign;
  etag = tag;
  showCampaign(newest(streamed));
}

async function refresh() {
  try {
    await Promise.all([readCampaign(), readAudit(), readGrants()]);
    $("operate-state").textContent = "";
  } catch (err) {
    $("operate-state").textContent = "cannot refresh: " + err.message;
  }
}

async function readCampaign() {
  const { body, etag: tag } = await request(`/api/v1/campaigns/${viewing}`);
  remember(body, tag);
}

async function readAudit() {
  const id = viewing, seq = ++auditSeq;
  if (!id) return;
  const audit = await api(`/api/v1/campaigns/${id}/audit`);
  if (id !== viewing || seq !== auditSeq) return; // left the view, or a later read is on its way
  $("audit-rows").replaceChildren(...audit.items.map(auditRow));
}

// Bulk grants of the campaign with their progress (decided users of requested).
async function readGrants() {
  const id = viewing;
  if (!id) return;
  const grants = await api(`/api/v1/campaigns/${id}/grants`);
  if (id !== viewing) return;
  $("grant-rows").replaceChildren(...grants.items.map(grantRow));
}

function grantRow(g) {
  const row = document.createElement("tr");
  row.dataset.status = g.status;
  const decided = g.issued + g.alreadyHeld + g.soldOut + g.invalid + g.cancelled;
  const progress = `${Math.floor((100 * decided) / g.requested)}% of ${g.requested.toLocaleString()}`;
  for (const text of [g.grantId, g.status, progress, g.issued, g.alreadyHeld, g.soldOut, g.invalid, g.actor]) {
    const cell = document.createElement("td");
    cell.textContent = String(text);
    row.append(cell);
  }
  return row;
}

function auditRow(entry) {
  const row = document.createElement("tr");
  row.dataset.action = entry.action;
  const changes = entry.changes.map((c) => `${c.field}: ${c.from ?? "–"} → ${c.to ?? "–"}`).join("\n");
  for (const text of [new Date(entry.at).toLocaleString(), entry.actor, entry.action.replace("_", " "), changes]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.append(cell);
  }
  return row;
}

// Pause or Resume as the status says; everything off until the campaign is read, while a change is on its way, and once cancelled.
function controls(c) {
  const paused = c?.status === "paused";
  const off = !c || !current || busy || c.status === "cancelled";
  $("pause").hidden = paused;
  $("resume").hidden = !paused;
  for (const id of ["pause", "resume", "add-stock-amount", "add-stock", "end-round", "revoke-issued", "cancel-campaign"]) $(id).disabled = off;
}

// Runs one change: the answer's message or the refusal shown, the audit trail read again.
async function operate(change) {
  busy = true;
  controls(newest(streamed));
  $("control-message").textContent = $("control-error").textContent = "";
  try {
    $("control-message").textContent = (await change()) || "";
  } catch (err) {
    $("control-error").textContent = err.message;
  } finally {
    busy = false;
    controls(newest(streamed));
    readAudit().catch((err) => { $("operate-state").textContent = "cannot refresh: " + err.message; });
  }
}

async function post(path, message, body) {
  const { body: campaign, etag: tag } = await request(`/api/v1/campaigns/${viewing}${path}`, { method: "POST", body });
  remember(campaign, tag);
  return message;
}

$("pause").onclick = () => operate(() => post("/pause", "Paused: nobody gets a coupon until it is resumed."));
$("resume").onclick = () => operate(() => post("/resume", "Resumed."));

$("end-round").onclick = () => {
  if (!confirm(`End the open round of "${current.name}" now? Nobody gets a coupon until the next round opens.`)) return;
  operate(() => post("/windows/current/end", "The round has ended."));
};

$("cancel-campaign").onclick = () => {
  const revokeIssued = $("revoke-issued").checked;
  const revoke = revokeIssued ? ` The ${current.issuedCount.toLocaleString()} coupons issued so far are revoked.` : "";
  if (!confirm(`Cancel "${current.name}" for good? Nobody gets a coupon any more.${revoke}`)) return;
  operate(() => post("/cancel", "Cancelled.", JSON.stringify({ revokeIssued })));
};

$("add-stock-form").onsubmit = (e) => {
  e.preventDefault();
  const amount = Number($("add-stock-amount").value);
  if (!Number.isInteger(amount) || amount < 1) {
    $("control-error").textContent = "Enter a whole number of coupons to add (1 or more).";
    return;
  }
  operate(() => addStock(amount));
};

// A merge patch of the total, conditional on the version last read: another operator's change in between is refused (412).
async function addStock(amount) {
  const total = current.totalQuantity + amount;
  const headers = { "content-type": "application/merge-patch+json" };
  if (etag) headers["if-match"] = etag;
  try {
    const { body, etag: tag } = await request(`/api/v1/campaigns/${viewing}`, { method: "PATCH", headers, body: JSON.stringify({ totalQuantity: total }) });
    remember(body, tag);
  } catch (err) {
    if (err.problem?.code !== "campaign.changed") throw err;
    await readCampaign();
    throw new Error(`The campaign changed meanwhile, so nothing was added: it now has ${current.totalQuantity.toLocaleString()} coupons. Check and add again.`);
  }
  $("add-stock-amount").value = "";
  return `Added ${amount.toLocaleString()} coupon${amount === 1 ? "" : "s"}: ${total.toLocaleString()} in all.`;
}

const SVG = "http://www.w3.org/2000/svg";

function lineChart(svg, series, colors) {
  const max = Math.max(1, ...series.flat());
  svg.replaceChildren(...series.map((values, i) => {
    const path = document.createElementNS(SVG, "polyline");
    const n = Math.max(values.length - 1, 1);
    path.setAttribute("points", values.map((v, x) => `${(300 * x / n).toFixed(1)},${(118 - 112 * v / max).toFixed(1)}`).join(" "));
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", colors[i]);
    path.setAttribute("stroke-width", "2");
    path.setAttribute("vector-effect", "non-scaling-stroke");
    return path;
  }));
}

function stackedBars(svg, seconds, names) {
  const totals = seconds.map((s) => s.outcomes.reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const width = 300 / Math.max(seconds.length, 30);
  const rects = [];
  seconds.forEach((s, x) => {
    let y = 120;
    s.outcomes.forEach((count, i) => {
      if (!count) return;
      const h = 116 * count / max;
      y -= h;
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("x", (x * width).toFixed(1));
      r.setAttribute("y", y.toFixed(1));
      r.setAttribute("width", Math.max(width - 0.5, 0.5).toFixed(1));
      r.setAttribute("height", h.toFixed(1));
      r.setAttribute("fill", COLORS[names[i]]);
      rects.push(r);
    });
  });
  svg.replaceChildren(...rects);
}

window.addEventListener("hashchange", route);
route();
