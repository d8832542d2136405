// fakessh dashboard: renders /downloads/status entries and, for admin
// peers, the fake instances; updated live from /downloads/events (SSE).
"use strict";

const jobs = new Map();      // id -> status entry (with commands, resource_paths)
let instances = null;        // [instance summary] or null when not shown
let scheduled = false;

const $ = (id) => document.getElementById(id);

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function readInitial(id) {
  try { return JSON.parse($(id).textContent); } catch (_) { return null; }
}

function percentOf(job) {
  if (job.status === "COMPLETE") return 100;
  const p = Number(job.progress && job.progress.percent);
  return Number.isFinite(p) ? Math.max(0, Math.min(100, p)) : 0;
}

function tagOf(job) {
  switch (job.status) {
    case "PENDING": return ["Queued", "queued"];
    case "RUNNING": return [`${Math.floor(percentOf(job))}%`, "running"];
    case "COMPLETE": return ["Complete", "complete"];
    case "FAILED": return ["Failed", "failed"];
    case "HOST_VERIFICATION_NEEDED": return ["Verify Host", "verify"];
    default: return [job.status, "queued"];
  }
}

const ICONS = { queued: "◷", running: "⇣", complete: "✓", failed: "✕", verify: "⚿" };

function details(job) {
  const p = job.progress || {};
  const parts = [];
  if (p.speed) parts.push(`<span class="k">speed</span> ${esc(p.speed)}`);
  if (p.downloaded) {
    parts.push(`<span class="k">downloaded</span> ${esc(p.downloaded)}${p.total ? " / " + esc(p.total) : ""}`);
  } else if (p.total) {
    parts.push(`<span class="k">size</span> ${esc(p.total)}`);
  }
  if (p.eta) parts.push(`<span class="k">ETA</span> ${esc(p.eta)}`);
  if (p.stage) parts.push(`<span class="k">stage</span> ${esc(p.stage)}`);
  const file = p.filename || p.name;
  if (file) parts.push(`<span class="k">file</span> ${esc(file)}`);
  if (job.total_commands > 0) {
    const i = Math.max(job.command_index || 0, job.status === "PENDING" ? 0 : 1);
    parts.push(`<span class="k">command</span> ${Math.min(i, job.total_commands)}/${job.total_commands}`);
  }
  return parts.join('<span class="sep">·</span>');
}

function jobHtml(job) {
  const [tag, kind] = tagOf(job);
  const pct = percentOf(job);
  const showBar = kind === "running" || kind === "complete" || (kind === "failed" && pct > 0);
  const variant = job.variant_tag ? `<span class="variant">${esc(job.variant_tag)}</span>` : "";
  const error = job.error ? `<div class="error">${esc(job.error)}</div>` : "";
  const verify = job.status === "HOST_VERIFICATION_NEEDED" && job.host
    ? `<div class="error">Host key of ${esc(job.host)}:${esc(job.port)} changed: check it, then retry.</div>` : "";
  const canRetry = job.status !== "PENDING" && job.status !== "RUNNING";
  const cmds = (job.commands || []).map((c) => `<li><code>${esc(c)}</code></li>`).join("");
  return `
  <article class="job ${kind}" data-job-id="${esc(job.id)}" data-status="${esc(job.status)}" data-percent="${Math.floor(pct)}">
    <div class="row">
      <span class="icon" aria-hidden="true">${ICONS[kind] || "•"}</span>
      <span class="name">${esc(job.display_name || job.id)}</span>${variant}
      <span class="tag ${kind}">${esc(tag)}</span>
      <span class="actions">
        ${canRetry ? `<button class="retry" data-action="retry" data-id="${esc(job.id)}">Retry</button>` : ""}
        <button class="delete" data-action="delete" data-id="${esc(job.id)}" title="Remove from the queue">Delete</button>
      </span>
    </div>
    ${showBar ? `<div class="bar" role="progressbar" aria-valuenow="${Math.floor(pct)}" aria-valuemin="0" aria-valuemax="100">
      <div class="fill" style="width:${pct.toFixed(1)}%"></div><span class="pct">${Math.floor(pct)}%</span></div>` : ""}
    <div class="details">${details(job)}</div>
    ${error}${verify}
    ${cmds ? `<details class="cmds"><summary>${job.commands.length} command${job.commands.length === 1 ? "" : "s"}</summary><ul>${cmds}</ul></details>` : ""}
  </article>`;
}

