/* The resolution dashboard: reads /api/metrics and draws MTTR, FCR and cost charts on canvases. */
"use strict";

const $ = (sel) => document.querySelector(sel);
const BRAND = "#2557d6";
const GREEN = "#137a48";
const AMBER = "#9a5b00";
const GRID = "#e3e7ee";
const TEXT = "#4a5568";

function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
const percent = (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 100)} %`);
const dollars = (v) => (v === null || v === undefined ? "–" : `$${v.toFixed(v < 1 ? 3 : 2)}`);

function setText(testid, text) {
  $(`[data-testid="${testid}"]`).textContent = text;
}

function axes(ctx, w, h, pad, maxY, labelY) {
  ctx.strokeStyle = GRID;
  ctx.fillStyle = TEXT;
  ctx.font = "11px sans-serif";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i += 1) {
    const y = h - pad.b - ((h - pad.t - pad.b) * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y);
    ctx.lineTo(w - pad.r, y);
    ctx.stroke();
    ctx.fillText(labelY((maxY * i) / 4), 4, y + 4);
  }
}

function emptyState(canvas, text) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = TEXT;
  ctx.font = "13px sans-serif";
  ctx.fillText(text, 16, canvas.height / 2);
  canvas.dataset.state = "empty";
}

function series(canvas, points, key, color, format, kind) {
  const values = points.map((p) => p[key]);
  const present = values.filter((v) => v !== null && v !== undefined);
  if (!present.length) return emptyState(canvas, "No resolved cases in this period.");
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  const pad = { l: 52, r: 12, t: 12, b: 28 };
  ctx.clearRect(0, 0, w, h);
  const maxY = Math.max(...present) * 1.15 || 1;
  axes(ctx, w, h, pad, maxY, format);
  const step = (w - pad.l - pad.r) / Math.max(1, points.length);
  const y = (v) => h - pad.b - ((h - pad.t - pad.b) * v) / maxY;
  ctx.fillStyle = TEXT;
  points.forEach((p, i) => {
    if (points.length <= 14 || i % Math.ceil(points.length / 10) === 0) {
      ctx.fillText(p.day.slice(5), pad.l + i * step + 2, h - 8);
    }
  });
  ctx.fillStyle = color;
  ctx.strokeStyle = color;
  ctx.lineWidth = 2.5;
  if (kind === "bars") {
    values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      ctx.fillRect(pad.l + i * step + step * 0.2, y(v), Math.max(3, step * 0.6), h - pad.b - y(v));
    });
  } else {
    ctx.beginPath();
    let started = false;
    values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const x = pad.l + i * step + step / 2;
      if (!started) ctx.moveTo(x, y(v));
      else ctx.lineTo(x, y(v));
      started = true;
    });
    ctx.stroke();
    values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const x = pad.l + i * step + step / 2;
      ctx.globalAlpha = 0.25;  // a stem to the axis keeps a lone day readable
      ctx.fillRect(x - 1.5, y(v), 3, h - pad.b - y(v));
      ctx.globalAlpha = 1;
      ctx.beginPath();
      ctx.arc(x, y(v), 5, 0, Math.PI * 2);
      ctx.fill();
    });
  }
  canvas.dataset.state = "drawn";
  canvas.dataset.points = String(present.length);
}

function patterns(canvas, costs) {
  const entries = Object.entries(costs);
  if (!entries.length) return emptyState(canvas, "No resolved cases in this period.");
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(...entries.map(([, v]) => v)) || 1;
  const row = Math.min(40, (h - 20) / entries.length);
  ctx.font = "12px sans-serif";
  entries.forEach(([name, value], i) => {
    const top = 10 + i * row;
    ctx.fillStyle = TEXT;
    ctx.fillText(name, 8, top + row / 2 + 4);
    ctx.fillStyle = AMBER;
    const width = Math.max(3, ((w - 320) * value) / max);
    ctx.fillRect(220, top + 4, width, row - 10);
    ctx.fillStyle = TEXT;
    ctx.fillText(dollars(value), 226 + width, top + row / 2 + 4);
  });
  canvas.dataset.state = "drawn";
  canvas.dataset.points = String(entries.length);
}

function addRow(body, texts, data) {
  const row = document.createElement("tr");
  Object.assign(row.dataset, data);
  for (const text of texts) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.append(cell);
  }
  body.append(row);
}

function patternTable(table, byPattern) {
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const [name, s] of Object.entries(byPattern)) {
    addRow(body, [name, String(s.count), minutes(s.mean), minutes(s.p50), minutes(s.p90)], { pattern: name });
  }
}

function owners(body, report) {
  body.replaceChildren();
  const teams = Object.entries(report.escalations_by_owner || {});
  if (!teams.length) {
    const row = document.createElement("tr");
    const cell = document.createElement("td");
    cell.colSpan = 5;
    cell.textContent = "No case was handed to people in this period.";
    row.append(cell);
    body.append(row);
    return;
  }
  for (const [team, count] of teams) {
    const picked = (report.pickup_by_owner || {})[team] || {};
    const waiting = String((report.waiting_for_pickup || {})[team] || 0);
    addRow(body, [team, String(count), minutes(picked.p50), minutes(picked.p90), waiting], { team });
  }
}

function changeText(c) {
  if (c.kind === "deploy") return `${c.previous_version ? `${c.previous_version} → ` : ""}${c.version}`;
  if (c.kind === "scale") return `${c.previous_replicas ?? "?"} → ${c.replicas} replicas`;
  const was = c.previous_value === null ? "" : `${c.previous_value} → `;
  return `${c.key} = ${was}${c.value === null ? "(removed)" : c.value}`;
}

async function changes(body) {
  body.replaceChildren();
  let listed;
  try {
    const answer = await fetch("/api/changes?limit=50", { headers: { Accept: "application/json" } });
    listed = await answer.json();
    if (!answer.ok) throw new Error(listed.error || answer.statusText);
  } catch (exc) {
    listed = [];
    addRow(body, [`Could not load the changes: ${exc.message}`], {});
  }
  if (!listed.length && !body.children.length) {
    addRow(body, ["No change reported yet: see the README's \"Connect it to your stack\"."], {});
  }
  for (const c of listed) {
    const when = new Date(c.at).toLocaleString();
    addRow(body, [when, c.service, c.kind, changeText(c), c.author || "", c.source], { change: c.id });
  }
  body.dataset.loaded = String(listed.length);
}

async function load() {
  const days = $("#period").value;
  const error = $('[data-testid="dash-error"]');
  let body;
  try {
    const answer = await fetch(`/api/metrics?days=${encodeURIComponent(days)}`);
    body = await answer.json();
    if (!answer.ok) throw new Error(body.error || answer.statusText);
  } catch (exc) {
    error.textContent = `Could not load the figures: ${exc.message}`;
    error.hidden = false;
    return;
  }
  error.hidden = true;
  const r = body.report;
  setText("kpi-mttr", minutes(r.mttr.mean));
  setText("kpi-mttr-net", r.mttr.count ? `${minutes(r.mttr_without_approval.mean)} without approval wait` : "");
  setText("kpi-fcr", percent(r.fcr));
  setText("kpi-closed", `${r.resolved} resolved of ${r.cases} cases`);
  setText("kpi-cost", dollars(r.cost_per_resolved_usd));
  setText("kpi-cost-note", `${r.llm_calls} model calls, ${r.tokens} tokens`);
  setText("kpi-wait", minutes(r.approval_wait.mean));
  setText("kpi-mix", Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(" · "));
  setText("kpi-escalated", String(r.escalated));
  const pickedUp = r.pickup && r.pickup.count ? `picked up in ${minutes(r.pickup.p50)} (p50)` : "";
  setText("kpi-breaker", [pickedUp, r.breaker_trips ? `${r.breaker_trips} breaker trips` : ""].filter(Boolean).join(" · "));
  owners($('[data-testid="owners-body"]'), r);
  await changes($('[data-testid="changes-body"]'));
  series($('[data-chart="mttr"]'), body.daily.map((d) => ({ ...d, mttr_minutes: d.mttr_seconds === null ? null : d.mttr_seconds / 60 })),
    "mttr_minutes", BRAND, (v) => v.toFixed(1), "line");
  series($('[data-chart="fcr"]'), body.daily, "fcr", GREEN, (v) => `${Math.round(v * 100)}%`, "bars");
  patterns($('[data-chart="cost"]'), r.cost_per_resolved_by_pattern);
  patternTable($('[data-testid="pattern-mttr"]'), r.mttr_by_pattern);
  document.body.dataset.loaded = days;
}

const initial = new URLSearchParams(window.location.search).get("days");
if (initial) {
  const option = document.createElement("option");
  option.value = initial;
  option.textContent = `last ${initial} days`;
  $("#period").append(option);
  $("#period").value = initial;
}
$("#period").addEventListener("change", load);
window.ActionDeskSession.ensure().then(load, (exc) => {
  const error = $('[data-testid="dash-error"]');
  error.textContent = `Could not sign in: ${exc.message}`;
  error.hidden = false;
});
