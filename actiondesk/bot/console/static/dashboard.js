/* The resolution dashboard: reads /api/metrics (calendar days in the viewer's time zone) and draws the MTTR,
   FCR and cost charts with Chart.js (chart.umd.min.js, vendored with its licence beside it). */
"use strict";

const $ = (sel) => document.querySelector(sel);
const BRAND = "#2557d6";
const GREEN = "#137a48";
const AMBER = "#9a5b00";

function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
const percent = (v) => (v === null || v === undefined ? "–" : `${Math.round(Math.min(1, v) * 100)} %`);
const dollars = (v) => (v === null || v === undefined ? "–" : `$${v.toFixed(v < 1 ? 3 : 2)}`);

function setText(testid, text) {
  $(`[data-testid="${testid}"]`).textContent = text;
}

// The viewer's time zone: the server buckets the days as calendar days there, so today's cases are under today.
const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const drawn = {};

// MTTR's unit follows the values: seconds under two minutes, hours from two hours, else minutes.
function timeUnit(maxSeconds) {
  if (maxSeconds < 120) return { name: "seconds", short: "s", per: 1 };
  if (maxSeconds >= 7200) return { name: "hours", short: "h", per: 3600 };
  return { name: "minutes", short: "min", per: 60 };
}

const dayLabel = (day) => new Date(`${day}T12:00:00`).toLocaleDateString(undefined, { month: "short", day: "numeric" });

function numeric(value, index, ticks) {
  return window.Chart.Ticks.formatters.numeric.call(this, value, index, ticks);
}

function show(name, canvas, why) {
  const empty = $(`[data-testid="chart-${name}-empty"]`);
  if (drawn[name]) {
    drawn[name].destroy();
    delete drawn[name];
  }
  empty.textContent = why || "";
  empty.hidden = !why;
  canvas.hidden = Boolean(why);
  canvas.dataset.state = why ? "empty" : "drawn";
}

function draw(name, canvas, config, points) {
  show(name, canvas, null);
  config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...config.options };
  drawn[name] = new window.Chart(canvas, config);
  canvas.dataset.points = String(points);
}

function mttrChart(canvas, daily, period) {
  const present = daily.filter((d) => d.mttr_seconds !== null && d.mttr_seconds !== undefined);
  if (!present.length) {
    return show("mttr", canvas, `No case was resolved ${period}: MTTR is measured on resolved cases only.`);
  }
  const unit = timeUnit(Math.max(...present.map((d) => d.mttr_seconds)));
  setText("mttr-unit", unit.name);
  draw("mttr", canvas, {
    type: "line",
    data: {
      labels: daily.map((d) => dayLabel(d.day)),
      datasets: [{
        label: `MTTR (${unit.name})`,
        data: daily.map((d) => (d.mttr_seconds === null ? null : d.mttr_seconds / unit.per)),
        borderColor: BRAND, backgroundColor: BRAND, pointRadius: 5, spanGaps: true,
      }],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: {
        label: (item) => `${minutes(daily[item.dataIndex].mttr_seconds)} (${daily[item.dataIndex].resolved} resolved)`,
      } } },
      scales: {
        y: { beginAtZero: true, title: { display: true, text: unit.name },
          ticks: { callback(value, index, ticks) { return `${numeric.call(this, value, index, ticks)} ${unit.short}`; } } },
        x: { ticks: { autoSkip: true, maxRotation: 0 } },
      },
    },
  }, present.length);
}

function fcrChart(canvas, daily, period) {
  const present = daily.filter((d) => d.fcr !== null && d.fcr !== undefined);
  if (!present.length) {
    return show("fcr", canvas, `No case was closed ${period}: first-contact resolution is a share of closed cases.`);
  }
  draw("fcr", canvas, {
    type: "bar",
    data: {
      labels: daily.map((d) => dayLabel(d.day)),
      datasets: [{
        label: "first-contact resolution (%)",
        data: daily.map((d) => (d.fcr === null ? null : Math.min(100, d.fcr * 100))),
        backgroundColor: GREEN, maxBarThickness: 36, minBarLength: 3,
      }],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: {
        label: (item) => {
          const d = daily[item.dataIndex];
          return `${percent(d.fcr)}: ${d.first_contact} of ${d.closed} closed`;
        },
      } } },
      scales: {
        y: { min: 0, max: 100, title: { display: true, text: "%" },
          ticks: { stepSize: 25, callback: (value) => `${value} %` } },
        x: { ticks: { autoSkip: true, maxRotation: 0 } },
      },
    },
  }, present.length);
}

function costChart(canvas, costs, period) {
  const entries = Object.entries(costs);
  if (!entries.length) {
    return show("cost", canvas, `No request was resolved ${period}, so no cost per resolved request.`);
  }
  draw("cost", canvas, {
    type: "bar",
    data: {
      labels: entries.map(([name]) => name),
      datasets: [{ label: "USD per resolved request", data: entries.map(([, v]) => v), backgroundColor: AMBER,
        maxBarThickness: 28, minBarLength: 3 }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => dollars(item.raw) } } },
      scales: {
        x: { beginAtZero: true, title: { display: true, text: "USD" },
          ticks: { callback(value, index, ticks) { return `$${numeric.call(this, value, index, ticks)}`; } } },
      },
    },
  }, entries.length);
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
    const answer = await fetch(`/api/metrics?days=${encodeURIComponent(days)}&tz=${encodeURIComponent(ZONE)}`);
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
  setText("kpi-fcr", percent(r.fcr === null ? null : Math.min(1, r.fcr)));
  const closed = r.cases - r.open;
  const firstContact = r.fcr === null ? 0 : Math.round(r.fcr * closed);
  setText("kpi-closed", closed ? `${firstContact} of ${closed} closed · ${r.resolved} resolved of ${r.cases} cases`
    : `none closed · ${r.cases} cases`);
  setText("kpi-cost", dollars(r.cost_per_resolved_usd));
  setText("kpi-cost-note", `${r.llm_calls} model calls, ${r.tokens} tokens`);
  setText("kpi-wait", minutes(r.approval_wait.mean));
  setText("kpi-mix", Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(" · "));
  setText("kpi-escalated", String(r.escalated));
  const pickedUp = r.pickup && r.pickup.count ? `picked up in ${minutes(r.pickup.p50)} (p50)` : "";
  setText("kpi-breaker", [pickedUp, r.breaker_trips ? `${r.breaker_trips} breaker trips` : ""].filter(Boolean).join(" · "));
  owners($('[data-testid="owners-body"]'), r);
  await changes($('[data-testid="changes-body"]'));
  const period = days === "1" ? "today" : `in the last ${days} days`;
  setText("time-zone", body.time_zone || ZONE);
  mttrChart($('[data-chart="mttr"]'), body.daily, period);
  fcrChart($('[data-chart="fcr"]'), body.daily, period);
  costChart($('[data-chart="cost"]'), r.cost_per_resolved_by_pattern, period);
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
