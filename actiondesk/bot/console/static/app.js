/* ActionDesk web console.
 *
 * Plain JavaScript, no build step, no network access beyond this server. Every string that comes from the
 * server is put into the page as text (textContent / setAttribute), never parsed as HTML.
 *
 * Live updates: an EventSource on /api/changes says which case changed; the open case is re-read on each
 * event for it. A 2-second poll runs as well, because with several replicas a change made on another one
 * never reaches this replica's feed.
 */
"use strict";

(function () {
  const POLL_MS = 2000;
  const RECONNECT_MIN_MS = 1000;
  const RECONNECT_MAX_MS = 15000;

  const state = {
    mode: null, // "oidc" (signed in through the issuer) or "demo" (loopback, "You are")
    people: [],
    user: null,
    cases: [],
    caseId: null,
    detail: null,
    ui: {
      rejecting: {}, // approval id -> reason draft, while the reject form is open
      errors: {}, // approval id -> message
      busy: {}, // approval id -> true while a click is in flight
    },
    sending: false,
    renderedKey: "",
    renderedCaseId: null,
  };

  // ---------------------------------------------------------------- DOM helpers

  const $ = (testid, root) => (root || document).querySelector(`[data-testid="${testid}"]`);

  /** Build an element. props: class, text, testid, title, data (object), attrs (object), on (object). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    const p = props || {};
    if (p.class) node.className = p.class;
    if (p.text !== undefined && p.text !== null) node.textContent = String(p.text);
    if (p.testid) node.setAttribute("data-testid", p.testid);
    if (p.title) node.title = String(p.title);
    for (const [k, v] of Object.entries(p.data || {})) {
      if (v !== undefined && v !== null) node.dataset[k] = String(v);
    }
    for (const [k, v] of Object.entries(p.attrs || {})) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const [k, v] of Object.entries(p.on || {})) node.addEventListener(k, v);
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(node, child);
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---------------------------------------------------------------- formatting

  const STATUS_LABELS = {
    open: "open",
    triaging: "triaging",
    watching: "watching",
    awaiting_reply: "awaiting reply",
    planning: "planning",
    awaiting_approval: "awaiting approval",
    acting: "acting",
    verifying: "verifying",
    resolved: "resolved",
    escalated: "escalated",
    failed: "failed",
    proposed: "proposed",
    approved: "approved",
    running: "running",
    succeeded: "succeeded",
    refused: "refused",
    suggested: "suggested",
    not_run: "not run",
    pending: "pending",
    rejected: "rejected",
    expired: "expired",
  };

  const label = (status) => STATUS_LABELS[status] || String(status || "").replace(/_/g, " ");

  function badge(status, testid) {
    return el("span", { class: `badge badge-${status}`, text: label(status), testid, data: { status } });
  }

  function parseTime(iso) {
    if (!iso) return null;
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? null : d;
  }

  function fmtTime(iso, withSeconds) {
    const d = parseTime(iso);
    if (!d) return "";
    const now = new Date();
    const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (withSeconds) opts.second = "2-digit";
    const time = d.toLocaleTimeString([], opts);
    if (d.toDateString() === now.toDateString()) return time;
    return `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
  }

  function fmtFull(iso) {
    const d = parseTime(iso);
    if (!d) return "";
    return d.toLocaleString([], {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
      timeZoneName: "short",
    });
  }

  function fmtRelative(iso) {
    const d = parseTime(iso);
    if (!d) return "";
    const secs = Math.round((d.getTime() - Date.now()) / 1000);
    const abs = Math.abs(secs);
    let text;
    if (abs < 45) text = `${abs}s`;
    else if (abs < 5400) text = `${Math.round(abs / 60)} min`;
    else if (abs < 129600) text = `${Math.round(abs / 3600)} h`;
    else text = `${Math.round(abs / 86400)} d`;
    return secs >= 0 ? `in ${text}` : `${text} ago`;
  }

  const pct = (x) => (typeof x === "number" ? `${(x * 100).toFixed(2)}%` : "—");
  /** The name and the unit of a triage signal (error_rate when a finding predates signals). */
  const SIGNALS = { error_rate: "5xx rate", latency: "p95 latency", cpu: "CPU", unready: "pods not ready", restarts: "restarts" };
  const signalName = (signal) => SIGNALS[signal || "error_rate"] || signal;
  function signalValue(signal, value) {
    if (typeof value !== "number") return "—";
    switch (signal || "error_rate") {
      case "error_rate":
        return pct(value);
      case "latency":
        return `${Math.round(value)} ms`;
      case "cpu":
        return `${Math.round(value)} %`;
      default:
        return `${Math.round(value)}`;
    }
  }

  function shortJson(value, max) {
    let text;
    try {
      text = typeof value === "string" ? value : JSON.stringify(value);
    } catch (_e) {
      text = String(value);
    }
    if (text === undefined) text = "";
    const limit = max || 140;
    return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
  }

  function paramsText(params) {
    return Object.entries(params || {})
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(", ");
  }

  function initials(name) {
    const parts = String(name || "?").split(/[\s._-]+/).filter(Boolean);
    return (parts.length > 1 ? parts[0][0] + parts[1][0] : String(name || "?").slice(0, 1)).toUpperCase();
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // "You are" being changed (demo): its sign-in ends the old session before the new one's cookie arrives, so a
  // request made meanwhile waits for it instead of going out with a cookie that no longer signs anyone in
  let switching = null;

  async function api(method, path, body) {
    if (switching) await switching;
    const init = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_e) {
      throw new ApiError(0, "Cannot reach the ActionDesk server.");
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_e) {
        data = null;
      }
    }
    if (response.status === 401 && state.mode === "oidc") window.ActionDeskSession.signIn(); // session ended
    if (!response.ok) {
      const message = data && typeof data.error === "string" ? data.error : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, message);
    }
    return data;
  }

  const ERROR_PREFIX = { 403: "Not allowed", 404: "Not found", 409: "Already decided", 410: "Expired" };

  function describeError(err) {
    if (!(err instanceof ApiError)) return String((err && err.message) || err);
    const prefix = ERROR_PREFIX[err.status];
    return prefix ? `${prefix}: ${err.message}` : err.message;
  }

  // ---------------------------------------------------------------- banner (connectivity, unexpected errors)

  /** kind "connectivity" clears itself on the next successful read; "notice" stays until dismissed. */
  function showBanner(message, kind) {
    const banner = $("banner");
    banner.querySelector(".banner-text").textContent = message;
    banner.dataset.kind = kind || "notice";
    banner.hidden = false;
  }

  function hideBanner() {
    $("banner").hidden = true;
  }

  // ---------------------------------------------------------------- people / "You are"

  function personByName(name) {
    return state.people.find((p) => p.name === name) || null;
  }

  function renderPeople() {
    const select = $("user-select");
    clear(select);
    for (const person of state.people) {
      const groups = (person.groups || []).join(", ");
      select.appendChild(
        el("option", { text: groups ? `${person.name} (${groups})` : person.name, attrs: { value: person.name } }),
      );
    }
    if (state.user) select.value = state.user;
  }

  /** Who is using the page: the signed-in person, or in the demo the person picked in "You are". */
  async function loadIdentity() {
    let session;
    try {
      session = await window.ActionDeskSession.ensure();
    } catch (err) {
      showBanner(`Could not start a session: ${describeError(err)}`);
      session = { mode: "demo", me: null, people: [] };
    }
    state.mode = session.mode;
    state.user = session.me ? session.me.person : null;
    if (session.mode === "demo") {
      state.people = session.people;
      $("demo-banner").hidden = false;
      $("demo-whoami").hidden = false;
    } else {
      state.people = session.me ? [{ name: session.me.person, groups: session.me.groups }] : [];
      $("signed-in-as").textContent = state.user || "";
      $("signed-in").hidden = false;
    }
    renderPeople();
    renderComposer();
  }

  // ---------------------------------------------------------------- case list

  function renderCaseList() {
    const list = $("case-list");
    clear(list);
    $("case-count").textContent = state.cases.length ? String(state.cases.length) : "";
    $("case-list-empty").hidden = state.cases.length > 0;
    for (const c of state.cases) {
      const active = c.id === state.caseId;
      const item = el(
        "li",
        {
          class: `case-item${active ? " active" : ""}`,
          testid: "case-item",
          data: { caseId: c.id, status: c.status },
          attrs: { tabindex: 0, role: "button", "aria-current": active ? "true" : null },
          on: {
            click: () => selectCase(c.id),
            keydown: (ev) => {
              if (ev.key === "Enter" || ev.key === " ") {
                ev.preventDefault();
                selectCase(c.id);
              }
            },
          },
        },
        el("div", { class: "case-item-title", text: c.title }),
        el(
          "div",
          { class: "case-item-meta" },
          badge(c.status),
          el("span", { class: "mono", text: c.id }),
          c.service ? el("span", { text: c.service }) : null,
          el("span", { text: fmtTime(c.updated_at), title: fmtFull(c.updated_at) }),
        ),
      );
      list.appendChild(item);
    }
  }

  let listInFlight = null;
  let listAgain = false;

  async function refreshList() {
    if (listInFlight) {
      listAgain = true;
      return listInFlight;
    }
    listInFlight = (async () => {
      do {
        listAgain = false;
        try {
          state.cases = await api("GET", "/api/cases");
          renderCaseList();
          hideBannerIfConnectivity();
        } catch (err) {
          if (err instanceof ApiError && err.status === 0) showBanner(err.message, "connectivity");
        }
      } while (listAgain);
    })();
    try {
      await listInFlight;
    } finally {
      listInFlight = null;
    }
  }

  function hideBannerIfConnectivity() {
    const banner = $("banner");
    if (!banner.hidden && banner.dataset.kind === "connectivity") hideBanner();
  }

  // ---------------------------------------------------------------- the open case

  let caseInFlight = null;
  let caseAgain = false;

  async function refreshCase() {
    if (!state.caseId) return;
    if (caseInFlight) {
      caseAgain = true;
      return caseInFlight;
    }
    caseInFlight = (async () => {
      do {
        caseAgain = false;
        const id = state.caseId;
        if (!id) break;
        try {
          const detail = await api("GET", `/api/cases/${encodeURIComponent(id)}`);
          if (state.caseId === id) {
            state.detail = detail;
            renderCase();
            renderComposer();
          }
        } catch (err) {
          if (state.caseId !== id) continue;
          if (err instanceof ApiError && err.status === 404) {
            showBanner(`Case ${id} does not exist.`);
            selectCase(null);
          } else if (err instanceof ApiError && err.status === 0) {
            showBanner(err.message, "connectivity");
          }
        }
      } while (caseAgain);
    })();
    try {
      await caseInFlight;
    } finally {
      caseInFlight = null;
    }
  }

  function selectCase(id) {
    const changed = id !== state.caseId;
    state.caseId = id || null;
    if (changed) {
      state.detail = null;
      state.ui = { rejecting: {}, errors: {}, busy: {} };
      setComposerError(null);
    }
    const hash = id ? `#case=${encodeURIComponent(id)}` : "";
    if (window.location.hash !== hash) {
      history.replaceState(null, "", hash || window.location.pathname + window.location.search);
    }
    renderCaseList();
    renderCase();
    renderComposer();
    if (id) refreshCase();
    if (!id) $("chat-input").focus();
  }

  function caseFromHash() {
    const m = /^#case=(.+)$/.exec(window.location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function renderKey() {
    return JSON.stringify([state.caseId, state.detail, state.ui, state.user]);
  }

  function renderCase() {
    const key = renderKey();
    if (key === state.renderedKey) return;
    state.renderedKey = key;

    const d = state.detail;
    const open = Boolean(state.caseId);
    $("welcome").hidden = open;
    $("messages").hidden = !open;
    $("case-head").hidden = !open;
    $("details").hidden = !open;
    document.body.classList.toggle("has-case", open);
    if (!open) {
      clear($("messages"));
      state.renderedCaseId = null;
      return;
    }

    const scroller = $("thread-scroll");
    const switched = state.renderedCaseId !== state.caseId;
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
    const focus = captureFocus();

    // Each section renders on its own, so a bug in one cannot hide the others (or the approve buttons).
    section(() => renderHead(d));
    section(() => renderMessages(d));
    section(() => renderFinding(d && d.finding));
    section(() => renderPlan(d && d.plan, d));
    section(() => renderOwner(d));
    section(() => renderPostmortem(d));
    section(() => renderTimeline(d ? d.timeline : []));

    restoreFocus(focus);
    if (switched || nearBottom) scroller.scrollTop = scroller.scrollHeight;
    state.renderedCaseId = state.caseId;
  }

  function section(render) {
    try {
      render();
    } catch (err) {
      console.error("ActionDesk console: rendering failed", err);
      showBanner(`Part of this case could not be displayed: ${err && err.message}`);
    }
  }

  function captureFocus() {
    const active = document.activeElement;
    if (!active || !active.dataset || !active.dataset.focusKey) return null;
    return {
      key: active.dataset.focusKey,
      start: active.selectionStart,
      end: active.selectionEnd,
    };
  }

  function restoreFocus(focus) {
    if (!focus) return;
    const node = document.querySelector(`[data-focus-key="${CSS.escape(focus.key)}"]`);
    if (!node) return;
    node.focus();
    if (typeof focus.start === "number" && node.setSelectionRange) node.setSelectionRange(focus.start, focus.end);
  }

  function renderHead(d) {
    const title = $("case-title");
    const meta = $("case-meta");
    const status = $("case-status");
    clear(meta);
    if (!d) {
      title.textContent = state.caseId;
      status.textContent = "loading";
      status.className = "badge";
      status.dataset.status = "";
      return;
    }
    title.textContent = d.title;
    status.textContent = label(d.status);
    status.className = `badge badge-lg badge-${d.status}`;
    status.dataset.status = d.status;
    append(meta, [
      el("span", { class: "mono", text: d.id }),
      el("span", { text: d.kind }),
      d.service ? el("span", { text: d.service }) : null,
      el("span", { text: `reported by ${d.reporter}` }),
      el("span", { text: `opened ${fmtTime(d.created_at)}`, title: fmtFull(d.created_at) }),
      d.resolved_at ? el("span", { text: `resolved ${fmtTime(d.resolved_at)}`, title: fmtFull(d.resolved_at) }) : null,
    ]);
  }

  // ---------------------------------------------------------------- conversation

  function isPerson(actor) {
    return Boolean(personByName(actor));
  }

  function renderMessages(d) {
    const list = $("messages");
    clear(list);
    if (!d) {
      list.appendChild(el("li", { class: "thread-loading", text: "Loading the case…" }));
      return;
    }
    const approvals = new Map((d.approvals || []).map((a) => [a.id, a]));
    const questions = new Map((d.questions || []).map((q) => [q.seq, q]));
    const placed = new Set();
    for (const entry of d.timeline || []) {
      if (entry.kind !== "message") continue;
      const payload = entry.payload || {};
      list.appendChild(messageBubble(entry, payload));
      const question = questions.get(entry.seq);
      if (question) list.appendChild(el("li", { class: "msg-attachment" }, choicesBox(question)));
      const approvalId = typeof payload.approval_id === "string" ? payload.approval_id : null;
      if (approvalId && approvals.has(approvalId) && !placed.has(approvalId)) {
        placed.add(approvalId);
        list.appendChild(el("li", { class: "msg-attachment" }, approvalCard(approvals.get(approvalId))));
      }
    }
    for (const a of d.approvals || []) {
      if (!placed.has(a.id)) list.appendChild(el("li", { class: "msg-attachment" }, approvalCard(a)));
    }
    if (d.status === "awaiting_reply" || d.status === "watching") {
      list.appendChild(waitingNote(d));
    } else if (!d.status || !["resolved", "escalated", "failed", "awaiting_approval"].includes(d.status)) {
      list.appendChild(
        el(
          "li",
          { class: "msg msg-agent msg-working", testid: "working" },
          el("div", { class: "avatar avatar-agent", text: "AD", attrs: { "aria-hidden": "true" } }),
          el(
            "div",
            { class: "bubble bubble-typing" },
            el("span", { class: "dots", attrs: { "aria-hidden": "true" } }, el("i"), el("i"), el("i")),
            el("span", { class: "working-text", text: `ActionDesk is ${label(d.status)}…` }),
          ),
        ),
      );
    }
  }

  function messageBubble(entry, payload) {
    const person = isPerson(entry.actor);
    const mine = person && entry.actor === state.user;
    const role = person ? "person" : "agent";
    return el(
      "li",
      {
        class: `msg msg-${role}${mine ? " msg-mine" : ""}`,
        testid: "message",
        data: { actor: entry.actor, role, seq: entry.seq },
      },
      el("div", {
        class: `avatar avatar-${role}`,
        text: person ? initials(entry.actor) : "AD",
        attrs: { "aria-hidden": "true" },
      }),
      el(
        "div",
        { class: "bubble" },
        el(
          "div",
          { class: "bubble-head" },
          el("span", { class: "bubble-author", text: person ? entry.actor : "ActionDesk" }),
          el("time", { class: "bubble-time", text: fmtTime(entry.at), title: fmtFull(entry.at) }),
        ),
        el("div", { class: "bubble-text", testid: "message-text", text: payload.text || "" }),
      ),
    );
  }

  /** A case that waits for a moment: the answer to a question, or the next reading of an early report. */
  function waitingNote(d) {
    const until = d.status === "watching" ? d.watch_until : d.wake_at;
    const when = until ? ` until ${fmtTime(until, true)}` : "";
    const text =
      d.status === "watching"
        ? `ActionDesk is watching the signals${when}…`
        : `Waiting for an answer${when}; after that a person takes the case.`;
    return el(
      "li",
      { class: "msg msg-agent msg-working msg-waiting", testid: "waiting", data: { status: d.status } },
      el("div", { class: "avatar avatar-agent", text: "AD", attrs: { "aria-hidden": "true" } }),
      el("div", { class: "bubble bubble-typing" }, el("span", { class: "working-text", text, title: fmtFull(until) })),
    );
  }

  // ---------------------------------------------------------------- questions

  /** The choices under a question: buttons while it is open, how it ended once it is not. */
  function choicesBox(q) {
    const key = `q-${q.seq}`;
    const busy = Boolean(state.ui.busy[key]);
    const error = state.ui.errors[key];
    const box = el("div", {
      class: `choices${q.open ? " choices-open" : ""}`,
      testid: "question",
      data: { seq: q.seq, open: q.open },
    });
    if (q.open) {
      append(box, [
        el(
          "div",
          { class: "btn-row" },
          q.choices.map((choice) =>
            el("button", {
              class: "btn btn-choice",
              text: choice,
              testid: "choice-button",
              data: { choice },
              attrs: { type: "button", disabled: busy },
              on: { click: () => choose(q.seq, choice) },
            }),
          ),
        ),
        el("div", { class: "choices-hint muted", text: `as ${state.user || "nobody"} · or type another answer below` }),
      ]);
    } else {
      box.appendChild(el("div", { class: "choices-outcome muted", testid: "question-outcome", text: q.outcome }));
    }
    if (error) box.appendChild(el("div", { class: "inline-error", testid: "error", attrs: { role: "alert" }, text: error }));
    return box;
  }

  async function choose(seq, choice) {
    const key = `q-${seq}`;
    if (!state.user) {
      state.ui.errors[key] = "Sign in first.";
      renderCase();
      return;
    }
    state.ui.busy[key] = true;
    delete state.ui.errors[key];
    renderCase();
    try {
      await api("POST", `/api/cases/${encodeURIComponent(state.caseId)}/answers`, { choice, question: seq });
    } catch (err) {
      // 409: the question was answered, timed out or replaced meanwhile (nothing changed on the server)
      state.ui.errors[key] = err instanceof ApiError && err.status === 409 ? `Not taken: ${err.message}` : describeError(err);
    } finally {
      delete state.ui.busy[key];
    }
    renderCase();
    refreshCase();
    refreshList();
  }

  // ---------------------------------------------------------------- approvals

  function approvalCard(a) {
    const pending = a.status === "pending";
    const busy = Boolean(state.ui.busy[a.id]);
    const rejecting = Object.prototype.hasOwnProperty.call(state.ui.rejecting, a.id);
    const error = state.ui.errors[a.id];
    const me = personByName(state.user);
    const inGroup = me && (me.groups || []).includes(a.group);

    const rows = [
      row("Action", el("code", { class: "mono", testid: "approval-action", text: a.action })),
      row("Target", el("span", { class: "mono", testid: "approval-target", text: a.target })),
      row("Params", paramsList(a.params)),
      row("Approvers", el("span", { testid: "approval-group" }, "group ", el("strong", { text: a.group }))),
      row("Requested by", el("span", { text: a.requested_by })),
      row(
        "Policy",
        el(
          "div",
          { class: "policy" },
          el(
            "ul",
            { class: "reasons", testid: "approval-reasons" },
            (a.reasons || []).map((r) => el("li", { text: r })),
          ),
          (a.policy_ids || []).length
            ? el(
                "div",
                { class: "policy-ids" },
                a.policy_ids.map((p) => el("code", { class: "pill mono", text: p })),
              )
            : null,
        ),
      ),
      row(
        "Expires",
        el(
          "span",
          { testid: "approval-expires", title: a.expires_at },
          fmtFull(a.expires_at),
          pending ? el("span", { class: "muted", text: ` (${fmtRelative(a.expires_at)})` }) : null,
        ),
      ),
    ];

    let footer;
    if (pending) {
      footer = el(
        "div",
        { class: "approval-actions" },
        rejecting
          ? rejectForm(a, busy)
          : el(
              "div",
              { class: "btn-row" },
              el("button", {
                class: "btn btn-approve",
                text: busy ? "Approving…" : "Approve",
                testid: "approve-button",
                attrs: { type: "button", disabled: busy },
                on: { click: () => decide(a.id, "approve") },
              }),
              el("button", {
                class: "btn btn-reject",
                text: "Reject",
                testid: "reject-button",
                attrs: { type: "button", disabled: busy },
                on: { click: () => openReject(a.id) },
              }),
              el("span", {
                class: `acting-as${inGroup ? "" : " acting-as-warn"}`,
                text: inGroup
                  ? `as ${state.user}`
                  : `as ${state.user || "nobody"}, who is not in ${a.group}`,
              }),
            ),
      );
    } else {
      footer = el(
        "div",
        { class: `approval-decided decided-${a.status}`, testid: "approval-decided" },
        decidedText(a),
      );
    }

    return el(
      "div",
      {
        class: `card approval-card approval-${a.status}`,
        testid: "approval-card",
        data: { approvalId: a.id, status: a.status },
      },
      el(
        "div",
        { class: "card-head" },
        el("h3", { text: pending ? "Approval required" : "Approval" }),
        badge(a.status, "approval-status"),
      ),
      pending
        ? el("dl", { class: "kv" }, rows)
        : el(
            "details",
            { class: "approval-more" },
            el(
              "summary",
              {},
              el("code", { class: "mono", text: a.action }),
              " on ",
              el("span", { class: "mono", text: a.target }),
              el("span", { class: "muted", text: ` · group ${a.group} · requested by ${a.requested_by}` }),
            ),
            el("dl", { class: "kv" }, rows),
          ),
      error ? el("div", { class: "inline-error", testid: "error", attrs: { role: "alert" }, text: error }) : null,
      footer,
    );
  }

  function decidedText(a) {
    if (a.status === "expired") return `Expired ${fmtFull(a.decided_at || a.expires_at)} — it will not run.`;
    const verb = a.status === "approved" ? "Approved" : "Rejected";
    const when = a.decided_at ? ` at ${fmtFull(a.decided_at)}` : "";
    return [
      `${verb} by `,
      el("strong", { testid: "decided-by", text: a.decided_by || "unknown" }),
      when,
      a.reason ? el("span", { class: "decided-reason", text: ` — “${a.reason}”` }) : null,
    ];
  }

  function rejectForm(a, busy) {
    const draft = state.ui.rejecting[a.id] || "";
    const input = el("input", {
      class: "input",
      testid: "reject-reason",
      attrs: {
        type: "text",
        maxlength: 500,
        placeholder: "Why reject? (recorded in the audit trail)",
        "aria-label": "Reason for rejecting",
        "data-focus-key": `reject-${a.id}`,
        required: true,
      },
      on: {
        input: (ev) => {
          state.ui.rejecting[a.id] = ev.target.value;
          confirm.disabled = busy || !ev.target.value.trim();
        },
        keydown: (ev) => {
          if (ev.key === "Escape") closeReject(a.id);
        },
      },
    });
    input.value = draft;
    const confirm = el("button", {
      class: "btn btn-reject-solid",
      text: busy ? "Rejecting…" : "Reject",
      testid: "reject-confirm",
      attrs: { type: "submit", disabled: busy || !draft.trim() },
    });
    return el(
      "form",
      {
        class: "reject-form",
        testid: "reject-form",
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const reason = (state.ui.rejecting[a.id] || "").trim();
            if (reason) decide(a.id, "reject", reason);
          },
        },
      },
      input,
      el(
        "div",
        { class: "btn-row" },
        confirm,
        el("button", {
          class: "btn btn-ghost",
          text: "Cancel",
          testid: "reject-cancel",
          attrs: { type: "button", disabled: busy },
          on: { click: () => closeReject(a.id) },
        }),
      ),
    );
  }

  function openReject(id) {
    state.ui.rejecting[id] = state.ui.rejecting[id] || "";
    delete state.ui.errors[id];
    renderCase();
    const input = document.querySelector(`[data-focus-key="reject-${CSS.escape(id)}"]`);
    if (input) input.focus();
  }

  function closeReject(id) {
    delete state.ui.rejecting[id];
    renderCase();
  }

  async function decide(id, decision, reason) {
    if (!state.user) {
      state.ui.errors[id] = "Pick who you are first.";
      renderCase();
      return;
    }
    state.ui.busy[id] = true;
    delete state.ui.errors[id];
    renderCase();
    const body = { decision };
    if (reason) body.reason = reason;
    try {
      await api("POST", `/api/approvals/${encodeURIComponent(id)}`, body);
      delete state.ui.rejecting[id];
    } catch (err) {
      state.ui.errors[id] = describeError(err);
    } finally {
      delete state.ui.busy[id];
    }
    renderCase();
    refreshCase();
    refreshList();
  }

  function row(name, value) {
    return [el("dt", { text: name }), el("dd", {}, value)];
  }

  function paramsList(params) {
    const entries = Object.entries(params || {});
    if (!entries.length) return el("span", { class: "muted", text: "none" });
    return el(
      "ul",
      { class: "params", testid: "approval-params" },
      entries.map(([k, v]) =>
        el(
          "li",
          {},
          el("span", { class: "param-key mono", text: k }),
          el("span", { class: "param-val mono", text: typeof v === "string" ? v : JSON.stringify(v) }),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- finding

  const FINDING_KINDS = {
    bad_deploy: "bad deploy",
    unexplained_anomaly: "unexplained anomaly",
    no_anomaly: "no anomaly",
    no_evidence: "signals unreadable",
    unknown_service: "unknown service",
    request: "request",
  };

  function renderFinding(f) {
    const body = $("finding-body");
    const kind = $("finding-kind");
    clear(body);
    const card = $("finding-card");
    if (!f) {
      kind.textContent = "";
      card.removeAttribute("data-kind");
      body.appendChild(el("p", { class: "muted placeholder", text: "Triage has not reported yet." }));
      return;
    }
    card.dataset.kind = f.kind;
    kind.textContent = f.abstained ? "can't tell yet" : FINDING_KINDS[f.kind] || f.kind;
    kind.className = `card-tag${f.abstained ? " tag-warn" : ""}`;
    const conf = Math.max(0, Math.min(1, Number(f.confidence) || 0));
    const parts = [el("p", { class: "finding-summary", text: f.summary })];
    if (!f.abstained) {
      parts.push(
        el(
          "div",
          { class: "confidence", testid: "finding-confidence" },
          el("span", { class: "kv-label", text: "Confidence" }),
          el(
            "div",
            { class: "meter", attrs: { role: "meter", "aria-valuenow": Math.round(conf * 100), "aria-valuemin": 0, "aria-valuemax": 100 } },
            meterFill(conf),
          ),
          el("strong", { text: `${Math.round(conf * 100)}%` }),
        ),
      );
    }
    if (f.culprit) {
      const c = f.culprit;
      const deploy = c.kind === "deploy" || c.kind === "rollback" || !c.kind;
      const what = deploy
        ? [
            el("code", { class: "pill pill-strong mono", testid: "culprit-version", text: c.version }),
            el("span", { class: "muted", text: "commit" }),
            el("code", { class: "pill mono", testid: "culprit-commit", text: c.commit }),
          ]
        : c.kind === "scale"
          ? [
              el("span", { class: "muted", text: "scaled to" }),
              el("code", { class: "pill pill-strong mono", testid: "culprit-replicas", text: `${c.replicas} replicas` }),
            ]
          : [
              el("span", { class: "muted", text: c.kind === "flag" ? "feature flag" : "config" }),
              el("code", { class: "pill pill-strong mono", testid: "culprit-key", text: `${c.key}=${c.value}` }),
            ];
      const before = deploy
        ? c.previous_version
          ? ` · previously ${c.previous_version}${c.previous_commit ? ` (${c.previous_commit})` : ""}`
          : ""
        : c.kind === "scale"
          ? ` · previously ${c.previous_replicas} replicas`
          : ` · previously ${c.previous_value ?? "unset"}`;
      const verb = { deploy: "deployed", rollback: "rolled back", scale: "scaled" }[c.kind || "deploy"] || "changed";
      parts.push(
        el(
          "div",
          { class: "culprit", testid: "culprit", data: { kind: c.kind || "deploy" } },
          el("div", { class: "culprit-title", text: "Suspected change" }),
          el("div", { class: "culprit-main" }, el("span", { text: c.service }), ...what),
          el("div", { class: "culprit-sub muted" }, `${verb} ${fmtFull(c.at || c.deployed_at)}`, before),
        ),
      );
    }
    if ((f.chain || []).length > 1) {
      parts.push(
        el(
          "div",
          { class: "chain muted", testid: "chain" },
          f.chain.map((link) => `${link.service} (${signalName(link.signal)} from ${fmtTime(link.onset, true)})`).join(" ← "),
        ),
      );
    }
    if (f.onset || typeof f.baseline === "number" || typeof f.peak === "number") {
      parts.push(
        el(
          "div",
          { class: "stats" },
          stat("Onset", f.onset ? fmtTime(f.onset, true) : "—"),
          stat("Baseline", signalValue(f.signal, f.baseline)),
          stat("Peak", signalValue(f.signal, f.peak)),
        ),
      );
    }
    if ((f.evidence || []).length) {
      parts.push(
        el(
          "div",
          { class: "evidence" },
          el("div", { class: "section-label", text: "Evidence" }),
          el(
            "ul",
            { class: "evidence-list", testid: "evidence" },
            f.evidence.map((e) =>
              el(
                "li",
                { testid: "evidence-item" },
                el("code", { class: "pill mono", text: e.source }),
                el("span", { text: e.summary }),
              ),
            ),
          ),
        ),
      );
    }
    body.appendChild(el("div", { testid: "finding", data: { kind: f.kind, abstained: f.abstained } }, parts));
  }

  function meterFill(fraction) {
    const fill = el("div", { class: "meter-fill" });
    fill.style.width = `${(fraction * 100).toFixed(0)}%`;
    return fill;
  }

  function stat(name, value) {
    return el("div", { class: "stat" }, el("span", { class: "kv-label", text: name }), el("strong", { text: value }));
  }

  // ---------------------------------------------------------------- plan

  function renderPlan(plan, detail) {
    const body = $("plan-body");
    const runbook = $("plan-runbook");
    clear(body);
    if (!plan) {
      runbook.textContent = "";
      body.appendChild(el("p", { class: "muted placeholder", text: "No plan yet." }));
      return;
    }
    runbook.textContent = plan.runbook;
    body.appendChild(el("p", { class: "plan-goal", testid: "plan-goal", text: plan.goal }));
    body.appendChild(
      el(
        "ol",
        { class: "steps", testid: "plan" },
        (plan.steps || []).map((s) => {
          const decision = s.decision;
          return el(
            "li",
            { class: `step step-${s.status}`, testid: "plan-step", data: { status: s.status, index: s.index } },
            el("div", { class: "step-num", text: String(s.index + 1) }),
            el(
              "div",
              { class: "step-body" },
              el(
                "div",
                { class: "step-top" },
                el("code", { class: "step-action mono", text: s.call.action }),
                badge(s.status, "plan-step-status"),
              ),
              Object.keys(s.call.params || {}).length
                ? el("div", { class: "step-params mono", text: paramsText(s.call.params) })
                : null,
              el("div", { class: "step-rationale", text: s.rationale }),
              decision
                ? el(
                    "div",
                    { class: "step-decision" },
                    el("span", { class: `outcome outcome-${decision.outcome}`, text: decision.outcome }),
                    decision.approver_group ? ` by ${decision.approver_group}` : "",
                    (decision.policy_ids || []).length ? ` · ${decision.policy_ids.join(", ")}` : "",
                  )
                : null,
              s.error ? el("div", { class: "step-error", text: s.error }) : null,
              s.result && s.result.confirmation
                ? el("div", { class: "step-confirmation", testid: "plan-step-confirmation", text: `${s.agent || "step"} confirmed: ${s.result.confirmation}` })
                : null,
              s.result && typeof s.result === "object"
                ? el(
                    "div",
                    { class: "step-result" },
                    el("span", { class: "kv-label", text: "Result " }),
                    el("span", { class: "mono", text: shortJson(paramsText(s.result), 240) }),
                  )
                : null,
            ),
          );
        }),
      ),
    );
    const offer = stoppedRequestActions(detail);
    if (offer) body.appendChild(offer);
  }

  // ---------------------------------------------------------------- who has it, post-mortem

  function renderOwner(d) {
    const card = $("owner-card");
    const body = $("owner-body");
    clear(body);
    const o = d && d.owner;
    card.hidden = !o;
    if (!o) return;
    $("owner-team").textContent = `${o.team} on-call`;
    const people = (o.people || []).join(", ") || `nobody in ${o.group}`;
    const paged = (o.paged || []).length ? `paged through ${o.paged.join(", ")}` : "not paged";
    append(body, [
      el("p", { testid: "owner-people", text: `Handed to ${o.team} on-call: ${people} (${o.group}), ${paged}.` }),
      el("p", { class: "muted", text: `Why: ${o.reason || "-"} · ${fmtTime(o.handed_off_at, true)}` }),
    ]);
    if (o.picked_up_by) {
      body.appendChild(
        el("p", {
          testid: "owner-picked-up",
          text: `${o.picked_up_by} has it since ${fmtTime(o.picked_up_at, true)}.`,
          title: fmtFull(o.picked_up_at),
        }),
      );
      return;
    }
    const busy = Boolean(state.ui.busy.take);
    body.appendChild(
      el("button", {
        class: "btn btn-primary btn-sm",
        testid: "take-it",
        text: busy ? "Taking…" : `Take it as ${state.user}`,
        attrs: { type: "button", disabled: busy || !state.user },
        on: { click: () => takeCase(d.id) },
      }),
    );
  }

  async function takeCase(caseId) {
    state.ui.busy.take = true;
    renderCase();
    try {
      await api("POST", `/api/cases/${encodeURIComponent(caseId)}/take`, {});
      await refreshCase();
    } catch (err) {
      showBanner(`Could not take the case: ${describeError(err)}`);
    } finally {
      delete state.ui.busy.take;
      renderCase();
    }
  }

  function renderPostmortem(d) {
    const card = $("postmortem-card");
    const pm = d && d.postmortem;
    card.hidden = !pm;
    if (!pm) return;
    $("postmortem").textContent = pm.markdown;
    $("postmortem-download").setAttribute("href", `/api/cases/${encodeURIComponent(d.id)}/postmortem?format=md`);
  }

  // ---------------------------------------------------------------- timeline

  function summarize(entry) {
    const p = entry.payload || {};
    switch (entry.kind) {
      case "case_opened":
        return `${p.kind || "case"} opened from ${p.surface || "?"}: ${p.title || ""}`;
      case "message":
        return shortJson(p.text || "", 160);
      case "finding":
        return p.summary || shortJson(p);
      case "plan":
        return `${p.runbook || "plan"}: ${p.goal || ""} (${(p.steps || []).length} step${(p.steps || []).length === 1 ? "" : "s"})`;
      case "decision":
        return `${p.action || "?"} → ${p.outcome || "?"}${p.recheck ? " (re-check)" : ""}${(p.policy_ids || []).length ? ` [${p.policy_ids.join(", ")}]` : ""}`;
      case "approval_requested":
        return `${(p.call && p.call.action) || "?"} on ${p.target || "?"} → group ${p.group || "?"}`;
      case "approval":
        return `${p.status || "?"}${p.by ? ` by ${p.by}` : ""}${p.reason ? `: ${p.reason}` : ""}`;
      case "action_started":
        return `${p.action || "?"} on ${p.target || "?"}`;
      case "action_result":
        return `${p.action || "?"} ${p.status || "?"}${p.error ? `: ${p.error}` : ""}`;
      case "observation":
        return `${p.action || "?"}: ${p.summary || ""}`;
      case "verification":
        if (p.signal && p.signal !== "actions") {
          const checks = Array.isArray(p.checks) ? p.checks : [p];
          return `${p.ok ? "ok" : "not yet"}: ${checks
            .map((c) => `${c.service} ${signalName(c.signal)} ${signalValue(c.signal, c.current)} (baseline ${signalValue(c.signal, c.baseline)})`)
            .join("; ")}`;
        }
        return p.ok ? "ok" : "failed";
      case "case_resolved":
        return p.runbook ? `resolved by ${p.runbook}` : "resolved";
      case "case_escalated":
      case "case_failed":
        return p.reason || "";
      case "handed_off":
        return `to ${p.team || "?"} on-call (${p.group || "?"}: ${(p.people || []).join(", ") || "nobody"})${(p.paged || []).length ? `, paged through ${p.paged.join(", ")}` : ""}`;
      case "page":
        return `${p.action || "?"} (${(p.systems || []).join(", ")})`;
      case "picked_up":
        return `by ${p.by || "?"} (${p.how || "?"}) after ${Math.round(Number(p.after_seconds) || 0)} s`;
      case "acted_alone":
        return `${p.action || "?"} ran alone at level ${p.level}: ${p.status || "?"} (announced to ${p.team || "?"})`;
      case "postmortem":
        return p.summary || "post-mortem written";
      case "postmortem_summary":
        return `the model's summary (${p.model || "?"}): ${shortJson(p.text || "", 120)}`;
      default:
        return shortJson(p);
    }
  }

  function renderTimeline(entries) {
    const list = $("timeline-list");
    clear(list);
    $("timeline-count").textContent = `${entries.length} entr${entries.length === 1 ? "y" : "ies"}`;
    for (const e of entries) {
      list.appendChild(
        el(
          "li",
          { class: `tl tl-${e.kind}`, testid: "timeline-entry", data: { kind: e.kind, seq: e.seq } },
          el(
            "div",
            { class: "tl-top" },
            el("span", { class: "tl-seq mono", text: `#${e.seq}` }),
            el("time", { class: "tl-time mono", text: fmtTime(e.at, true), title: fmtFull(e.at) }),
            el("span", { class: "tl-kind", text: e.kind }),
            el("span", { class: "tl-actor", text: e.actor }),
            el("span", { class: "tl-hash mono", title: `sha256 ${e.hash}`, text: String(e.hash || "").slice(0, 10) }),
          ),
          el("div", { class: "tl-summary", text: summarize(e) }),
        ),
      );
    }
  }

  // ---------------------------------------------------------------- composer

  function renderComposer() {
    const input = $("chat-input");
    const hint = $("composer-hint");
    const send = $("chat-send");
    const asking = state.detail && state.detail.id === state.caseId && state.detail.status === "awaiting_reply";
    if (asking) {
      input.placeholder = `Answer the question, or say more, in case ${state.caseId}`;
      send.textContent = state.sending ? "Sending…" : "Reply";
    } else if (state.caseId) {
      input.placeholder = `Reply in case ${state.caseId}`;
      send.textContent = state.sending ? "Sending…" : "Reply";
    } else {
      input.placeholder = "Describe a problem or a request: it opens a new case";
      send.textContent = state.sending ? "Sending…" : "Open case";
    }
    send.disabled = state.sending;
    clear(hint);
    append(hint, [
      "Sending as ",
      el("strong", { text: state.user || "nobody" }),
      state.caseId ? ` · replies go to ${state.caseId}` : " · opens a new case",
      " · Enter to send, Shift+Enter for a new line",
    ]);
  }

  function setComposerError(message) {
    const box = $("error", $("composer"));
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function sendMessage() {
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text || state.sending) return;
    if (!state.user) {
      setComposerError("Pick who you are first.");
      return;
    }
    state.sending = true;
    setComposerError(null);
    renderComposer();
    try {
      if (state.caseId) {
        await api("POST", `/api/cases/${encodeURIComponent(state.caseId)}/messages`, { text });
        input.value = "";
        refreshCase();
      } else {
        const created = await api("POST", "/api/cases", { text });
        input.value = "";
        state.cases = [created, ...state.cases.filter((c) => c.id !== created.id)];
        selectCase(created.id);
      }
      refreshList();
    } catch (err) {
      setComposerError(describeError(err));
    } finally {
      state.sending = false;
      renderComposer();
      input.focus();
    }
  }

  // ---------------------------------------------------------------- request fulfilment: the form and what a stopped request offers

  async function loadRoles() {
    const select = document.querySelector('[data-testid="onboard-role"]');
    try {
      const roles = await api("GET", "/api/roles");
      clear(select);
      select.appendChild(el("option", { text: "Pick a role", attrs: { value: "" } }));
      for (const r of roles || []) select.appendChild(el("option", { text: r.title || r.name, attrs: { value: r.name } }));
    } catch (err) {
      showBanner(describeError(err));
    }
  }

  async function submitOnboarding(form) {
    for (const small of form.querySelectorAll("[data-error]")) small.textContent = "";
    if (!state.user) {
      form.querySelector('[data-error="name"]').textContent = "Pick who you are first.";
      return;
    }
    const body = {};
    for (const name of ["name", "role", "start", "manager", "username", "email"]) body[name] = form.elements[name].value.trim();
    if (switching) await switching;
    const response = await fetch("/api/requests/onboarding", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const fields = (data && data.fields) || {};
      for (const [field, message] of Object.entries(fields)) {
        const slot = form.querySelector(`[data-error="${field}"]`) || form.querySelector('[data-error="name"]');
        slot.textContent = message;
      }
      if (!Object.keys(fields).length) form.querySelector('[data-error="name"]').textContent = data.error || response.statusText;
      return;
    }
    form.reset();
    state.cases = [data, ...state.cases.filter((c) => c.id !== data.id)];
    selectCase(data.id);
    refreshList();
  }

  async function requestAction(verb) {
    if (!state.caseId || !state.user) return;
    try {
      const created = await api("POST", `/api/cases/${encodeURIComponent(state.caseId)}/${verb}`, {});
      if (verb === "compensate") selectCase(created.id);
      else refreshCase();
      refreshList();
    } catch (err) {
      showBanner(describeError(err));
    }
  }

  function stoppedRequestActions(detail) {
    const steps = (detail && detail.plan && detail.plan.steps) || [];
    if (!detail || detail.status !== "failed" || !steps.some((s) => s.agent)) return null;
    return el(
      "div",
      { class: "request-actions", testid: "request-actions" },
      el("button", { class: "btn btn-sm", testid: "compensate", text: "Compensate", attrs: { type: "button" }, on: { click: () => requestAction("compensate") } }),
      el("button", { class: "btn btn-sm", testid: "handoff", text: "Hand off", attrs: { type: "button" }, on: { click: () => requestAction("handoff") } }),
    );
  }

  // ---------------------------------------------------------------- live updates

  let source = null;
  let reconnectMs = RECONNECT_MIN_MS;
  let reconnectTimer = null;
  let listTimer = null;

  function setLive(mode) {
    const live = $("live");
    live.dataset.state = mode;
    live.querySelector(".live-label").textContent =
      mode === "live" ? "Live" : mode === "polling" ? "Polling" : "Connecting…";
    live.title =
      mode === "live"
        ? "Receiving live updates from the server"
        : "Live stream unavailable: refreshing every 2 seconds";
  }

  function connect() {
    reconnectTimer = null;
    if (typeof EventSource === "undefined") {
      setLive("polling");
      return;
    }
    if (source) source.close();
    source = new EventSource("/api/changes");
    source.onopen = () => {
      reconnectMs = RECONNECT_MIN_MS;
      setLive("live");
      refreshList();
      refreshCase();
    };
    source.onmessage = (ev) => {
      const id = String(ev.data || "").trim();
      if (id && id === state.caseId) refreshCase();
      scheduleListRefresh();
    };
    source.onerror = () => {
      setLive("polling");
      if (source && source.readyState === EventSource.CLOSED) {
        source.close();
        source = null;
        if (!reconnectTimer) {
          reconnectTimer = setTimeout(connect, reconnectMs);
          reconnectMs = Math.min(reconnectMs * 2, RECONNECT_MAX_MS);
        }
      }
    };
  }

  function scheduleListRefresh() {
    if (listTimer) return;
    listTimer = setTimeout(() => {
      listTimer = null;
      refreshList();
    }, 150);
  }

  function poll() {
    refreshList();
    refreshCase();
    if (!source || source.readyState === EventSource.CLOSED) {
      if (!reconnectTimer && typeof EventSource !== "undefined") connect();
    }
  }

  // ---------------------------------------------------------------- wiring

  async function switchTo(wanted) {
    try {
      const me = await window.ActionDeskSession.demoAs(wanted);
      state.user = me ? me.person : null;
    } catch (err) {
      showBanner(`Could not switch to ${wanted}: ${describeError(err)}`);
    }
    state.ui.errors = {};
    setComposerError(null);
    renderPeople();
    renderComposer();
    renderCase();
  }

  function wire() {
    $("user-select").addEventListener("change", (ev) => {
      const done = switchTo(ev.target.value);
      switching = done;
      done.finally(() => {
        if (switching === done) switching = null;
      });
    });
    $("sign-out").addEventListener("click", () => window.ActionDeskSession.signOut());
    $("new-case").addEventListener("click", () => selectCase(null));
    document.querySelector('[data-testid="onboard-form"]').addEventListener("submit", (ev) => {
      ev.preventDefault();
      submitOnboarding(ev.target).catch((err) => showBanner(describeError(err)));
    });
    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      sendMessage();
    });
    $("chat-input").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        sendMessage();
      }
    });
    for (const chip of document.querySelectorAll("[data-example]")) {
      chip.addEventListener("click", () => {
        const input = $("chat-input");
        input.value = chip.dataset.example;
        input.focus();
      });
    }
    document.querySelector(".banner-close").addEventListener("click", hideBanner);
    window.addEventListener("hashchange", () => {
      const id = caseFromHash();
      if (id !== state.caseId) selectCase(id);
    });
  }

  async function start() {
    wire();
    setLive("connecting");
    await loadIdentity();
    await loadRoles();
    const initial = caseFromHash();
    selectCase(initial);
    await refreshList();
    connect();
    setInterval(poll, POLL_MS);
    // Relative times ("in 59 min") age; re-render pending approvals once a minute.
    setInterval(() => {
      state.renderedKey = "";
      renderCase();
    }, 60000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
