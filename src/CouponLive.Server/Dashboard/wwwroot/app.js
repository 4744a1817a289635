// CouponLive dashboard: plain JavaScript, no build step. The token lives in sessionStorage;
// the live view reads the server-sent event stream with fetch so it can send the bearer token.
"use strict";

const COLORS = { issued: "#1a9c5b", already_issued: "#7fc8a0", sold_out: "#d64545", window_sold_out: "#f08c8c",
  not_open: "#d9822b", ended: "#9aa1ae", unavailable: "#7b4bd6", rejected_auth: "#333a48", rate_limited: "#c9a227" };
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("couponlive.token");
let liveAbort = null;

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = "Bearer " + token;
  if (options.body) headers["content-type"] = "application/json";
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && path !== "/api/v1/auth/token") { signOut(); throw new Error("Signed out"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw Object.assign(new Error(body?.detail || response.statusText), { problem: body });
  return body;
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
  const c = s.campaign;
  $("live-name").textContent = c.name;
  $("status").textContent = c.status.replace("_", " ");
  $("status").className = "badge " + c.status;
  $("remaining").textContent = c.remaining.toLocaleString();
  $("total").textContent = c.totalQuantity.toLocaleString();
  $("issued").textContent = c.issuedCount.toLocaleString();
  $("stock-bar").style.width = (100 * c.remaining / c.totalQuantity).toFixed(2) + "%";
  $("live-state").textContent = "live · " + new Date(c.serverTime).toLocaleTimeString();
  countdown(c);

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

function countdown(c) {
  const now = Date.parse(c.serverTime);
  let text = "";
  if (c.status === "open" && c.currentWindow) text = `window closes in ${duration(Date.parse(c.currentWindow.endsAt) - now)}`;
  else if (c.nextWindow) text = `next window opens in ${duration(Date.parse(c.nextWindow.startsAt) - now)}`;
  else if (c.status === "ended") text = "all windows are over";
  $("countdown").textContent = text;
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h}h ` : "") + (h || m ? `${m}m ` : "") + `${sec}s`;
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
