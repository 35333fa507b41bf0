/* Who is using the console: shared by the console and the dashboard.
 *
 * With an OpenID Connect issuer the server signs people in (/auth/login) and this only reads /api/me. In the
 * loopback demo nobody signs in: the page starts a demo session for the person picked in "You are" (the last
 * one picked, else the first person in group support) through POST /auth/demo, and says so in a banner.
 */
"use strict";

window.ActionDeskSession = (function () {
  let leaving = false; // once signing in or out, a poll that meets a 401 does not start another navigation

  async function json(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_e) {
      data = null;
    }
    return { status: response.status, ok: response.ok, data };
  }

  function remembered() {
    try {
      return window.localStorage.getItem("actiondesk.user");
    } catch (_e) {
      return null;
    }
  }

  function remember(name) {
    try {
      window.localStorage.setItem("actiondesk.user", name);
    } catch (_e) {
      /* private mode: the choice lasts for this page only */
    }
  }

  function signIn() {
    if (leaving) return;
    leaving = true;
    const next = window.location.pathname + window.location.search + window.location.hash;
    window.location.assign(`/auth/login?next=${encodeURIComponent(next)}`);
  }

  /** Start a demo session as `name`; resolves to /api/me's answer. */
  async function demoAs(name) {
    const started = await json("POST", "/auth/demo", { person: name });
    if (!started.ok) throw new Error((started.data && started.data.error) || `demo sign-in failed (${started.status})`);
    remember(name);
    const me = await json("GET", "/api/me");
    return me.data;
  }

  /** {mode, me, people}: makes sure there is a session (demo) or goes to sign-in (OIDC; never resolves). */
  async function ensure() {
    const config = (await json("GET", "/auth/config")).data || { mode: "oidc" };
    const people = config.people || [];
    const current = await json("GET", "/api/me");
    if (current.ok) return { mode: config.mode, me: current.data, people };
    if (config.mode !== "demo") {
      signIn();
      return new Promise(() => {});
    }
    const stored = remembered();
    const support = people.find((p) => (p.groups || []).includes("support"));
    const pick = stored && people.some((p) => p.name === stored) ? stored : support ? support.name : people.length ? people[0].name : null;
    if (!pick) return { mode: config.mode, me: null, people };
    return { mode: config.mode, me: await demoAs(pick), people };
  }

  async function signOut() {
    leaving = true; // the page's polls will meet 401s from here on: they must not sign in again
    await json("POST", "/auth/logout", {});
    window.location.assign("/auth/signed-out");
  }

  return { ensure, demoAs, signIn, signOut };
})();
