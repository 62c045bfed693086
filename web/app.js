/*
 * saigai-vc board client (plain JS, no build step).
 *
 * State machine
 *   boot ── GET /api/me ──► 200: APP        401: LOGIN
 *   LOGIN ── POST /api/login 200 ──► APP
 *   APP  ── GET /api/activations ──► pick one (URL hash > remembered choice > first open > first)
 *        ── socket per activation:
 *             CONNECTING ──open──► OPEN ──close/error──► CLOSED
 *             CLOSED ── GET /api/me 401 ──► LOGIN (the session is gone)
 *             CLOSED ── otherwise, after backoff ──► CONNECTING with since=lastSeq
 *                       (0.5 s doubling to 10 s, jittered; reset once a message applies)
 *        Changing activation or logging out drops the socket on purpose; a dropped
 *        socket's late events are ignored (every handler checks `app.ws === ws`).
 *
 * Why the reducer checks seq continuity
 *   The board is right only if it applied every event after its snapshot exactly once and
 *   in order. The server numbers events lastSeq+1, lastSeq+2, ... A gap or repeat means
 *   something was missed or doubled (lost frame, server restart, replay that does not line
 *   up); applying it anyway would show wrong counts with nobody noticing, on a wall screen
 *   least of all. So any discontinuity drops the socket and asks for a fresh snapshot
 *   (no since). The reducer is pure and table-driven: a new event type is one entry in
 *   EVENT_HANDLERS; unknown types only advance lastSeq.
 */
"use strict";

