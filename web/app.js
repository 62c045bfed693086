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
 *
 * Views (tabs under the header; a role sees only the tabs it may use, see VIEWS)
 *   board  ボード    everyone            the live board (the socket runs whatever the view)
 *   sweep  安否確認  coordinator, admin  one district's register list with one-tap statuses
 *   import 名簿取込  admin               CSV upload -> dry-run preview -> commit
 *   The URL hash remembers them: #activation=3&view=sweep&district=<encoded>. The activation
 *   is written only once the URL came with one or one was chosen (a wall screen's plain URL
 *   keeps following the open activation).
 *
 * The sweep list
 *   GET /api/register/persons?activation&district[&status] fills it (the server's order:
 *   unconfirmed first). A tap records POST /api/activations/{id}/safety optimistically: the
 *   row shows the new status marked "sending" until the answer confirms it or puts the old one
 *   back with the reason. Board events that concern the district shown (safety_recorded of
 *   that district, register_imported, disclosure changes, a re-snapshot) refetch the list,
 *   debounced by SWEEP_REFETCH_MS. A live refetch never moves rows (a tap must not land on
 *   the wrong person): new people are appended and people who no longer match are greyed
 *   until the user refreshes or changes the district or filter.
 *
 * Element ids (the browser tests rely on these; keep them stable)
 *   login:   #login-username #login-password #login-submit #login-error
 *   header:  #activation-select #user-name #user-role #logout #lang-toggle
 *   tabs:    #tabs #tab-board #tab-sweep #tab-import; panels #board #sweep-view #import-view
 *   shared:  #drill-banner #real-banner #activation-name #activation-closed #conn-state[data-state]
 *   board:   #count-announcements #count-unconfirmed #count-needs-help #count-confirmed
 *            #safety-body #announcements #announce-text #announce-submit #announce-error
 *   sweep:   #sweep-disclosure #sweep-districts > button[data-district][aria-pressed]
 *            #sweep-status #sweep-reload #sweep-print #sweep-csv #sweep-csv-cp932
 *            #sweep-summary #sweep-error #sweep-empty #sweep-list
 *            li.person[data-resident-id][data-status] (class is-pending while sending) with
 *            .status-badge, a.tel, button.status-btn[data-status], .person-note,
 *            .deceased-btn -> .deceased-confirm [data-action=deceased-yes|deceased-no],
 *            .history-btn -> .history-list li.history-item, .person-error
 *   import:  #import-file #import-mapping #import-encoding #import-preview #import-error #import-report
 *            #import-new #import-updated-count #import-unchanged #import-removed
 *            #import-rows #import-detected #import-invalid-count #import-updated-body
 *            #import-invalid-body (td.line td.column td.value td.reason) #import-unmapped
 *            #import-commit #import-commit-valid #import-confirm #import-confirm-yes
 *            #import-confirm-no #import-done #import-done-id #import-again
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
      tabs_label: "画面", tab_board: "ボード", tab_sweep: "安否確認", tab_import: "名簿取込",
      cancel: "やめる",
      sweep_title: "安否確認",
      sweep_no_activation: "活動を選んでください（安否確認は活動ごとに記録します）",
      sweep_closed: "この活動は終了しているため、安否を記録できません",
      sweep_district: "地区", sweep_status_filter: "状態", status_all: "すべて",
      sweep_reload: "一覧を更新", sweep_print: "印刷", sweep_print_all: "印刷（全地区）",
      sweep_csv: "CSV出力", sweep_csv_cp932: "CSV出力（Excel用 Shift_JIS）",
      sweep_pick: "地区を選んでください",
      sweep_empty: "この条件に該当する方はいません",
      sweep_summary: "{district}：名簿 {total}人／未確認 {unconfirmed}人／表示 {shown}人",
      sweep_hidden: "情報提供に同意していない方 {n}人は表示されていません",
      district_unconfirmed: "未確認 {n}",
      disclosure_on: "同意のない方の情報を開示中（〜{until}）",
      disclosure_detail: "理由：{reason}／宣言：{by}",
      person_address: "住所", person_phone: "電話", person_care: "要介護度・障害", person_reasons: "支援が必要な理由",
      person_supporters: "避難支援者", person_shelter: "避難先", person_notes: "備考", person_birth: "生年月日",
      person_age: "{age}歳", sex_male: "男", sex_female: "女",
      no_consent: "同意なし", removed_badge: "名簿から削除済",
      note_label: "メモ（任意）",
      btn_deceased: "死亡…", deceased_confirm: "「死亡」と記録します。確かな情報ですか？",
      deceased_yes: "死亡と記録する",
      history_show: "履歴", history_title: "安否確認の履歴", history_empty: "まだ記録はありません",
      history_failed: "履歴を読み込めませんでした", sending: "送信中…",
      filtered_out: "この条件から外れました（一覧を更新すると消えます）",
      safety_invalid: "記録できませんでした", safety_forbidden: "安否を記録する権限がありません",
      safety_not_found: "この方は記録できません（名簿から外れたか、閲覧できません）",
      safety_closed: "この活動は終了しているため記録できません", safety_conflict: "記録できませんでした",
      safety_failed: "記録できませんでした", safety_network: "サーバーに接続できないため記録できませんでした",
      list_forbidden: "名簿を見る権限がありません", list_failed: "一覧を読み込めませんでした",
      list_network: "サーバーに接続できないため一覧を読み込めませんでした",
      import_title: "避難行動要支援者名簿の取込", import_file: "CSVファイル", import_encoding: "文字コード",
      import_mapping: "見出し対応表（任意・TOML）",
      encoding_auto: "自動判定", import_choose: "ファイルを選ぶ", import_no_file: "選択されていません",
      import_preview: "内容を確認（プレビュー）",
      import_hint: "ファイルを選ぶと、取り込む前に内容を確認できます。確認だけでは名簿は変わりません。",
      import_previewing: "ファイルを確認しています…", import_committing: "取り込んでいます…",
      import_refused: "このファイルは取り込めません", import_encoding_bad: "文字コードの指定が正しくありません",
      import_forbidden: "名簿を取り込む権限がありません（システム管理者のみ）",
      import_too_large: "ファイルが大きすぎます", import_failed: "取り込めませんでした",
      import_network: "サーバーに接続できないため取り込めませんでした",
      import_preview_title: "プレビュー（まだ取り込まれていません）",
      import_refused_title: "取り込まれませんでした（名簿は変わっていません）",
      import_done_title: "取込結果", import_done: "取込完了", import_done_id: "取込番号 {id}",
      import_encoding_detected: "文字コード", import_rows: "行数", import_new: "新規", import_updated: "更新",
      import_unchanged: "変更なし", import_removed: "削除扱い", import_invalid: "無効な行",
      import_removed_hint: "このファイルにない {n}人は名簿から外れます（記録は残ります）",
      import_removed_hint_invalid: "誰の行か読めない無効な行があるため、このファイルで削除扱いになる方はいません",
      import_updated_summary: "更新される {n}人（変更された項目を見る）",
      import_updated_summary_done: "更新された {n}人（変更された項目を見る）",
      col_resident_id: "宛名番号", col_line: "行", col_column: "列", col_value: "値", col_reason: "理由",
      col_changed_fields: "変更された項目",
      import_invalid_title: "無効な行（取り込まれません）", import_unmapped_title: "取り込まれない列",
      import_commit: "取り込む", import_commit_valid: "有効な行だけ取り込む",
      import_commit_blocked: "無効な行があるため、このままでは取り込めません。ファイルを直すか、有効な行だけ取り込んでください。",
      import_confirm: "無効な {lines}行を除き、有効な {valid}行だけを取り込みます。よろしいですか？",
      import_confirm_yes: "有効な行だけ取り込む", import_again: "別のファイルを取り込む",
      field_resident_id: "宛名番号", field_name: "氏名", field_name_kana: "フリガナ", field_birth_date: "生年月日",
      field_sex: "性別", field_postal_code: "郵便番号", field_address: "住所", field_phone: "電話番号",
      field_district: "地区", field_care_level: "要介護度", field_disability: "障害",
      field_support_reasons: "支援が必要な理由", field_consent: "情報提供同意", field_supporters: "避難支援者",
      field_designated_shelter: "避難先", field_latitude: "緯度", field_longitude: "経度", field_notes: "備考",
      field_removed: "名簿に復帰", more_rows: "ほか {n}件（{shown}件まで表示）", list_sep: "、",
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
      tabs_label: "Views", tab_board: "Board", tab_sweep: "Safety check", tab_import: "Register import",
      cancel: "Cancel",
      sweep_title: "Safety confirmation",
      sweep_no_activation: "Choose an activation (safety checks are recorded per activation)",
      sweep_closed: "This activation is closed; statuses cannot be recorded",
      sweep_district: "District", sweep_status_filter: "Status", status_all: "All",
      sweep_reload: "Refresh list", sweep_print: "Print", sweep_print_all: "Print (all districts)",
      sweep_csv: "Export CSV", sweep_csv_cp932: "Export CSV (Excel, Shift_JIS)",
      sweep_pick: "Choose a district",
      sweep_empty: "Nobody matches",
      sweep_summary: "{district}: {total} on the register / {unconfirmed} unconfirmed / {shown} shown",
      sweep_hidden: "{n} people who did not consent to sharing are not shown",
      district_unconfirmed: "{n} unconfirmed",
      disclosure_on: "Disclosing people who did not consent (until {until})",
      disclosure_detail: "Reason: {reason} / declared by {by}",
      person_address: "Address", person_phone: "Phone", person_care: "Care level / disability", person_reasons: "Why support is needed",
      person_supporters: "Supporters", person_shelter: "Designated shelter", person_notes: "Notes", person_birth: "Born",
      person_age: "age {age}", sex_male: "male", sex_female: "female",
      no_consent: "No consent", removed_badge: "Removed from register",
      note_label: "Note (optional)",
      btn_deceased: "Deceased…", deceased_confirm: "Record this person as deceased? Only with confirmed information.",
      deceased_yes: "Record as deceased",
      history_show: "History", history_title: "Safety check history", history_empty: "Nothing recorded yet",
      history_failed: "Could not load the history", sending: "Sending…",
      filtered_out: "No longer matches the filter (gone on refresh)",
      safety_invalid: "Could not record", safety_forbidden: "You are not allowed to record safety checks",
      safety_not_found: "Cannot record this person (removed from the register, or not visible to you)",
      safety_closed: "This activation is closed; nothing can be recorded", safety_conflict: "Could not record",
      safety_failed: "Could not record", safety_network: "Cannot reach the server; nothing was recorded",
      list_forbidden: "You are not allowed to see the register", list_failed: "Could not load the list",
      list_network: "Cannot reach the server; the list was not loaded",
      import_title: "Import the support-needed register", import_file: "CSV file", import_encoding: "Encoding",
      import_mapping: "Header mapping (optional, TOML)",
      encoding_auto: "Detect", import_choose: "Choose a file", import_no_file: "No file chosen",
      import_preview: "Check the file (preview)",
      import_hint: "Choosing a file shows what would change before anything is imported. A preview changes nothing.",
      import_previewing: "Checking the file…", import_committing: "Importing…",
      import_refused: "This file cannot be imported", import_encoding_bad: "Unknown encoding",
      import_forbidden: "You are not allowed to import the register (administrators only)",
      import_too_large: "The file is too large", import_failed: "Could not import",
      import_network: "Cannot reach the server; nothing was imported",
      import_preview_title: "Preview (nothing imported yet)",
      import_refused_title: "Not imported (the register is unchanged)",
      import_done_title: "Import result", import_done: "Import complete", import_done_id: "Import #{id}",
      import_encoding_detected: "Encoding", import_rows: "Rows", import_new: "New", import_updated: "Updated",
      import_unchanged: "Unchanged", import_removed: "Removed", import_invalid: "Invalid rows",
      import_removed_hint: "{n} people missing from this file leave the register (their records are kept)",
      import_removed_hint_invalid: "Some invalid rows cannot be told whose they are, so nobody is removed by this file",
      import_updated_summary: "{n} people will be updated (show changed fields)",
      import_updated_summary_done: "{n} people were updated (show changed fields)",
      col_resident_id: "Resident ID", col_line: "Line", col_column: "Column", col_value: "Value", col_reason: "Reason",
      col_changed_fields: "Changed fields",
      import_invalid_title: "Invalid rows (not imported)", import_unmapped_title: "Columns not imported",
      import_commit: "Import", import_commit_valid: "Import the valid rows only",
      import_commit_blocked: "The file has invalid rows and cannot be imported as is. Correct it, or import the valid rows only.",
      import_confirm: "Skip {lines} invalid line(s) and import only the {valid} valid row(s)?",
      import_confirm_yes: "Import the valid rows", import_again: "Import another file",
      field_resident_id: "resident ID", field_name: "name", field_name_kana: "kana", field_birth_date: "birth date",
      field_sex: "sex", field_postal_code: "postal code", field_address: "address", field_phone: "phone",
      field_district: "district", field_care_level: "care level", field_disability: "disability",
      field_support_reasons: "support reasons", field_consent: "consent", field_supporters: "supporters",
      field_designated_shelter: "designated shelter", field_latitude: "latitude", field_longitude: "longitude", field_notes: "notes",
      field_removed: "back on the register", more_rows: "{n} more (showing the first {shown})", list_sep: ", ",
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
  const SWEEP_REFETCH_MS = 300;

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

  // t() with {name} placeholders filled from `vars`.
  function tf(key, vars) {
    return t(key).replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : m));
  }

  // The views (tabs) and the roles that may use each; null means every role.
  const VIEWS = [
    { name: "board", roles: null },
    { name: "sweep", roles: ["coordinator", "admin"] },
    { name: "import", roles: ["admin"] },
  ];

  function viewsFor(role) {
    return VIEWS.filter((v) => v.roles === null || v.roles.indexOf(role) >= 0).map((v) => v.name);
  }

  function pickView(role, wanted) {
    return wanted && viewsFor(role).indexOf(wanted) >= 0 ? wanted : "board";
  }

  // "#activation=3&view=sweep&district=..." -> {activation, view, district}; absent parts are null.
  function parseHash(hash) {
    const out = { activation: parseHashActivation(hash), view: null, district: null };
    for (const part of String(hash || "").replace(/^#/, "").split("&")) {
      const i = part.indexOf("=");
      if (i < 0) continue;
      const key = part.slice(0, i);
      let value;
      try { value = decodeURIComponent(part.slice(i + 1)); } catch (_) { continue; }
      if (key === "view" && /^[a-z]+$/.test(value)) out.view = value;
      else if (key === "district") out.district = value;
    }
    return out;
  }

  // The inverse of parseHash; "" when there is nothing to remember.
  function buildHash(h) {
    const parts = [];
    if (h.activation !== null && h.activation !== undefined) parts.push("activation=" + h.activation);
    if (h.view && h.view !== "board") parts.push("view=" + h.view);
    if (h.view === "sweep" && h.district !== null && h.district !== undefined) {
      parts.push("district=" + encodeURIComponent(h.district));
    }
    return parts.length ? "#" + parts.join("&") : "";
  }

  // The safety statuses a sweep records with one tap (deceased has a confirm step of its own).
  const QUICK_STATUSES = ["safe_at_home", "evacuated", "needs_help", "not_home", "hospital", "unreachable"];
  // Every status, in the order the server lists them (the filter offers them in this order).
  const ALL_STATUSES = ["unconfirmed", "needs_help", "unreachable", "not_home", "hospital", "evacuated", "safe_at_home", "deceased"];

  // Whether a board message may have changed the sweep list of `district`.
  function affectsDistrict(msg, district) {
    if (!msg || district === null || district === undefined) return false;
    if (msg.type === "snapshot" || msg.type === "register_imported") return true;
    if (msg.type === "disclosure_declared" || msg.type === "disclosure_ended") return true;
    if (msg.type === "safety_recorded") return !!msg.data && (msg.data.district || "") === district;
    return false;
  }

  // The list request of a sweep. `district=` (empty) asks for the people with no district;
  // onlyDistrict() stays as a guard against a list that strays.
  function personsPath(activationId, district, status) {
    let path = "/api/register/persons?activation=" + encodeURIComponent(activationId);
    if (district !== null && district !== undefined) path += "&district=" + encodeURIComponent(district);
    if (status) path += "&status=" + encodeURIComponent(status);
    return path;
  }

  function onlyDistrict(people, district) {
    return district ? people : people.filter((p) => !p.district);
  }

  // Keeps rows where they are while a list refreshes live (a row never moves under a finger):
  // ids already shown stay in their order, new ones are appended in the server's order, and
  // ids the server no longer lists are reported as `gone` (kept on screen, marked).
  function stableOrder(shown, fresh) {
    const freshSet = new Set(fresh);
    const shownSet = new Set(shown);
    const order = shown.slice();
    for (const id of fresh) if (!shownSet.has(id)) order.push(id);
    return { order, gone: shown.filter((id) => !freshSet.has(id)) };
  }

  // Whole years from a YYYY-MM-DD birth date to `now`, or null.
  function ageOn(birthDate, now) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate || "");
    if (!m) return null;
    const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
    let age = now.getFullYear() - y;
    if (now.getMonth() + 1 < mo || (now.getMonth() + 1 === mo && now.getDate() < d)) age -= 1;
    return age >= 0 && age < 150 ? age : null;
  }

  // A tel: URL from a phone as the register writes it, or null.
  function telHref(phone) {
    const digits = String(phone || "").replace(/[^0-9+]/g, "");
    return digits.length >= 3 ? "tel:" + digits : null;
  }

  // Distinct lines among an import report's invalid cells.
  function invalidLines(report) {
    const lines = new Set();
    for (const c of (report && report.invalid) || []) lines.add(c.line);
    return lines.size;
  }

  function encodingLabel(e) {
    if (e === "cp932") return "Shift_JIS (CP932)";
    if (e === "utf-8-bom") return "UTF-8 (BOM)";
    if (e === "utf-8") return "UTF-8";
    return e || "";
  }

  const pure = {
    I18N, EVENT_HANDLERS, reduce, stateFromSnapshot, safetyTotals, withDistrict, backoffDelay, formatTime, parseHashActivation,
    pickActivation, activationLabel, validateAnnouncement, canPost, tf, viewsFor, pickView, parseHash, buildHash,
    affectsDistrict, personsPath, onlyDistrict, stableOrder, ageOn, telHref, invalidLines, encodingLabel,
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
    view: "board",         // the tab shown: "board" | "sweep" | "import" (see VIEWS)
    hashActivation: false, // the URL names the activation (it came with one, or one was chosen)
  };

  // The sweep list (安否確認) of one district; see loadSweepList and stableOrder.
  const sweep = {
    district: null,        // the district shown ("" = no district), or null before one is picked
    status: "",            // status filter ("" = all)
    entries: new Map(),    // resident_id -> {person, status, pending, lastWrite, gone, error, expanded, history, ...}
    rows: new Map(),       // resident_id -> its <li> (kept across refreshes: notes typed stay)
    order: [],             // resident ids in display order
    listKey: null,         // "activation|district|status" the entries belong to
    loading: false,
    token: 0,              // the latest list request; older answers are dropped
    writes: 0,             // answered status writes so far (see applySweepList)
    timer: null,           // debounced live refetch
    disclosure: null,      // {ends_at, reason, declared_by} while one is in force
    disclosureTimer: null,
  };

  // The register import (名簿取込).
  const imp = {
    file: null,            // the File chosen
    busy: null,            // "preview" | "commit" while a request runs
    report: null,          // the last import report
    phase: null,           // "preview" (dry run) | "refused" (422) | "done" (committed)
    error: null,           // {key, extra}: the file was refused whole, or the request failed
    confirming: false,     // the "valid rows only" confirm step is open
    token: 0,
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
    app.view = "board";
    app.hashActivation = false;
    resetSweep(true);
    resetImport();
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
    const hash = parseHash(location.hash);
    app.view = pickView(me.role, hash.view);
    sweep.district = app.view === "sweep" ? hash.district : null;
    renderTabs();
    showView("app");
    renderBoard();
    if (app.view === "import") renderImport();
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
      const hashId = parseHashActivation(location.hash);
      if (hashId !== null) app.hashActivation = true;
      selectActivation(pickActivation(app.activations, hashId, stored === null ? null : Number(stored)), false);
    } else {
      renderBoard();
    }
  }

  function selectActivation(id, explicit) {
    if (explicit && id !== null) storageSet(LS_ACTIVATION, String(id));
    // The URL names the activation once it came with one or one was chosen; an automatic pick
    // is not written, so a wall screen's plain URL keeps following the open activation.
    if (explicit) app.hashActivation = true;
    if (id === app.activationId && (app.ws || app.reconnectTimer)) { syncHash(); return; }
    stopSocket();
    const changed = id !== app.activationId;
    Object.assign(app, { activationId: id, state: null, needSnapshot: true, lastUpdate: null, attempt: 0 });
    app.fresh.clear();
    $("activation-select").value = id === null ? "" : String(id);
    setMessage($("announce-error"), null);
    syncHash();
    if (changed) resetSweep(false);
    renderBoard();
    if (id !== null) connect();
    if (changed && app.view === "sweep") enterSweep();
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
    const hadState = app.state !== null;
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
    sweepOnBoardMessage(msg, hadState);
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
    if (app.view === "sweep") renderSweep();
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

  /* ---------- views (tabs) ---------- */

  function renderTabs() {
    const allowed = app.me ? viewsFor(app.me.role) : ["board"];
    $("tabs").hidden = allowed.length < 2;
    for (const tab of document.querySelectorAll("#tablist [role=tab]")) {
      const on = tab.dataset.view === app.view;
      tab.hidden = allowed.indexOf(tab.dataset.view) < 0;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    }
    $("board").hidden = app.view !== "board";
    $("sweep-view").hidden = app.view !== "sweep";
    $("import-view").hidden = app.view !== "import";
    document.body.dataset.view = app.view;
  }

  function setView(view, focusTab) {
    const v = pickView(app.me && app.me.role, view);
    const changed = v !== app.view;
    app.view = v;
    renderTabs();
    syncHash();
    if (focusTab) $("tab-" + v).focus();
    if (!changed) return;
    if (v === "sweep") enterSweep();
    else if (v === "import") renderImport();
    else renderBoard();
  }

  // Writes activation (when the URL names it), view and district to the hash, without a
  // history entry.
  function syncHash() {
    if (!app.me) return;
    const h = buildHash({
      activation: app.hashActivation ? app.activationId : null,
      view: app.view,
      district: sweep.district,
    });
    const current = location.hash === "#" ? "" : location.hash;
    if (h !== current) history.replaceState(null, "", h || location.pathname + location.search);
  }

  // The ARIA tabs keyboard pattern: arrows, Home and End move and activate.
  function onTabKeydown(ev) {
    const tabs = Array.from(document.querySelectorAll("#tablist [role=tab]")).filter((x) => !x.hidden);
    const i = tabs.indexOf(ev.target);
    if (i < 0) return;
    let j = null;
    if (ev.key === "ArrowRight") j = (i + 1) % tabs.length;
    else if (ev.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
    else if (ev.key === "Home") j = 0;
    else if (ev.key === "End") j = tabs.length - 1;
    if (j === null) return;
    ev.preventDefault();
    setView(tabs[j].dataset.view, true);
  }

  function setText(node, text) {
    const v = text === null || text === undefined ? "" : String(text);
    if (node.textContent !== v) node.textContent = v;
  }

  /* ---------- 安否確認: the sweep list ---------- */

  function resetSweep(all) {
    clearTimeout(sweep.timer);
    clearTimeout(sweep.disclosureTimer);
    sweep.timer = null;
    sweep.token += 1;          // answers still on their way are ignored
    sweep.entries.clear();
    sweep.rows.clear();
    sweep.order = [];
    sweep.listKey = null;
    sweep.loading = false;
    sweep.disclosure = null;
    if (all) { sweep.district = null; sweep.status = ""; }
    setMessage($("sweep-error"), null);
    $("sweep-list").replaceChildren();
  }

  function enterSweep() {
    renderSweep();
    loadDisclosure();
    loadSweepList(true);
  }

  function chooseDistrict(district) {
    if (district === sweep.district) { loadSweepList(true); return; }
    sweep.district = district;
    syncHash();
    renderSweep();
    loadSweepList(true);
  }

  function sweepKey() {
    return [app.activationId, sweep.district, sweep.status].join("|");
  }

  function districtCounts(district) {
    const list = app.state ? app.state.safety : [];
    return list.find((d) => d.district === district) || null;
  }

  // What a board message means for the sweep: counts re-render with the board; a change in
  // the district shown refetches the list (debounced), so colleagues' work appears live.
  function sweepOnBoardMessage(msg, hadState) {
    if (app.view !== "sweep") return;
    if (msg.type === "snapshot" && !hadState) return;   // the first snapshot: the list was just asked for
    if (msg.type === "snapshot" || msg.type === "disclosure_declared" || msg.type === "disclosure_ended") loadDisclosure();
    if (affectsDistrict(msg, sweep.district)) scheduleSweepRefetch();
  }

  function scheduleSweepRefetch() {
    clearTimeout(sweep.timer);
    sweep.timer = setTimeout(() => loadSweepList(false), SWEEP_REFETCH_MS);
  }

  // full: the server's order (a new district or filter, or "refresh"); otherwise rows keep
  // their places (see stableOrder).
  async function loadSweepList(full) {
    clearTimeout(sweep.timer);
    sweep.timer = null;
    if (!app.me || app.view !== "sweep" || app.activationId === null || sweep.district === null) {
      renderSweep();
      return;
    }
    const key = sweepKey();
    if (key !== sweep.listKey) {
      sweep.entries.clear();
      sweep.order = [];
      sweep.listKey = key;
      full = true;
      renderSweepList();
    }
    const token = ++sweep.token;
    const writesAtStart = sweep.writes;
    const district = sweep.district;
    sweep.loading = true;
    renderSweep();
    let r = null;
    try {
      r = await api("GET", personsPath(app.activationId, district, sweep.status));
    } catch (_) { r = null; }
    if (token !== sweep.token || key !== sweepKey() || !app.me) return;
    sweep.loading = false;
    const errEl = $("sweep-error");
    if (!r) setMessage(errEl, "list_network");
    else if (r.status === 401) { showLogin("session_expired"); return; }
    else if (r.status === 403) setMessage(errEl, "list_forbidden");
    else if (r.status !== 200 || !Array.isArray(r.data)) setMessage(errEl, "list_failed", serverError(r));
    else {
      setMessage(errEl, null);
      applySweepList(onlyDistrict(r.data, district), full, writesAtStart);
    }
    renderSweep();
  }

  function applySweepList(people, full, writesAtStart) {
    const ids = people.map((p) => p.resident_id);
    let order = ids;
    if (full) {
      const keep = new Set(ids);
      for (const id of Array.from(sweep.entries.keys())) if (!keep.has(id)) sweep.entries.delete(id);
    } else {
      const stable = stableOrder(sweep.order, ids);
      order = stable.order;
      for (const id of stable.gone) { const e = sweep.entries.get(id); if (e) e.gone = true; }
    }
    for (const p of people) {
      let e = sweep.entries.get(p.resident_id);
      if (!e) {
        e = { person: p, status: "unconfirmed", pending: null, lastWrite: -1, gone: false, error: null,
          expanded: false, history: null, historyState: null, confirmDeceased: false };
        sweep.entries.set(p.resident_id, e);
      }
      const before = e.status;
      e.person = p;
      e.gone = false;
      // A list read before this row's own write was answered may predate it: keep the write.
      if (!e.pending && e.lastWrite <= writesAtStart) e.status = p.safety_status || "unconfirmed";
      if (e.expanded && e.status !== before) loadHistory(p.resident_id);
    }
    sweep.order = order;
    renderSweepList();
  }

  async function loadDisclosure() {
    const id = app.activationId;
    clearTimeout(sweep.disclosureTimer);
    if (id === null || !app.me) { sweep.disclosure = null; renderSweep(); return; }
    let r = null;
    try { r = await api("GET", "/api/activations/" + encodeURIComponent(id) + "/disclosure"); } catch (_) { r = null; }
    if (id !== app.activationId || !app.me) return;
    if (r && r.status === 200) {
      sweep.disclosure = r.data && r.data.ends_at ? r.data : null;
      if (sweep.disclosure) {
        // When it runs out, coordinators stop seeing people who did not consent: reload.
        const left = new Date(sweep.disclosure.ends_at).getTime() - Date.now();
        if (left > 0 && left < 2147483647) {
          sweep.disclosureTimer = setTimeout(() => { loadDisclosure(); scheduleSweepRefetch(); }, left + 1000);
        }
      }
    }
    renderSweep();
  }

  function renderStatusFilter() {
    const sel = $("sweep-status");
    const frag = document.createDocumentFragment();
    const all = el("option", null, t("status_all"));
    all.value = "";
    frag.appendChild(all);
    for (const s of ALL_STATUSES) {
      const opt = el("option", null, t("status_" + s));
      opt.value = s;
      frag.appendChild(opt);
    }
    sel.replaceChildren(frag);
    sel.value = sweep.status;
  }

  function renderSweep() {
    if (!app.me) return;
    const act = currentActivation();
    const closed = !!(act && act.status === "closed");
    $("sweep-no-activation").hidden = !(app.listLoaded && app.activationId === null);
    $("sweep-closed").hidden = !closed;
    $("sweep-controls").hidden = app.activationId === null;
    renderDisclosure();
    const safety = app.state ? app.state.safety : [];
    $("sweep-districts-empty").hidden = !(app.state && safety.length === 0);
    renderDistrictChips(safety);
    if ($("sweep-status").value !== sweep.status) $("sweep-status").value = sweep.status;

    const id = app.activationId;
    const picked = id !== null && sweep.district !== null;
    const print = $("sweep-print");
    const csv = $("sweep-csv");
    const cp932 = $("sweep-csv-cp932");
    print.hidden = !picked;
    csv.hidden = id === null;
    cp932.hidden = id === null;
    if (picked) {
      print.href = "/register/print?activation=" + encodeURIComponent(id) +
        "&district=" + encodeURIComponent(sweep.district);
      setText(print, t("sweep_print"));
    }
    if (id !== null) {
      csv.href = "/api/register/export?activation=" + encodeURIComponent(id);
      cp932.href = "/api/register/export?activation=" + encodeURIComponent(id) + "&encoding=cp932";
    }

    const listed = sweep.listKey === sweepKey();
    $("sweep-pick").hidden = !(id !== null && sweep.district === null);
    $("sweep-loading").hidden = !(sweep.loading && sweep.order.length === 0);
    const visible = sweep.order.filter((rid) => { const e = sweep.entries.get(rid); return e && !e.gone; }).length;
    $("sweep-empty").hidden = !(picked && listed && !sweep.loading && sweep.order.length === 0 && !$("sweep-error").textContent);
    const counts = picked ? districtCounts(sweep.district) : null;
    if (picked && counts && listed && !sweep.loading) {
      setText($("sweep-summary"), tf("sweep_summary", {
        district: sweep.district || t("district_none"), total: counts.total,
        unconfirmed: (counts.by_status && counts.by_status.unconfirmed) || 0, shown: visible,
      }));
    } else if (!picked) {
      setText($("sweep-summary"), "");
    }
    // Coordinators see consented people only (unless disclosed): say how many are not shown.
    const hidden = counts && listed && !sweep.loading && sweep.status === "" ? counts.total - visible : 0;
    setText($("sweep-hidden-note"), hidden > 0 && app.me.role !== "admin" ? tf("sweep_hidden", { n: hidden }) : "");
    renderSweepList();
  }

  function renderDisclosure() {
    const d = sweep.disclosure;
    const active = !!(d && new Date(d.ends_at).getTime() > Date.now());
    $("sweep-disclosure").hidden = !active;
    if (!active) return;
    setText($("sweep-disclosure-text"), tf("disclosure_on", { until: formatTime(d.ends_at, new Date()) }));
    setText($("sweep-disclosure-detail"), tf("disclosure_detail", { reason: d.reason, by: d.declared_by }));
  }

  // Keyed update: chips stay the same elements while only their counts change (keeps focus).
  function renderDistrictChips(safety) {
    const box = $("sweep-districts");
    const wanted = safety.map((d) => d.district);
    const have = Array.from(box.children).map((b) => b.dataset.district);
    if (wanted.length !== have.length || wanted.some((d, i) => d !== have[i])) {
      const focused = box.contains(document.activeElement) ? document.activeElement.dataset.district : null;
      const frag = document.createDocumentFragment();
      for (const d of wanted) {
        const b = el("button", "district-chip");
        b.type = "button";
        b.dataset.district = d;
        b.append(el("span", "chip-name"), el("span", "chip-count"));
        frag.appendChild(b);
      }
      box.replaceChildren(frag);
      if (focused !== null) {
        const again = Array.from(box.children).find((b) => b.dataset.district === focused);
        if (again) again.focus();
      }
    }
    Array.from(box.children).forEach((b, i) => {
      const d = safety[i];
      const n = (d.by_status && d.by_status.unconfirmed) || 0;
      setText(b.firstChild, d.district || t("district_none"));
      setText(b.lastChild, tf("district_unconfirmed", { n }));
      b.classList.toggle("has-unconfirmed", n > 0);
      b.setAttribute("aria-pressed", d.district === sweep.district ? "true" : "false");
      b.title = t("col_total") + " " + d.total;
    });
  }

  function renderSweepList() {
    const list = $("sweep-list");
    for (const [id, li] of sweep.rows) {
      if (!sweep.entries.has(id)) { li.remove(); sweep.rows.delete(id); }
    }
    let prev = null;
    for (const id of sweep.order) {
      const e = sweep.entries.get(id);
      if (!e) continue;
      let li = sweep.rows.get(id);
      if (!li) { li = buildPersonRow(id); sweep.rows.set(id, li); }
      updatePersonRow(li, e);
      const want = prev ? prev.nextSibling : list.firstChild;
      if (li !== want) list.insertBefore(li, want);
      prev = li;
    }
  }

  function actionButton(cls, action, status) {
    const b = el("button", "btn " + cls);
    b.type = "button";
    b.dataset.action = action;
    if (status) { b.dataset.status = status; b.classList.add("status-" + status); }
    return b;
  }

  // One person's card; its parts are kept in li._r and filled by updatePersonRow.
  function buildPersonRow(id) {
    const li = el("li", "person");
    li.dataset.residentId = id;
    const r = {};
    const main = el("div", "person-main");
    const head = el("div", "person-head");
    r.name = el("h3", "person-name");
    r.badge = el("span", "status-badge");
    head.append(r.name, r.badge);
    r.sub = el("p", "person-sub");
    r.flags = el("p", "person-flags");
    r.facts = el("dl", "person-facts");
    r.gone = el("p", "person-gone");
    main.append(head, r.sub, r.flags, r.facts, r.gone);

    const actions = el("div", "person-actions");
    r.buttons = el("div", "status-buttons");
    r.statusButtons = QUICK_STATUSES.map((s) => actionButton("status-btn", "status", s));
    r.buttons.append(...r.statusButtons);
    const row = el("div", "action-row");
    r.note = el("input", "person-note");
    r.note.type = "text";
    r.note.maxLength = 1000;
    r.note.autocomplete = "off";
    r.deceased = actionButton("btn-quiet deceased-btn", "deceased", null);
    r.historyBtn = actionButton("btn-quiet history-btn", "history", null);
    r.historyBtn.setAttribute("aria-controls", "history-" + id);
    row.append(r.note, r.deceased, r.historyBtn);
    r.confirm = el("div", "confirm-box deceased-confirm");
    r.confirm.setAttribute("role", "alertdialog");
    r.confirmText = el("p");
    const cb = el("div", "confirm-buttons");
    r.confirmYes = actionButton("btn-danger", "deceased-yes", null);
    r.confirmNo = actionButton("btn-secondary", "deceased-no", null);
    cb.append(r.confirmYes, r.confirmNo);
    r.confirm.append(r.confirmText, cb);
    r.error = el("p", "error person-error");
    r.error.setAttribute("role", "alert");
    actions.append(r.buttons, row, r.confirm, r.error);

    r.history = el("div", "person-history");
    r.history.id = "history-" + id;
    r.historyTitle = el("h4");
    r.historyList = el("ol", "history-list");
    r.historyMsg = el("p", "notice");
    r.history.append(r.historyTitle, r.historyMsg, r.historyList);

    li.append(main, actions, r.history);
    li._r = r;
    return li;
  }

  function fact(dl, label, value) {
    if (value === null || value === undefined || value === "") return;
    const wrap = el("div", "fact");
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    wrap.append(el("dt", null, label), dd);
    dl.appendChild(wrap);
  }

  function updatePersonRow(li, e) {
    const p = e.person;
    const r = li._r;
    const act = currentActivation();
    const closed = !act || act.status === "closed";
    const shown = e.pending || e.status;
    li.dataset.status = shown;
    li.classList.toggle("is-pending", !!e.pending);
    li.classList.toggle("is-gone", e.gone);
    setText(r.name, p.name);
    r.badge.dataset.status = shown;
    setText(r.badge, t("status_" + shown) + (e.pending ? " — " + t("sending") : ""));

    const now = new Date();
    const age = ageOn(p.birth_date, now);
    const sub = [p.name_kana, p.sex === "male" ? t("sex_male") : p.sex === "female" ? t("sex_female") : null,
      age === null ? null : tf("person_age", { age })].filter(Boolean).join("・");
    setText(r.sub, sub);
    const flags = [];
    if (p.consent !== true) flags.push(t("no_consent"));
    if (p.removed) flags.push(t("removed_badge"));
    setText(r.flags, flags.join("　"));
    r.flags.hidden = flags.length === 0;

    const factsKey = JSON.stringify([lang, p.postal_code, p.address, p.phone, p.care_level, p.disability,
      p.support_reasons, p.supporters, p.designated_shelter, p.notes, p.birth_date]);
    if (r.facts.dataset.key !== factsKey) {
      r.facts.dataset.key = factsKey;
      r.facts.replaceChildren();
      fact(r.facts, t("person_address"), (p.postal_code ? "〒" + p.postal_code + " " : "") + (p.address || ""));
      if (p.phone) {
        const href = telHref(p.phone);
        let node = p.phone;
        if (href) { node = el("a", "tel", p.phone); node.href = href; }
        fact(r.facts, t("person_phone"), node);
      }
      fact(r.facts, t("person_care"), [p.care_level, p.disability].filter(Boolean).join(" ／ "));
      fact(r.facts, t("person_reasons"), p.support_reasons);
      fact(r.facts, t("person_supporters"), p.supporters);
      fact(r.facts, t("person_shelter"), p.designated_shelter);
      fact(r.facts, t("person_notes"), p.notes);
      fact(r.facts, t("person_birth"), p.birth_date);
    }
    setText(r.gone, e.gone ? t("filtered_out") : "");
    r.gone.hidden = !e.gone;

    const disabled = closed || !!e.pending || !!p.removed;
    r.statusButtons.forEach((b) => {
      setText(b, t("status_" + b.dataset.status));
      b.disabled = disabled;
      b.setAttribute("aria-pressed", shown === b.dataset.status ? "true" : "false");
    });
    const noteLabel = t("note_label");
    if (r.note.placeholder !== noteLabel) { r.note.placeholder = noteLabel; r.note.setAttribute("aria-label", p.name + " " + noteLabel); }
    r.note.disabled = disabled;
    setText(r.deceased, shown === "deceased" ? t("status_deceased") : t("btn_deceased"));
    r.deceased.disabled = disabled;
    r.deceased.setAttribute("aria-pressed", shown === "deceased" ? "true" : "false");
    r.confirm.hidden = !e.confirmDeceased || disabled;
    setText(r.confirmText, t("deceased_confirm"));
    setText(r.confirmYes, t("deceased_yes"));
    setText(r.confirmNo, t("cancel"));
    const errText = e.error ? t(e.error.key) + (e.error.extra ? "（" + e.error.extra + "）" : "") : "";
    setText(r.error, errText);

    setText(r.historyBtn, t("history_show"));
    r.historyBtn.setAttribute("aria-expanded", e.expanded ? "true" : "false");
    r.history.hidden = !e.expanded;
    if (e.expanded) renderHistory(r, e);
  }

  function renderHistory(r, e) {
    setText(r.historyTitle, t("history_title"));
    const msg = e.historyState === "error" ? t("history_failed")
      : e.historyState === "loading" && !e.history ? t("loading")
      : e.history && e.history.length === 0 ? t("history_empty") : "";
    setText(r.historyMsg, msg);
    r.historyMsg.hidden = msg === "";
    const key = JSON.stringify([lang, e.history]);
    if (r.historyList.dataset.key === key) return;
    r.historyList.dataset.key = key;
    const now = new Date();
    const frag = document.createDocumentFragment();
    // Newest first: the latest check is what a caller asks about.
    for (const c of (e.history || []).slice().reverse()) {
      const item = el("li", "history-item");
      const time = el("time", "history-time", formatTime(c.checked_at, now));
      time.dateTime = c.checked_at;
      const badge = el("span", "status-badge", t("status_" + c.status));
      badge.dataset.status = c.status;
      item.append(time, badge, el("span", "history-by", c.checked_by));
      if (c.note) item.appendChild(el("span", "history-note", c.note));
      frag.appendChild(item);
    }
    r.historyList.replaceChildren(frag);
  }

  function updateEntry(id) {
    const e = sweep.entries.get(id);
    const li = sweep.rows.get(id);
    if (e && li) updatePersonRow(li, e);
  }

  function onSweepListClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    if (!btn || btn.disabled) return;
    const li = btn.closest("li.person");
    const id = li && li.dataset.residentId;
    const e = id && sweep.entries.get(id);
    if (!e) return;
    const action = btn.dataset.action;
    if (action === "status") recordStatus(id, btn.dataset.status);
    else if (action === "deceased") {
      e.confirmDeceased = true;
      updateEntry(id);
      li._r.confirmYes.focus();
    } else if (action === "deceased-yes") {
      e.confirmDeceased = false;
      recordStatus(id, "deceased");
    } else if (action === "deceased-no") {
      e.confirmDeceased = false;
      updateEntry(id);
      li._r.deceased.focus();
    } else if (action === "history") {
      e.expanded = !e.expanded;
      updateEntry(id);
      if (e.expanded) loadHistory(id);
    }
  }

  // Optimistic: the row shows the new status at once (marked as sending), then the server's
  // answer confirms it or puts the old status back with the reason.
  async function recordStatus(id, status) {
    const e = sweep.entries.get(id);
    const li = sweep.rows.get(id);
    if (!e || !li || e.pending) return;
    const act = currentActivation();
    if (!act || act.status === "closed") { e.error = { key: "safety_closed" }; updateEntry(id); return; }
    const note = li._r.note.value;
    e.pending = status;
    e.error = null;
    updateEntry(id);
    let r = null;
    try {
      r = await api("POST", "/api/activations/" + encodeURIComponent(act.id) + "/safety",
        { resident_id: id, status, note });
    } catch (_) { r = null; }
    if (sweep.entries.get(id) !== e) return;   // another activation, district or filter meanwhile
    e.pending = null;
    if (r && r.status === 201 && r.data) {
      e.status = r.data.status || status;
      sweep.writes += 1;
      e.lastWrite = sweep.writes;
      if (li._r.note.value === note) li._r.note.value = "";
      if (e.expanded) loadHistory(id);
    } else if (!r) e.error = { key: "safety_network" };
    else if (r.status === 401) { showLogin("session_expired"); return; }
    else if (r.status === 400) e.error = { key: "safety_invalid", extra: serverError(r) };
    else if (r.status === 403) e.error = { key: "safety_forbidden" };
    else if (r.status === 404) e.error = { key: "safety_not_found" };
    else if (r.status === 409) {
      const text = serverError(r);
      e.error = /closed/.test(text) ? { key: "safety_closed" } : { key: "safety_conflict", extra: text };
    } else e.error = { key: "safety_failed", extra: serverError(r) };
    updateEntry(id);
  }

  async function loadHistory(id) {
    const e = sweep.entries.get(id);
    if (!e || app.activationId === null) return;
    e.historyState = "loading";
    updateEntry(id);
    let r = null;
    try {
      r = await api("GET", "/api/register/persons/" + encodeURIComponent(id) + "?activation=" + encodeURIComponent(app.activationId));
    } catch (_) { r = null; }
    if (sweep.entries.get(id) !== e) return;
    if (r && r.status === 401) { showLogin("session_expired"); return; }
    if (r && r.status === 200 && r.data) {
      e.history = Array.isArray(r.data.safety_history) ? r.data.safety_history : [];
      e.historyState = "ok";
    } else {
      e.historyState = "error";
    }
    updateEntry(id);
  }

  /* ---------- 名簿取込: upload, preview, commit ---------- */

  function resetImport() {
    imp.token += 1;
    Object.assign(imp, { file: null, busy: null, report: null, phase: null, error: null, confirming: false });
    const input = $("import-file");
    if (input) input.value = "";
  }

  function onImportFileChange() {
    const files = $("import-file").files;
    imp.token += 1;
    Object.assign(imp, { file: files && files[0] ? files[0] : null, busy: null, report: null, phase: null,
      error: null, confirming: false });
    renderImport();
    if (imp.file) runImport(false, false);
  }

  // commit false: a dry run (preview). The raw file is the body; the server decodes it.
  async function runImport(commit, allowInvalid) {
    if (!imp.file || imp.busy) return;
    const params = [];
    if (!commit) params.push("dry_run=true");
    if (allowInvalid) params.push("allow_invalid=true");
    params.push("encoding=" + encodeURIComponent($("import-encoding").value));
    const token = ++imp.token;
    Object.assign(imp, { busy: commit ? "commit" : "preview", error: null, confirming: false });
    if (!commit) imp.report = null;
    renderImport();
    let status = 0;
    let data = null;
    try {
      // With a header mapping, file and mapping go as a form; without, the file is the body.
      const mapping = $("import-mapping").files && $("import-mapping").files[0];
      let body = imp.file;
      const headers = { Accept: "application/json" };
      if (mapping) {
        body = new FormData();
        body.append("file", imp.file);
        body.append("mapping", mapping);
      } else {
        headers["Content-Type"] = "text/csv";
      }
      const res = await fetch("/api/register/imports?" + params.join("&"), {
        method: "POST", body, credentials: "same-origin", headers,
      });
      status = res.status;
      try { data = await res.json(); } catch (_) { data = null; }
    } catch (_) {
      status = 0;
    }
    if (token !== imp.token || !app.me) return;   // another file was chosen meanwhile
    imp.busy = null;
    const r = { status, data };
    if (status === 200 && data) {
      imp.report = data;
      imp.phase = data.committed ? "done" : "preview";
      if (data.committed) { imp.file = null; $("import-file").value = ""; }
    } else if (status === 422 && data && Array.isArray(data.invalid)) {
      imp.report = data;
      imp.phase = "refused";
    } else if (status === 0) imp.error = { key: "import_network" };
    else if (status === 401) { showLogin("session_expired"); return; }
    else if (status === 400) {
      imp.error = { key: data && data.field === "encoding" ? "import_encoding_bad" : "import_refused", extra: serverError(r) };
      if (!commit) imp.report = null;
    } else if (status === 403) imp.error = { key: "import_forbidden" };
    else if (status === 413) imp.error = { key: "import_too_large" };
    else imp.error = { key: "import_failed", extra: serverError(r) };
    renderImport();
    if (imp.phase === "done") $("import-done").focus();
    else if (imp.error) $("import-error").focus();
  }

  const IMPORT_ROWS_SHOWN = 500;

  function renderImport() {
    if (!app.me) return;
    const busy = !!imp.busy;
    $("import-file").disabled = busy;
    $("import-encoding").disabled = busy;
    $("import-mapping").disabled = busy;
    $("import-preview").disabled = busy || !imp.file;
    $("import-file-name").classList.toggle("none", !imp.file);
    setText($("import-file-name"), imp.file ? imp.file.name + "（" + fileSize(imp.file.size) + "）" : t("import_no_file"));
    $("import-busy").hidden = !busy;
    setText($("import-busy"), busy ? t(imp.busy === "commit" ? "import_committing" : "import_previewing") : "");
    $("import-error").hidden = !imp.error;
    setText($("import-error-title"), imp.error ? t(imp.error.key) : "");
    setText($("import-error-detail"), imp.error && imp.error.extra ? imp.error.extra : "");

    const rep = imp.report;
    $("import-report").hidden = !rep;
    if (!rep) return;
    const done = imp.phase === "done";
    const lines = invalidLines(rep);
    $("import-done").hidden = !done;
    setText($("import-done-id"), done && rep.import_id !== undefined ? tf("import_done_id", { id: rep.import_id }) : "");
    setText($("import-report-title"), t(done ? "import_done_title" : imp.phase === "refused" ? "import_refused_title" : "import_preview_title"));
    setText($("import-detected"), encodingLabel(rep.encoding));
    setText($("import-rows"), rep.rows);
    setText($("import-new"), rep.new);
    setText($("import-updated-count"), (rep.updated || []).length);
    setText($("import-unchanged"), rep.unchanged);
    setText($("import-removed"), rep.removed);
    setText($("import-invalid-count"), lines);
    document.querySelector(".summary-invalid").classList.toggle("has", lines > 0);
    document.querySelector(".summary-removed").classList.toggle("has", rep.removed > 0);
    const removedHint = rep.removed > 0 ? tf("import_removed_hint", { n: rep.removed })
      : rep.removal_skipped ? t("import_removed_hint_invalid") : "";
    setText($("import-removed-hint"), removedHint);
    $("import-removed-hint").hidden = removedHint === "";
    $("import-removed-hint").classList.toggle("warn", rep.removed > 0);

    const updated = rep.updated || [];
    $("import-updated").hidden = updated.length === 0;
    setText($("import-updated-summary"), tf(done ? "import_updated_summary_done" : "import_updated_summary", { n: updated.length }));
    fillTable($("import-updated-body"), updated, (u) => [u.resident_id, u.line,
      (u.fields || []).map((f) => t("field_" + f)).join(t("list_sep"))], ["", "num", ""]);
    const invalid = rep.invalid || [];
    $("import-invalid-section").hidden = invalid.length === 0;
    fillTable($("import-invalid-body"), invalid, (c) => [c.line, c.column, c.value, c.reason], ["num line", "column", "value", "reason"]);
    const unmapped = rep.unmapped_columns || [];
    $("import-unmapped-section").hidden = unmapped.length === 0;
    const frag = document.createDocumentFragment();
    for (const c of unmapped) frag.appendChild(el("li", "chip", c));
    $("import-unmapped").replaceChildren(frag);

    $("import-actions").hidden = done;
    $("import-commit").disabled = busy || lines > 0 || !imp.file;
    const valid = Math.max(0, rep.rows - lines);
    $("import-commit-valid").hidden = lines === 0;
    $("import-commit-valid").disabled = busy || valid === 0 || !imp.file;
    $("import-commit-blocked").hidden = lines === 0;
    $("import-confirm").hidden = !imp.confirming || busy;
    setText($("import-confirm-text"), tf("import_confirm", { lines, valid }));
    $("import-again").hidden = !done;
  }

  function fileSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  // Rows of a report table; at most IMPORT_ROWS_SHOWN, then one row saying how many more.
  function fillTable(tbody, items, cells, classes) {
    const frag = document.createDocumentFragment();
    for (const item of items.slice(0, IMPORT_ROWS_SHOWN)) {
      const tr = el("tr");
      cells(item).forEach((v, i) => tr.appendChild(el("td", classes[i] || null, v)));
      frag.appendChild(tr);
    }
    if (items.length > IMPORT_ROWS_SHOWN) {
      const tr = el("tr", "more");
      const td = el("td", null, tf("more_rows", { n: items.length - IMPORT_ROWS_SHOWN, shown: IMPORT_ROWS_SHOWN }));
      td.colSpan = classes.length;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
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
    for (const e of document.querySelectorAll("[data-i18n-aria-label]")) e.setAttribute("aria-label", t(e.dataset.i18nAriaLabel));
    renderStatusFilter();
    for (const e of document.querySelectorAll("[data-msg-key]")) renderMessage(e);
    const toggle = $("lang-toggle");
    toggle.lang = lang === "ja" ? "en" : "ja";
    toggle.setAttribute("aria-label", t("lang_toggle_label"));
    renderConnState();
    if (app.me) { renderRole(); renderActivationSelect(); renderBoard(); renderImport(); }
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
      if (!app.me) return;
      const h = parseHash(location.hash);
      const view = pickView(app.me.role, h.view);
      // Take the district first, so entering the view or the activation loads the right list once.
      const newDistrict = view === "sweep" && h.district !== null && h.district !== sweep.district;
      if (newDistrict) sweep.district = h.district;
      const newActivation = h.activation !== null && h.activation !== app.activationId &&
        app.activations.some((a) => a.id === h.activation);
      if (newActivation) selectActivation(h.activation, true);
      if (view !== app.view) setView(view, false);
      else if (newDistrict && !newActivation) { syncHash(); renderSweep(); loadSweepList(true); }
    });
    $("tablist").addEventListener("click", (ev) => {
      const tab = ev.target.closest("[role=tab]");
      if (tab) setView(tab.dataset.view, false);
    });
    $("tablist").addEventListener("keydown", onTabKeydown);
    $("sweep-districts").addEventListener("click", (ev) => {
      const chip = ev.target.closest("button[data-district]");
      if (chip) chooseDistrict(chip.dataset.district);
    });
    $("sweep-status").addEventListener("change", (ev) => {
      sweep.status = ev.target.value;
      loadSweepList(true);
    });
    $("sweep-reload").addEventListener("click", () => { loadDisclosure(); loadSweepList(true); });
    $("sweep-list").addEventListener("click", onSweepListClick);
    $("import-form").addEventListener("submit", (ev) => { ev.preventDefault(); runImport(false); });
    $("import-file").addEventListener("change", onImportFileChange);
    $("import-encoding").addEventListener("change", onImportFileChange);
    $("import-mapping").addEventListener("change", onImportFileChange);
    $("import-commit").addEventListener("click", () => runImport(true, false));
    $("import-commit-valid").addEventListener("click", () => {
      imp.confirming = true;
      renderImport();
      $("import-confirm-yes").focus();
    });
    $("import-confirm-yes").addEventListener("click", () => runImport(true, true));
    $("import-confirm-no").addEventListener("click", () => {
      imp.confirming = false;
      renderImport();
      $("import-commit-valid").focus();
    });
    $("import-again").addEventListener("click", () => {
      resetImport();
      renderImport();
      $("import-file").focus();
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