function renderJobs() {
  const byInstance = new Map();
  for (const job of jobs.values()) {
    const key = job.instance_id || "?";
    if (!byInstance.has(key)) byInstance.set(key, []);
    byInstance.get(key).push(job);
  }
  const html = [];
  for (const [id, list] of [...byInstance.entries()].sort()) {
    list.sort((a, b) => String(a.added_at).localeCompare(String(b.added_at)));
    const running = list.filter((j) => j.status === "RUNNING").length;
    html.push(`<section class="instance" data-instance="${esc(id)}">
      <h2><span class="host">${esc(id.replace(/_/g, "."))}</span>
      <span class="meta">${list.length} job${list.length === 1 ? "" : "s"}${running ? ` · ${running} running` : ""}</span></h2>
      ${list.map(jobHtml).join("")}</section>`);
  }
  $("jobs").innerHTML = html.join("");
  $("empty").hidden = jobs.size > 0;
  const count = (s) => [...jobs.values()].filter((j) => j.status === s).length;
  $("counts").innerHTML = [
    ["RUNNING", "running"], ["PENDING", "queued"], ["COMPLETE", "complete"], ["FAILED", "failed"],
  ].map(([s, label]) => `<span class="count ${label}"><b>${count(s)}</b> ${label}</span>`).join("");
}

function faultText(f) {
  const a = f.rule.action || {};
  const args = Object.entries(a).filter(([k]) => k !== "type").map(([k, v]) => `${k}=${v}`).join(" ");
  const m = f.rule.match || {};
  const on = m.tool || m.command || "*";
  return `<span class="fault-action">${esc(a.type)}${args ? " " + esc(args) : ""}</span> on <code>${esc(on)}</code>`;
}

function renderInstances() {
  if (!instances || instances.length === 0) { $("fakes").hidden = true; return; }
  $("fakes").hidden = false;
  $("fake-list").innerHTML = instances.map((inst) => {
    const faults = inst.faults.length
      ? `<ul class="faults">${inst.faults.map((f) => `<li>${faultText(f)}
          <span class="hits">fired ${f.fired}/${f.matched}</span> <span class="fid">${esc(f.id)}</span></li>`).join("")}</ul>`
      : `<p class="none">no active faults</p>`;
    const tail = inst.journal.tail.slice().reverse();
    const journal = tail.length
      ? `<ol class="journal">${tail.map((e) => {
          const code = e.exit_code === undefined ? (e.ended || "") : e.exit_code;
          const bad = e.ended !== "exit" || e.exit_code !== 0;
          return `<li><span class="time">${esc(String(e.time).slice(11, 19))}</span>
            <span class="code ${bad ? "bad" : "ok"}">${esc(code)}</span>
            <code>${esc(e.command)}</code></li>`;
        }).join("")}</ol>`
      : `<p class="none">no commands yet</p>`;
    const gpus = (inst.gpus || []).length ? `${inst.gpus.length}× ${esc(inst.gpus[0].name)}` : "no GPU";
    return `<div class="fake" data-instance="${esc(inst.id)}">
      <h3>${esc(inst.id)} <span class="meta">${esc(inst.hostname)} · ${gpus}</span></h3>
      <h4>Faults</h4>${faults}
      <h4>Journal <span class="meta">${inst.journal.entries} entries${inst.journal.dropped ? `, ${inst.journal.dropped} dropped` : ""}</span></h4>${journal}
    </div>`;
  }).join("");
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => { scheduled = false; renderJobs(); renderInstances(); });
}

function setLive(state, label) {
  $("live").dataset.state = state;
  $("live").querySelector(".label").textContent = label;
}

function replaceAll(list) {
  jobs.clear();
  for (const e of list || []) jobs.set(e.id, e);
}

function connect() {
  const source = new EventSource("/downloads/events");
  source.onopen = () => setLive("live", "live");
  source.onerror = () => setLive("down", "reconnecting…");
  source.addEventListener("snapshot", (ev) => { replaceAll(JSON.parse(ev.data)); schedule(); });
  source.addEventListener("status", (ev) => { const e = JSON.parse(ev.data); jobs.set(e.id, e); schedule(); });
  source.addEventListener("removed", (ev) => { jobs.delete(JSON.parse(ev.data).id); schedule(); });
  source.addEventListener("instances", (ev) => { instances = JSON.parse(ev.data); schedule(); });
  source.addEventListener("warning", (ev) => {
    if (ev.data) setLive("down", JSON.parse(ev.data).message);
  });
}

async function act(action, id, button) {
  button.disabled = true;
  const req = action === "retry"
    ? fetch("/downloads/retry", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ job_id: id }) })
    : fetch(`/downloads/job/${encodeURIComponent(id)}`, { method: "DELETE" });
  try {
    const res = await req;
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      alert(body.message || `${action} failed: HTTP ${res.status}`);
    }
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-action]");
  if (button) act(button.dataset.action, button.dataset.id, button);
});

replaceAll(readInitial("initial-status"));
instances = readInitial("initial-instances");
renderJobs();
renderInstances();
connect();