(function () {
  const I18N = {
    ja: {
      title: "災害ボランティアセンター 情報ボード", app_name: "災害VC 情報ボード",
      loading: "読み込み中…", lang_toggle: "English", lang_toggle_label: "Switch to English",
      login_title: "ログイン", username: "ユーザー名", password: "パスワード", login_submit: "ログイン",
      login_bad: "ユーザー名またはパスワードが違います",
      login_missing: "ユーザー名とパスワードを入力してください",
      login_failed: "ログインできませんでした", server_error: "サーバーでエラーが発生しました",
      server_unreachable: "サーバーに接続できません。ネットワークを確認してください",
      session_expired: "セッションが切れました。もう一度ログインしてください",
      logout: "ログアウト", activation_label: "活動",
      no_activations: "表示できる活動がありません（災害対応・訓練が宣言されていません）",
      kind_drill: "訓練", kind_real: "災害対応", status_closed: "終了",
      drill_banner: "訓練 DRILL — これは訓練です", real_banner: "災害対応",
      conn_connecting: "接続中…", conn_open: "接続済み（ライブ）", conn_closed: "切断 — 再接続します",
      last_update: "最終更新", counts_title: "件数", count_announcements: "お知らせ",
      count_unconfirmed: "安否未確認", count_needs_help: "要支援・救助要請", count_confirmed: "安否確認済",
      safety_title: "地区別 安否確認", col_district: "地区", col_total: "名簿", district_none: "（地区なし）",
      status_unconfirmed: "未確認", status_safe_at_home: "在宅・無事", status_evacuated: "避難済",
      status_needs_help: "要支援・救助要請", status_not_home: "不在", status_hospital: "入院中",
      status_unreachable: "連絡不能", status_deceased: "死亡",
      safety_empty: "名簿が取り込まれていません",
      announcements_title: "お知らせ", announcements_empty: "お知らせはまだありません",
      posted_by: "掲示", new_badge: "新着",
      announce_title: "お知らせを掲示", announce_submit: "お知らせを掲示",
      announce_placeholder: "お知らせの内容（2000文字以内）",
      announce_hint: "Ctrl+Enter（Mac は ⌘+Enter）で掲示",
      announce_empty: "お知らせの内容を入力してください",
      announce_too_long: "お知らせは2000文字以内で入力してください",
      announce_invalid: "お知らせの内容に誤りがあります",
      announce_forbidden: "お知らせを掲示する権限がありません",
      announce_closed: "この活動は終了しているため掲示できません",
      announce_failed: "掲示できませんでした",
      announce_network: "サーバーに接続できないため掲示できませんでした",
      role_admin: "システム管理者", role_coordinator: "災害VCスタッフ",
      role_shelter_operator: "福祉避難所運営者", role_board: "表示端末",
    },
    en: {
      title: "Disaster Volunteer Centre Board", app_name: "Disaster VC Board",
      loading: "Loading…", lang_toggle: "日本語", lang_toggle_label: "日本語に切り替え",
      login_title: "Sign in", username: "User name", password: "Password", login_submit: "Sign in",
      login_bad: "Wrong user name or password",
      login_missing: "Enter your user name and password",
      login_failed: "Could not sign in", server_error: "The server reported an error",
      server_unreachable: "Cannot reach the server. Check the network.",
      session_expired: "Your session has ended. Please sign in again.",
      logout: "Sign out", activation_label: "Activation",
      no_activations: "Nothing to show (no disaster response or drill has been declared)",
      kind_drill: "Drill", kind_real: "Disaster response", status_closed: "Closed",
      drill_banner: "訓練 DRILL — This is a drill", real_banner: "Disaster response (災害対応)",
      conn_connecting: "Connecting…", conn_open: "Connected (live)", conn_closed: "Disconnected — reconnecting",
      last_update: "Last update", counts_title: "Counts", count_announcements: "Announcements",
      count_unconfirmed: "Not yet confirmed", count_needs_help: "Needs help / rescue", count_confirmed: "Confirmed",
      safety_title: "Safety confirmation by district", col_district: "District", col_total: "Register", district_none: "(no district)",
      status_unconfirmed: "Unconfirmed", status_safe_at_home: "Safe at home", status_evacuated: "Evacuated",
      status_needs_help: "Needs help", status_not_home: "Not home", status_hospital: "In hospital",
      status_unreachable: "Unreachable", status_deceased: "Deceased",
      safety_empty: "No register has been imported",
      announcements_title: "Announcements", announcements_empty: "No announcements yet",
      posted_by: "Posted by", new_badge: "New",
      announce_title: "Post an announcement", announce_submit: "Post announcement",
      announce_placeholder: "Announcement text (up to 2000 characters)",
      announce_hint: "Ctrl+Enter (⌘+Enter on Mac) to post",
      announce_empty: "Enter the announcement text",
      announce_too_long: "Announcements are limited to 2000 characters",
      announce_invalid: "The announcement was rejected",
      announce_forbidden: "You are not allowed to post announcements",
      announce_closed: "This activation is closed; posting is disabled",
      announce_failed: "Could not post the announcement",
      announce_network: "Cannot reach the server; the announcement was not posted",
      role_admin: "Administrator", role_coordinator: "Volunteer centre staff",
      role_shelter_operator: "Welfare shelter operator", role_board: "Display terminal",
    },
  };

  const LS_LANG = "saigai-vc.lang";
  const LS_ACTIVATION = "saigai-vc.activation";
  const MAX_ANNOUNCEMENT_CHARS = 2000;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const HIGHLIGHT_MS = 10000;
  const REFRESH_MS = 60000;

  let lang = "ja";

  function t(key) {
    const table = I18N[lang] || I18N.ja;
    if (Object.prototype.hasOwnProperty.call(table, key)) return table[key];
    return Object.prototype.hasOwnProperty.call(I18N.ja, key) ? I18N.ja[key] : key;
  }

  /* ---------- pure logic (unit-testable in node) ---------- */

  function stateFromSnapshot(msg) {
    const d = msg.data || {};
    const announcements = Array.isArray(d.announcements) ? d.announcements.slice() : [];
    const counts = Object.assign({}, d.counts || {});
    if (typeof counts.announcements !== "number") counts.announcements = announcements.length;
    const safety = Array.isArray(d.safety) ? d.safety.slice() : [];
    return { activation: d.activation || null, announcements, counts, safety, lastSeq: msg.seq };
  }

  // Safety counts: one entry per district {district, total, by_status}; replaced whole by events.
  function withDistrict(safety, entry) {
    const rest = (safety || []).filter((d) => d.district !== entry.district);
    return rest.concat([entry]).sort((a, b) => (a.district < b.district ? -1 : a.district > b.district ? 1 : 0));
  }

  function safetyTotals(safety) {
    const totals = { total: 0, unconfirmed: 0, needs_help: 0 };
    for (const d of safety || []) {
      totals.total += d.total || 0;
      totals.unconfirmed += (d.by_status && d.by_status.unconfirmed) || 0;
      totals.needs_help += (d.by_status && d.by_status.needs_help) || 0;
    }
    return totals;
  }

  // One entry per event type: (state, data) -> new state. Never mutate `state`.
  const EVENT_HANDLERS = {
    announcement_posted(state, data) {
      if (!data) return state;
      return Object.assign({}, state, {
        announcements: [data].concat(state.announcements),
        counts: Object.assign({}, state.counts, { announcements: (state.counts.announcements || 0) + 1 }),
      });
    },
    safety_recorded(state, data) {
      if (!data || !data.counts) return state;
      return Object.assign({}, state, { safety: withDistrict(state.safety, data.counts) });
    },
    register_imported(state, data) {
      if (!data || !Array.isArray(data.safety)) return state;
      return Object.assign({}, state, { safety: data.safety.slice() });
    },
    activation_closed(state, data) {
      if (!data || (state.activation && data.id !== state.activation.id)) return state;
      return Object.assign({}, state, { activation: Object.assign({}, state.activation, data) });
    },
  };

  // reduce(state|null, msg) -> {ok:true, state} | {ok:false, reason}. ok:false means "resync".
  function reduce(state, msg) {
    if (!msg || typeof msg !== "object" || !Number.isInteger(msg.seq)) {
      return { ok: false, reason: "malformed message" };
    }
    if (msg.type === "snapshot") return { ok: true, state: stateFromSnapshot(msg) };
    if (!state) return { ok: false, reason: "event before snapshot" };
    if (msg.seq !== state.lastSeq + 1) {
      return { ok: false, reason: "seq gap: expected " + (state.lastSeq + 1) + ", got " + msg.seq };
    }
    const own = Object.prototype.hasOwnProperty.call(EVENT_HANDLERS, msg.type);
    const next = own ? EVENT_HANDLERS[msg.type](state, msg.data) : state;
    return { ok: true, state: Object.assign({}, next, { lastSeq: msg.seq }) };
  }

  // "Equal jitter": a random delay between half and all of min(10 s, 0.5 s * 2^attempt).
  function backoffDelay(attempt, rnd) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, Math.max(0, attempt)));
    return Math.round(base / 2 + (base / 2) * rnd);
  }

  function pad2(n) { return String(n).padStart(2, "0"); }

  // HH:MM when `iso` is on the same local day as `now`, otherwise M/D HH:MM (Y/M/D if another year).
  function formatTime(iso, now) {
    const d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    const hm = pad2(d.getHours()) + ":" + pad2(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return hm;
    const md = (d.getMonth() + 1) + "/" + d.getDate();
    return (d.getFullYear() === now.getFullYear() ? md : d.getFullYear() + "/" + md) + " " + hm;
  }

  function formatClock(d) {
    return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
  }

  function parseHashActivation(hash) {
    const m = /(?:^#|&)activation=(\d+)(?:&|$)/.exec(hash || "");
    return m ? Number(m[1]) : null;
  }

  function pickActivation(list, hashId, storedId) {
    const has = (id) => id !== null && list.some((a) => a.id === id);
    if (has(hashId)) return hashId;
    if (has(storedId)) return storedId;
    const open = list.find((a) => a.status === "open");
    if (open) return open.id;
    return list.length ? list[0].id : null;
  }

  function activationLabel(a) {
    const kind = t(a.kind === "drill" ? "kind_drill" : a.kind === "real" ? "kind_real" : "") || a.kind;
    let label = a.name + " [" + kind + "]";
    if (a.status === "closed") label += " (" + t("status_closed") + ")";
    return label;
  }

  // Returns an I18N key describing what is wrong with the text, or null.
  function validateAnnouncement(text) {
    if (text.trim() === "") return "announce_empty";
    if (Array.from(text).length > MAX_ANNOUNCEMENT_CHARS) return "announce_too_long";
    return null;
  }

  function canPost(role) { return role === "coordinator" || role === "admin"; }

  const pure = {
    I18N, EVENT_HANDLERS, reduce, stateFromSnapshot, safetyTotals, withDistrict, backoffDelay, formatTime, parseHashActivation,
    pickActivation, activationLabel, validateAnnouncement, canPost,
    setLang(l) { lang = l; }, t,
  };
  if (typeof module === "object" && module && module.exports) module.exports = pure;
  if (typeof document === "undefined") return;

  /* ---------- browser: app state ---------- */

  // One element id per count card -> how to read its number from the board state.
  const COUNT_CARDS = {
    "count-announcements": (s) => s.counts.announcements,
    "count-unconfirmed": (s) => safetyTotals(s.safety).unconfirmed,
    "count-needs-help": (s) => safetyTotals(s.safety).needs_help,
    "count-confirmed": (s) => { const x = safetyTotals(s.safety); return x.total - x.unconfirmed; },
  };

  // The columns of the district table, in the order a sweep cares about.
  const SAFETY_COLUMNS = ["unconfirmed", "needs_help", "unreachable", "not_home", "hospital", "evacuated", "safe_at_home", "deceased"];

  const app = {
    me: null,              // {username, role, shelter_id} once logged in
    activations: [],       // from GET /api/activations
    listLoaded: false,     // the list arrived at least once (an empty list then means "nothing declared")
    activationId: null,    // the one shown
    state: null,           // last reduced board state (kept on screen while reconnecting)
    needSnapshot: true,    // true: next connect omits since, and events are refused until a snapshot
    ws: null,
    connState: "connecting",
    attempt: 0,
    reconnectTimer: null,
    lastUpdate: null,      // Date the last message was applied
    fresh: new Map(),      // announcement id -> highlight expiry (ms)
    refreshTimer: null,
    posting: false,
  };

  const $ = (id) => document.getElementById(id);

  function storageGet(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
  function storageSet(key, v) { try { localStorage.setItem(key, v); } catch (_) { /* private mode */ } }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let data = null;
    if (res.status !== 204) { try { data = await res.json(); } catch (_) { data = null; } }
    return { status: res.status, data };
  }

  function serverError(r) {
    return r.data && typeof r.data.error === "string" ? r.data.error : "HTTP " + r.status;
  }

  // Messages are stored as an I18N key (+ optional server text) so a language switch re-renders them.
  function setMessage(el, key, extra) {
    if (!key) {
      delete el.dataset.msgKey;
      delete el.dataset.msgExtra;
      el.textContent = "";
      return;
    }
    el.dataset.msgKey = key;
    if (extra) el.dataset.msgExtra = extra; else delete el.dataset.msgExtra;
    renderMessage(el);
  }

  function renderMessage(el) {
    const extra = el.dataset.msgExtra;
    el.textContent = t(el.dataset.msgKey) + (extra ? "（" + extra + "）" : "");
  }

  /* ---------- views ---------- */

  function showView(name) {
    $("loading-view").hidden = name !== "loading";
    $("login-view").hidden = name !== "login";
    $("app").hidden = name !== "app";
    $("session-controls").hidden = name !== "app";
  }

  function showLogin(msgKey) {
    stopSocket();
    clearInterval(app.refreshTimer);
    app.refreshTimer = null;
    Object.assign(app, { me: null, activations: [], listLoaded: false, activationId: null, state: null,
      needSnapshot: true, connState: "connecting", lastUpdate: null });
    app.fresh.clear();
    delete document.documentElement.dataset.role;
    delete document.body.dataset.kind;
    showView("login");
    setMessage($("login-error"), msgKey || null);
    $("login-password").value = "";
    $("login-username").focus();
  }

  async function enterApp(me) {
    app.me = { username: me.username, role: me.role, shelter_id: me.shelter_id };
    document.documentElement.dataset.role = me.role;
    $("user-name").textContent = me.username;
    setMessage($("announce-error"), null);
    renderRole();
    showView("app");
    renderBoard();
    await loadActivations(true);
    clearInterval(app.refreshTimer);
    // Refresh the list now and then: new activations appear, and "today" in times stays right.
    app.refreshTimer = setInterval(() => { if (app.me) loadActivations(false); }, REFRESH_MS);
  }

  async function loadActivations(initial) {
    const r = await api("GET", "/api/activations").catch(() => null);
    if (!app.me) return;
    if (r && r.status === 401) { showLogin("session_expired"); return; }
    if (!r || r.status !== 200 || !Array.isArray(r.data)) {
      if (initial) setTimeout(() => { if (app.me && !app.activations.length) loadActivations(true); }, 5000);
      return;
    }
    app.activations = r.data;
    app.listLoaded = true;
    if (app.state && app.state.activation) mergeActivation(app.state.activation);
    renderActivationSelect();
    if (initial || app.activationId === null) {
      const stored = storageGet(LS_ACTIVATION);
      selectActivation(pickActivation(app.activations, parseHashActivation(location.hash),
        stored === null ? null : Number(stored)), false);
    } else {
      renderBoard();
    }
  }

  function selectActivation(id, explicit) {
    if (explicit && id !== null) storageSet(LS_ACTIVATION, String(id));
    const hashId = parseHashActivation(location.hash);
    if (id !== null && hashId !== id && (explicit || hashId !== null)) {
      history.replaceState(null, "", "#activation=" + id);
    }
    if (id === app.activationId && (app.ws || app.reconnectTimer)) return;
    stopSocket();
    Object.assign(app, { activationId: id, state: null, needSnapshot: true, lastUpdate: null, attempt: 0 });
    app.fresh.clear();
    $("activation-select").value = id === null ? "" : String(id);
    setMessage($("announce-error"), null);
    renderBoard();
    if (id !== null) connect();
  }

  function currentActivation() {
    if (app.state && app.state.activation) return app.state.activation;
    return app.activations.find((a) => a.id === app.activationId) || null;
  }

  function mergeActivation(act) {
    const i = app.activations.findIndex((a) => a.id === act.id);
    if (i < 0) return false;
    const before = activationLabel(app.activations[i]);
    app.activations[i] = Object.assign({}, app.activations[i], act);
    return before !== activationLabel(app.activations[i]);
  }

  /* ---------- websocket ---------- */

  function wsUrl(activationId, since) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let url = proto + "//" + location.host + "/ws/board?activation=" + encodeURIComponent(activationId);
    if (since !== null) url += "&since=" + encodeURIComponent(since);
    return url;
  }

  function connect() {
    clearTimeout(app.reconnectTimer);
    app.reconnectTimer = null;
    if (!app.me || app.activationId === null || app.ws) return;
    const since = !app.needSnapshot && app.state ? app.state.lastSeq : null;
    let ws;
    try {
      ws = new WebSocket(wsUrl(app.activationId, since));
    } catch (_) {
      setConnState("closed");
      scheduleReconnect();
      return;
    }
    app.ws = ws;
    setConnState("connecting");
    ws.addEventListener("open", () => { if (app.ws === ws) setConnState("open"); });
    ws.addEventListener("message", (ev) => { if (app.ws === ws) onSocketMessage(ev.data); });
    // "error" is always followed by "close", so only close is handled.
    ws.addEventListener("close", () => { if (app.ws === ws) onSocketClosed(); });
  }

  function onSocketMessage(raw) {
    let msg = null;
    try { msg = JSON.parse(raw); } catch (_) { /* reduce() rejects null */ }
    const result = reduce(app.needSnapshot ? null : app.state, msg);
    if (!result.ok) {
      console.warn("saigai-vc: resynchronising:", result.reason);
      resync();
      return;
    }
    if (msg.type === "snapshot") app.fresh.clear();
    if (msg.type === "announcement_posted" && msg.data) markFresh(msg.data.id);
    Object.assign(app, { state: result.state, needSnapshot: false, attempt: 0, lastUpdate: new Date() });
    if (result.state.activation && mergeActivation(result.state.activation)) renderActivationSelect();
    renderBoard();
  }

  // Seq discontinuity: never apply; drop the socket and come back for a fresh snapshot.
  function resync() {
    stopSocket();
    app.needSnapshot = true;
    setConnState("closed");
    scheduleReconnect();
  }

  // A browser cannot see why a websocket failed, so ask /api/me whether the session is gone.
  // Close code 1001 (server shutting down) takes the same path: keep reconnecting.
  async function onSocketClosed() {
    app.ws = null;
    setConnState("closed");
    const activationId = app.activationId;
    try {
      const r = await api("GET", "/api/me");
      if (r.status === 401) { if (app.me) showLogin("session_expired"); return; }
    } catch (_) { /* server unreachable: keep trying */ }
    if (app.me && app.activationId === activationId && !app.ws) scheduleReconnect();
  }

  function scheduleReconnect() {
    clearTimeout(app.reconnectTimer);
    const delay = backoffDelay(app.attempt, Math.random());
    app.attempt += 1;
    app.reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (app.me && app.activationId !== null && !app.ws) {
      app.attempt = 0;
      connect();
    }
  }

  function stopSocket() {
    clearTimeout(app.reconnectTimer);
    app.reconnectTimer = null;
    const ws = app.ws;
    app.ws = null;  // from here on its events are ignored
    if (ws) { try { ws.close(1000); } catch (_) { /* already closed */ } }
  }

  function setConnState(s) {
    app.connState = s;
    renderConnState();
  }

  /* ---------- rendering ---------- */

  function renderConnState() {
    const el = $("conn-state");
    el.dataset.state = app.connState;
    el.textContent = t("conn_" + app.connState);
    $("last-update").textContent = app.lastUpdate ? t("last_update") + " " + formatClock(app.lastUpdate) : "";
  }

  function renderRole() {
    if (!app.me) return;
    const key = "role_" + app.me.role;
    $("user-role").textContent = Object.prototype.hasOwnProperty.call(I18N.ja, key) ? t(key) : app.me.role;
  }

  function renderActivationSelect() {
    const sel = $("activation-select");
    const frag = document.createDocumentFragment();
    for (const a of app.activations) {
      const opt = document.createElement("option");
      opt.value = String(a.id);
      opt.textContent = activationLabel(a);
      frag.appendChild(opt);
    }
    sel.replaceChildren(frag);
    sel.value = app.activationId === null ? "" : String(app.activationId);
    sel.disabled = app.activations.length === 0;
  }

  function renderBoard() {
    const act = currentActivation();
    const kind = act ? act.kind : null;
    $("drill-banner").hidden = kind !== "drill";
    $("real-banner").hidden = kind !== "real";
    if (kind) document.body.dataset.kind = kind; else delete document.body.dataset.kind;
    $("activation-name").textContent = act ? act.name : "";
    $("activation-closed").hidden = !(act && act.status === "closed");
    $("board-empty").hidden = !(app.me && app.listLoaded && app.activationId === null);
    $("conn-state").hidden = app.activationId === null;
    for (const id of Object.keys(COUNT_CARDS)) {
      const n = app.state ? COUNT_CARDS[id](app.state) : null;
      $(id).textContent = typeof n === "number" ? String(n) : "–";
    }
    renderAnnouncements();
    renderSafety();
    renderAnnounceForm();
    renderConnState();
  }

  function renderSafety() {
    const safety = app.state ? app.state.safety : [];
    const head = el("tr");
    head.appendChild(el("th", null, t("col_district")));
    head.appendChild(el("th", "num", t("col_total")));
    for (const s of SAFETY_COLUMNS) head.appendChild(el("th", "num status-" + s, t("status_" + s)));
    $("safety-head").replaceChildren(head);
    const frag = document.createDocumentFragment();
    for (const d of safety) {
      const tr = el("tr");
      tr.appendChild(el("th", null, d.district || t("district_none")));
      tr.appendChild(el("td", "num", d.total));
      for (const s of SAFETY_COLUMNS) {
        const n = (d.by_status && d.by_status[s]) || 0;
        const td = el("td", "num status-" + s + (n > 0 ? " has" : ""), n);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    $("safety-body").replaceChildren(frag);
    $("safety-empty").hidden = !(app.state && safety.length === 0);
  }

  function renderAnnouncements() {
    const list = app.state ? app.state.announcements : [];
    const now = new Date();
    const frag = document.createDocumentFragment();
    for (const a of list) frag.appendChild(renderAnnouncement(a, now));
    $("announcements").replaceChildren(frag);
    $("announcements-empty").hidden = !(app.state && list.length === 0);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function renderAnnouncement(a, now) {
    const li = el("li", "announcement");
    li.dataset.id = String(a.id);
    if (app.fresh.has(a.id)) {
      li.classList.add("is-new");
      li.appendChild(el("span", "badge-new", t("new_badge")));
    }
    li.appendChild(el("p", "announcement-text", a.text));
    const meta = el("p", "announcement-meta");
    const time = el("time", "announcement-time", formatTime(a.posted_at, now));
    if (a.posted_at) time.dateTime = a.posted_at;
    const by = el("span", "announcement-by");
    by.append(el("span", "meta-label", t("posted_by")), el("span", "poster", a.posted_by));
    meta.append(time, by);
    li.appendChild(meta);
    return li;
  }

  function markFresh(id) {
    app.fresh.set(id, Date.now() + HIGHLIGHT_MS);
    setTimeout(expireFresh, HIGHLIGHT_MS + 50);
  }

  function expireFresh() {
    const now = Date.now();
    let changed = false;
    for (const [id, until] of app.fresh) if (until <= now) { app.fresh.delete(id); changed = true; }
    if (changed && app.me) renderAnnouncements();
  }

  function renderAnnounceForm() {
    const act = currentActivation();
    const closed = !!(act && act.status === "closed");
    $("announce-form").hidden = !(app.me && canPost(app.me.role)) || app.activationId === null;
    $("announce-text").disabled = closed;
    $("announce-submit").disabled = closed || app.posting;
    $("announce-closed").hidden = !closed;
    renderCharCount();
  }

  function renderCharCount() {
    const n = Array.from($("announce-text").value).length;
    const c = $("announce-count");
    c.textContent = n + " / " + MAX_ANNOUNCEMENT_CHARS;
    c.classList.toggle("over", n > MAX_ANNOUNCEMENT_CHARS);
  }

  /* ---------- user actions ---------- */

  async function onLoginSubmit(ev) {
    ev.preventDefault();
    const errEl = $("login-error");
    const username = $("login-username").value.trim();
    const password = $("login-password").value;
    if (!username || !password) { setMessage(errEl, "login_missing"); return; }
    setMessage(errEl, null);
    $("login-submit").disabled = true;
    try {
      const r = await api("POST", "/api/login", { username, password });
      if (r.status === 200 && r.data) { $("login-password").value = ""; await enterApp(r.data); }
      else if (r.status === 401) { setMessage(errEl, "login_bad"); $("login-password").select(); }
      else setMessage(errEl, "login_failed", serverError(r));
    } catch (_) {
      setMessage(errEl, "server_unreachable");
    } finally {
      $("login-submit").disabled = false;
    }
  }

  async function onLogout() {
    stopSocket();
    try { await api("POST", "/api/logout"); } catch (_) { /* leave anyway */ }
    showLogin(null);
  }

  async function onAnnounceSubmit(ev) {
    if (ev) ev.preventDefault();
    if (app.posting) return;
    const ta = $("announce-text");
    const errEl = $("announce-error");
    const text = ta.value;
    const act = currentActivation();
    if (!act || act.status === "closed") { setMessage(errEl, "announce_closed"); return; }
    const invalid = validateAnnouncement(text);
    if (invalid) { setMessage(errEl, invalid); ta.focus(); return; }
    setMessage(errEl, null);
    app.posting = true;
    renderAnnounceForm();
    try {
      const path = "/api/activations/" + encodeURIComponent(act.id) + "/announcements";
      const r = await api("POST", path, { text });
      // The new announcement arrives over the websocket; do not add it here.
      if (r.status === 201) { if (ta.value === text) ta.value = ""; }
      else if (r.status === 400) setMessage(errEl, "announce_invalid", serverError(r));
      else if (r.status === 403) setMessage(errEl, "announce_forbidden");
      else if (r.status === 409) setMessage(errEl, "announce_closed");   // closed meanwhile
      else if (r.status === 401) { showLogin("session_expired"); return; }
      else setMessage(errEl, "announce_failed", serverError(r));
    } catch (_) {
      setMessage(errEl, "announce_network");
    } finally {
      app.posting = false;
      if (app.me) renderAnnounceForm();
    }
  }

  function onAnnounceKeydown(ev) {
    if (ev.key !== "Enter" || !(ev.ctrlKey || ev.metaKey) || ev.isComposing || ev.keyCode === 229) return;
    ev.preventDefault();
    onAnnounceSubmit(null);
  }

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t("title");
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
    for (const e of document.querySelectorAll("[data-msg-key]")) renderMessage(e);
    const toggle = $("lang-toggle");
    toggle.lang = lang === "ja" ? "en" : "ja";
    toggle.setAttribute("aria-label", t("lang_toggle_label"));
    renderConnState();
    if (app.me) { renderRole(); renderActivationSelect(); renderBoard(); }
  }

  function toggleLanguage() {
    lang = lang === "ja" ? "en" : "ja";
    storageSet(LS_LANG, lang);
    applyLanguage();
  }

  function bindEvents() {
    $("login-form").addEventListener("submit", onLoginSubmit);
    $("logout").addEventListener("click", onLogout);
    $("lang-toggle").addEventListener("click", toggleLanguage);
    $("activation-select").addEventListener("change", (ev) => {
      if (ev.target.value !== "") selectActivation(Number(ev.target.value), true);
    });
    $("announce-form").addEventListener("submit", onAnnounceSubmit);
    $("announce-text").addEventListener("keydown", onAnnounceKeydown);
    $("announce-text").addEventListener("input", renderCharCount);
    window.addEventListener("hashchange", () => {
      const id = parseHashActivation(location.hash);
      if (app.me && id !== null && id !== app.activationId && app.activations.some((a) => a.id === id)) {
        selectActivation(id, true);
      }
    });
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) reconnectNow(); });
  }

  async function boot() {
    const stored = storageGet(LS_LANG);
    lang = stored === "en" ? "en" : "ja";
    bindEvents();
    applyLanguage();
    showView("loading");
    try {
      const r = await api("GET", "/api/me");
      if (r.status === 200 && r.data) await enterApp(r.data);
      else showLogin(r.status === 401 ? null : "server_error");
    } catch (_) {
      showLogin("server_unreachable");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
