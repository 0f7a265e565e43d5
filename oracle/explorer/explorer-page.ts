/**
 * The explorer's one page: self-contained (inline CSS and script, nothing fetched from another
 * origin), it polls `/api/state` every second and redraws its tables. Values go in with
 * `textContent` only: they come from the chain, where anyone can write.
 */

/** How often the page asks for the state; ms. */
export const PAGE_POLL_MS = 1000;

export function explorerPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verity explorer</title>
<style>
  :root { color-scheme: light; --fg: #1d2330; --muted: #6b7385; --line: #e3e6ee; --bg: #f7f8fb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 16px; align-items: baseline; padding: 10px 18px; background: #1d2330; color: #fff; }
  header h1 { font-size: 16px; margin: 0; }
  header span { color: #b9c0d0; }
  #error { color: #ffb4a8; }
  main { display: grid; grid-template-columns: 3fr 2fr; gap: 14px; padding: 14px 18px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow: auto; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; margin: 2px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-weight: 600; color: var(--muted); }
  td.mono { font-family: ui-monospace, monospace; font-size: 12px; }
  .status { font-weight: 600; border-radius: 3px; padding: 0 5px; }
  .Pending { background: #fff3c4; } .Claimed, .Submitted { background: #dcebff; }
  .Challenged { background: #ffe0c2; } .Finalized { background: #d5f5dd; }
  .Refunded { background: #ececec; } .Failed { background: #ffd6d6; }
  .empty { color: var(--muted); }
  #counts span { margin-right: 10px; }
</style>
</head>
<body>
<header>
  <h1>Verity explorer</h1>
  <span>chain <b id="chain">…</b></span>
  <span>block <b id="block">…</b></span>
  <span id="counts"></span>
  <span id="error"></span>
</header>
<main>
  <section class="wide"><h2>Requests</h2><table id="requests"></table></section>
  <section class="wide"><h2>Disputes</h2><table id="disputes"></table></section>
  <section><h2>Providers</h2><table id="providers"></table></section>
  <section><h2>Models</h2><table id="models"></table></section>
  <section id="agents-section" hidden><h2>Agents</h2><table id="agents"></table></section>
</main>
<script>
"use strict";
const short = (a) => (a && a.length > 12 ? a.slice(0, 6) + "\\u2026" + a.slice(-4) : a);
function table(id, columns, rows, key) {
  const el = document.getElementById(id);
  const head = "<tr>" + columns.map((c) => "<th></th>").join("") + "</tr>";
  el.innerHTML = head;
  el.querySelectorAll("th").forEach((th, i) => (th.textContent = columns[i][0]));
  if (rows.length === 0) {
    const td = el.insertRow().insertCell();
    td.colSpan = columns.length;
    td.className = "empty";
    td.textContent = "none yet";
    return;
  }
  for (const row of rows) {
    const tr = el.insertRow();
    if (key) tr.dataset.id = row[key];
    for (const [, field, kind] of columns) {
      const td = tr.insertCell();
      const value = row[field] ?? "";
      if (kind === "status") {
        const span = document.createElement("span");
        span.className = "status " + value;
        span.textContent = value;
        td.appendChild(span);
        td.dataset.field = field;
      } else {
        td.textContent = kind === "address" ? short(value) : String(value);
        if (kind === "address") { td.title = value; td.className = "mono"; }
        td.dataset.field = field;
      }
    }
  }
}
function render(s) {
  document.getElementById("chain").textContent = s.chainId;
  document.getElementById("block").textContent = s.block;
  document.getElementById("error").textContent = s.error || "";
  const counts = document.getElementById("counts");
  counts.textContent = "";
  for (const [name, n] of Object.entries(s.statusCounts)) {
    const span = document.createElement("span");
    span.textContent = name + " " + n;
    counts.appendChild(span);
  }
  table("requests", [["id", "id"], ["status", "status", "status"], ["model", "model"], ["requester", "requester", "address"],
    ["provider", "provider", "address"], ["fee", "fee"], ["gas", "gas"], ["time to Finalized", "timeToFinality"]], s.requests, "id");
  table("models", [["id", "id"], ["mode", "mode"], ["price", "price"], ["fee token", "feeToken", "address"]], s.models, "id");
  table("providers", [["address", "address", "address"], ["stake", "stake"], ["reserved", "reserved"], ["served", "served"],
    ["failed", "failed"], ["slashes", "slashes"]], s.providers, "address");
  table("disputes", [["game", "game"], ["request", "request"], ["challenger", "challenger", "address"],
    ["defender", "defender", "address"], ["phase", "phase"], ["turn", "turn"], ["defender clock", "defenderClock"],
    ["challenger clock", "challengerClock"], ["last move", "lastMove"]], s.disputes, "game");
  if (s.agents) {
    document.getElementById("agents-section").hidden = false;
    table("agents", [["id", "id"], ["owner", "owner", "address"], ["account", "account", "address"], ["budget", "budget"]], s.agents, "id");
  }
}
async function tick() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    if (!response.ok) throw new Error("explorer answered " + response.status);
    render(await response.json());
  } catch (error) {
    document.getElementById("error").textContent = "explorer unreachable: " + error.message;
  }
  setTimeout(tick, ${PAGE_POLL_MS});
}
tick();
</script>
</body>
</html>
`;
}
