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
 *   shelters 福祉避難所 coordinator, admin  open/close shelters, assign a person (search ->
 *                                       suggestions -> assign), a district plan (preview -> 確定)
 *   arrivals 受入者一覧 shelter_operator   their own shelter's people; arrival and the rest
 *   import 名簿取込  admin               CSV upload -> dry-run preview -> commit
 *   A role starts on its default view (defaultView: arrivals for operators, else board).
 *   The URL hash remembers them: #activation=3&view=sweep&district=<encoded>. The activation
 *   is written only once the URL came with one or one was chosen (a wall screen's plain URL
 *   keeps following the open activation).
 *
 * Welfare shelters (福祉避難所)
 *   The board state keeps `shelters` (numbers only: capacity, assigned, arrived; never people).
 *   Every shelter event (shelter_opened/closed/changed, assignment_made/updated) carries the
 *   changed shelters in full, so the reducer replaces its copies by id and does no arithmetic.
 *   Lists of people (the operator's 受入者一覧, a coordinator's look at one shelter) come from
 *   the HTTP API only, and are refetched (debounced, SWEEP_REFETCH_MS) when an assignment
 *   event names that shelter (shelter_id or previous_shelter_id) or a fresh snapshot arrives.
 *   The operator's status taps are optimistic like the sweep's: the row shows the new status
 *   marked "sending" until the answer confirms it or puts the old one back with the reason.
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
 *   tabs:    #tabs #tab-board #tab-sweep #tab-shelters #tab-arrivals #tab-import;
 *            panels #board #sweep-view #shelters-view #arrivals-view #import-view
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
 *   board shelters: #shelters-board #shelters-board-empty #shelter-cards >
 *            li.shelter-card[data-shelter-id][data-status][data-capacity][data-assigned]
 *            [data-arrived][data-free] (class is-full, is-over) with .shelter-card-name,
 *            .shelter-status-badge, .num-capacity .num-assigned .num-arrived .num-free .num-over
 *   shelters (coordinator, admin; tab #tab-shelters, panel #shelters-view):
 *            #shelters-no-activation #shelters-closed #shelters-empty #shelter-rows >
 *            li.shelter-row[data-shelter-id][data-status] with .shelter-status-badge .shelter-nums
 *            input.open-capacity button.shelter-open-btn button.shelter-close-btn
 *            .close-confirm [data-action=close-yes|close-no] a.shelter-print a.shelter-csv
 *            button.shelter-people-btn .shelter-error .shelter-people (ul.assigned-list >
 *            li.assigned-person[data-resident-id][data-status], .people-note)
 *            assign: #assign-form #assign-q #assign-district #assign-search #assign-search-error
 *            #assign-results > li.candidate[data-resident-id] (.candidate-assignment,
 *            button.pick-btn) #assign-results-note
 *            #assign-person #assign-person-name #assign-person-facts #assign-current
 *            #assign-reason #assign-suggestions > li.suggestion[data-shelter-id][data-available]
 *            (.reason-chip[data-code], button.assign-btn) #assign-suggestions-empty
 *            #assign-error #assign-done #assign-override #assign-override-text
 *            #assign-override-reason #assign-override-yes #assign-override-no
 *            #assign-other #assign-other-shelter #assign-other-btn (admin)
 *            #assign-history > li.history-item
 *            plan: #plan-form #plan-district #plan-preview #plan-busy #plan-error #plan-result
 *            #plan-summary #plan-body > tr.plan-row[data-resident-id] #plan-unplaced
 *            #plan-unplaced-body #plan-skipped #plan-confirm #plan-done
 *   arrivals (shelter_operator; tab #tab-arrivals, panel #arrivals-view):
 *            #arrivals-no-shelter #arrivals-no-activation #arrivals-closed #arrivals-shelter
 *            #arrivals-shelter-name #arrivals-shelter-status[data-status] #arrivals-count-capacity
 *            #arrivals-count-assigned #arrivals-count-arrived #arrivals-count-free
 *            #arrivals-capacity #arrivals-open #arrivals-close #arrivals-close-confirm
 *            #arrivals-close-yes #arrivals-close-no #arrivals-shelter-error #arrivals-print
 *            #arrivals-csv #arrivals-reload #arrivals-summary #arrivals-hidden #arrivals-loading
 *            #arrivals-error #arrivals-empty #arrivals-list >
 *            li.arrival[data-assignment-id][data-resident-id][data-status] (class is-pending)
 *            with .status-badge, a.tel, button.arrival-btn[data-status], .arrival-note,
 *            .transfer-box button.destination-btn[data-destination][aria-pressed]
 *            [data-action=transfer-yes|transfer-no], .arrival-error, .arrival-updates li
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
      tab_shelters: "福祉避難所", tab_arrivals: "受入者一覧",
      shelters_title: "福祉避難所", shelters_empty: "福祉避難所が登録されていません",
      shelter_status_open: "開設中", shelter_status_closed: "閉鎖", shelter_status_not_opened: "未開設",
      shelter_capacity: "定員", shelter_assigned: "受入予定", shelter_arrived: "到着済", shelter_free: "空き",
      shelter_over: "超過 {n}", shelter_full: "満員",
      shelter_numbers: "定員 {capacity}／受入予定 {assigned}／到着済 {arrived}／空き {free}",
      shelters_no_activation: "活動を選んでください（福祉避難所は活動ごとに開設します）",
      shelters_closed_activation: "この活動は終了しているため、開設・閉鎖・割当はできません",
      shelters_list_title: "避難所の開設・閉鎖",
      open_capacity: "この活動の定員（任意）", open_capacity_hint: "空欄なら登録の定員 {n}人",
      btn_open: "開設", btn_change_capacity: "定員を変更", btn_close: "閉鎖…", close_yes: "閉鎖する",
      close_confirm: "「{name}」を閉鎖します。新しい割当はできなくなります（受入済みの方の記録はそのままです）。閉鎖しますか？",
      shelter_print: "受入者一覧を印刷", shelter_csv: "CSV出力", btn_people_show: "受入者を見る",
      capacity_invalid: "定員は0〜100000の整数で入力してください",
      capacity_needed: "変更後の定員を入力してください",
      open_failed: "開設できませんでした", close_failed: "閉鎖できませんでした",
      people_empty: "割り当てられた方はいません",
      people_hidden: "情報提供に同意していない方 {n}人は表示されていません",
      people_failed: "受入者一覧を読み込めませんでした",
      assign_title: "要支援者を割り当てる", assign_q: "氏名・フリガナ・住所の一部",
      assign_q_placeholder: "例：大倉、オオクラ、大倉山1丁目", assign_district_all: "すべての地区",
      assign_search: "検索", assign_search_needed: "氏名・フリガナ・住所の一部を入力するか、地区を選んでください",
      assign_results_empty: "該当する方はいません", assign_results_more: "ほか {n}人（条件を絞ってください）",
      assign_pick: "選ぶ", assign_picked: "選択中", assign_current: "現在の割当", assign_none: "まだ割り当てられていません",
      assign_reason: "割当の理由（任意・受入先に伝わります）",
      assign_suggestions: "割当先の候補（おすすめ順）", assign_no_suggestions: "開設中の福祉避難所がありません",
      assign_btn: "ここに割り当てる", assign_btn_full: "満員", assign_btn_current: "割当済",
      assign_btn_override: "満員：理由を書いて割り当てる",
      assign_designated: "個別避難計画の避難先", assign_rank: "{n}位",
      assign_default_reason: "提案どおり",
      assign_done: "{name}さんを「{shelter}」に割り当てました",
      assign_override_text: "「{shelter}」は{why}。管理者の判断で割り当てる理由を入力してください",
      assign_why_full: "満員です", assign_why_closed: "開設されていません",
      assign_override_reason: "理由（必須・記録されます）", assign_override_yes: "理由を記録して割り当てる",
      assign_override_empty: "割り当てる理由を入力してください",
      assign_other: "開設されていない避難所に割り当てる（管理者）", assign_other_btn: "理由を書いて割り当てる",
      assign_history: "割当の履歴", assign_history_empty: "割当の履歴はありません", assign_superseded: "変更済",
      assign_failed: "割り当てられませんでした", suggest_failed: "候補を読み込めませんでした",
      search_failed: "検索できませんでした", assign_sending: "割り当てています…",
      assignment_status_assigned: "受入予定", assignment_status_arrived: "到着", assignment_status_not_arrived: "未到着",
      assignment_status_left: "退所", assignment_status_transferred: "移送",
      plan_title: "地区ごとの一括割当", plan_district: "地区", plan_preview: "割当案を作る（プレビュー）",
      plan_hint: "割当案を作るだけでは何も割り当てられません。内容を確かめてから確定してください。",
      plan_previewing: "割当案を作っています…", plan_confirming: "確定しています…",
      plan_summary: "{district}：割当 {placed}人／割当先なし {unplaced}人",
      plan_skipped: "対象外：{list}", plan_hidden: "表示できない方 {n}人（同意なし、または訓練で割当できない方）",
      plan_skip_already_assigned: "割当済",
      plan_confirm: "この内容で確定する（{n}人）", plan_empty: "この地区で新たに割り当てる方はいません",
      plan_done: "{n}人の割当を確定しました",
      plan_stale: "状況が変わったため確定できませんでした（何も割り当てられていません）。もう一度プレビューしてください",
      plan_failed: "割当案を作れませんでした", plan_confirm_failed: "確定できませんでした",
      plan_unplaced_title: "割当先が見つからない方",
      col_name: "氏名", col_shelter: "割当先", col_reasons: "理由", col_why: "割当できない理由",
      arrivals_title: "受入者一覧",
      arrivals_no_shelter: "担当の福祉避難所が設定されていません。システム管理者に連絡してください",
      arrivals_no_activation: "活動を選んでください",
      arrivals_closed: "この活動は終了しているため、記録できません",
      arrivals_summary: "{n}人（受入予定 {assigned}／到着 {arrived}／その他 {other}）",
      arrivals_empty: "まだ割り当てられた方はいません", arrivals_reload: "一覧を更新",
      btn_arrived: "到着", btn_not_arrived: "未到着", btn_left: "退所", btn_transferred: "移送…",
      transfer_title: "移送先を選んでください", transfer_yes: "移送を記録する", transfer_pick: "移送先を選んでください",
      dest_hospital: "病院", dest_other_shelter: "他の避難所", dest_home: "自宅", dest_other: "その他",
      person_assign_reason: "割当の理由", person_assigned: "割当", person_district: "地区", person_safety: "安否",
      updates_title: "記録", record_failed: "記録できませんでした",
      request_network: "サーバーに接続できませんでした", request_forbidden: "この操作をする権限がありません",
      request_not_found: "見つかりません（名簿から外れたか、閲覧できません）", request_invalid: "入力内容に誤りがあります",
      conflict_shelter_full: "満員です", conflict_shelter_closed: "この避難所は開設されていません",
      conflict_already_assigned: "すでにこの避難所に割り当てられています",
      conflict_consent_required: "訓練では情報提供に同意した方だけ割り当てられます",
      conflict_person_removed: "この方は名簿から削除されています", conflict_activation_closed: "この活動は終了しています",
      conflict_assignment_superseded: "この方は別の避難所に割り当て直されました",
      conflict_shelter_not_open: "この避難所は開設されていません",
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
      tab_shelters: "Welfare shelters", tab_arrivals: "Arrivals",
      shelters_title: "Welfare shelters (福祉避難所)", shelters_empty: "No welfare shelter is registered",
      shelter_status_open: "Open", shelter_status_closed: "Closed", shelter_status_not_opened: "Not opened",
      shelter_capacity: "Capacity", shelter_assigned: "Expected", shelter_arrived: "Arrived", shelter_free: "Free",
      shelter_over: "{n} over", shelter_full: "Full",
      shelter_numbers: "capacity {capacity} / expected {assigned} / arrived {arrived} / free {free}",
      shelters_no_activation: "Choose an activation (shelters are opened per activation)",
      shelters_closed_activation: "This activation is closed; shelters cannot be opened, closed or assigned",
      shelters_list_title: "Open and close shelters",
      open_capacity: "Capacity for this activation (optional)", open_capacity_hint: "Blank: the registered {n}",
      btn_open: "Open", btn_change_capacity: "Change capacity", btn_close: "Close…", close_yes: "Close it",
      close_confirm: "Close \u201c{name}\u201d? Nobody new can be assigned to it (people already there keep their records).",
      shelter_print: "Print the list", shelter_csv: "Export CSV", btn_people_show: "People",
      capacity_invalid: "Capacity is a whole number from 0 to 100000",
      capacity_needed: "Enter the new capacity",
      open_failed: "Could not open the shelter", close_failed: "Could not close the shelter",
      people_empty: "Nobody is assigned here",
      people_hidden: "{n} people who did not consent to sharing are not shown",
      people_failed: "Could not load the people of this shelter",
      assign_title: "Assign a person", assign_q: "Part of a name, kana or address",
      assign_q_placeholder: "e.g. 大倉, オオクラ, 大倉山1丁目", assign_district_all: "All districts",
      assign_search: "Search", assign_search_needed: "Type part of a name, kana or address, or choose a district",
      assign_results_empty: "Nobody matches", assign_results_more: "{n} more (narrow the search)",
      assign_pick: "Choose", assign_picked: "Chosen", assign_current: "Current assignment", assign_none: "Not assigned yet",
      assign_reason: "Reason (optional; the shelter sees it)",
      assign_suggestions: "Suggested shelters (best first)", assign_no_suggestions: "No welfare shelter is open",
      assign_btn: "Assign here", assign_btn_full: "Full", assign_btn_current: "Assigned here",
      assign_btn_override: "Full: assign with a reason",
      assign_designated: "Shelter of the evacuation plan", assign_rank: "#{n}",
      assign_default_reason: "As suggested",
      assign_done: "{name} was assigned to \u201c{shelter}\u201d",
      assign_override_text: "\u201c{shelter}\u201d {why}. Give the reason for assigning anyway",
      assign_why_full: "is full", assign_why_closed: "is not open",
      assign_override_reason: "Reason (required; it is recorded)", assign_override_yes: "Record the reason and assign",
      assign_override_empty: "Enter the reason",
      assign_other: "Assign to a shelter that is not open (administrators)", assign_other_btn: "Assign with a reason",
      assign_history: "Assignment history", assign_history_empty: "No assignments yet", assign_superseded: "superseded",
      assign_failed: "Could not assign", suggest_failed: "Could not load the suggestions",
      search_failed: "Could not search", assign_sending: "Assigning…",
      assignment_status_assigned: "Expected", assignment_status_arrived: "Arrived", assignment_status_not_arrived: "Did not arrive",
      assignment_status_left: "Left", assignment_status_transferred: "Transferred",
      plan_title: "Assign a whole district", plan_district: "District", plan_preview: "Make a plan (preview)",
      plan_hint: "A plan assigns nobody. Check it, then confirm.",
      plan_previewing: "Making the plan…", plan_confirming: "Confirming…",
      plan_summary: "{district}: {placed} placed / {unplaced} without a place",
      plan_skipped: "Left out: {list}", plan_hidden: "{n} people not shown (no consent, or not assignable in a drill)",
      plan_skip_already_assigned: "already assigned",
      plan_confirm: "Confirm this plan ({n} people)", plan_empty: "Nobody in this district needs a new place",
      plan_done: "{n} assignments confirmed",
      plan_stale: "Things changed, so the plan was not confirmed (nobody was assigned). Make the plan again",
      plan_failed: "Could not make the plan", plan_confirm_failed: "Could not confirm",
      plan_unplaced_title: "No place found",
      col_name: "Name", col_shelter: "Shelter", col_reasons: "Why", col_why: "Why not placed",
      arrivals_title: "Arrivals",
      arrivals_no_shelter: "No shelter is set for your account. Contact the administrator",
      arrivals_no_activation: "Choose an activation",
      arrivals_closed: "This activation is closed; nothing can be recorded",
      arrivals_summary: "{n} people ({assigned} expected / {arrived} arrived / {other} other)",
      arrivals_empty: "Nobody has been assigned yet", arrivals_reload: "Refresh list",
      btn_arrived: "Arrived", btn_not_arrived: "Did not arrive", btn_left: "Left", btn_transferred: "Transfer…",
      transfer_title: "Where to?", transfer_yes: "Record the transfer", transfer_pick: "Choose where the person went",
      dest_hospital: "Hospital", dest_other_shelter: "Another shelter", dest_home: "Home", dest_other: "Other",
      person_assign_reason: "Reason for assignment", person_assigned: "Assigned", person_district: "District",
      person_safety: "Safety status",
      updates_title: "Records", record_failed: "Could not record",
      request_network: "Cannot reach the server", request_forbidden: "You are not allowed to do this",
      request_not_found: "Not found (removed from the register, or not visible to you)", request_invalid: "The input was rejected",
      conflict_shelter_full: "The shelter is full", conflict_shelter_closed: "The shelter is not open",
      conflict_already_assigned: "Already assigned to this shelter",
      conflict_consent_required: "In a drill only people who consented can be assigned",
      conflict_person_removed: "This person was removed from the register", conflict_activation_closed: "This activation is closed",
      conflict_assignment_superseded: "This person has since been assigned elsewhere",
      conflict_shelter_not_open: "The shelter is not open",
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
    const shelters = Array.isArray(d.shelters) ? d.shelters.slice() : [];
    return { activation: d.activation || null, announcements, counts, safety, shelters, lastSeq: msg.seq };
  }

  // Shelters: full states {id, name, status, capacity, assigned, arrived, ...}. An event's
  // states replace the copies of the same id in place (the list keeps the snapshot's order);
  // a shelter not seen before is added at the end.
  function withShelters(shelters, changed) {
    const out = (shelters || []).slice();
    for (const s of changed || []) {
      if (!s || typeof s !== "object" || s.id === undefined || s.id === null) continue;
      const i = out.findIndex((x) => x.id === s.id);
      if (i >= 0) out[i] = s; else out.push(s);
    }
    return out;
  }

  // The places of a shelter. free = capacity − assigned − arrived; past capacity (an admin's
  // override) it shows 0 free and how many over.
  function shelterPlaces(s) {
    const capacity = (s && s.capacity) || 0;
    const assigned = (s && s.assigned) || 0;
    const arrived = (s && s.arrived) || 0;
    const left = capacity - assigned - arrived;
    return { capacity, assigned, arrived, free: Math.max(0, left), over: Math.max(0, -left), full: left <= 0 };
  }

  function onShelterEvent(state, data) {
    if (!data || !Array.isArray(data.shelters)) return state;
    return Object.assign({}, state, { shelters: withShelters(state.shelters, data.shelters) });
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
    shelter_opened: onShelterEvent,
    shelter_closed: onShelterEvent,
    shelter_changed: onShelterEvent,
    assignment_made: onShelterEvent,
    assignment_updated: onShelterEvent,
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
  // `panel` is the element shown for the view.
  const VIEWS = [
    { name: "board", roles: null, panel: "board" },
    { name: "sweep", roles: ["coordinator", "admin"], panel: "sweep-view" },
    { name: "shelters", roles: ["coordinator", "admin"], panel: "shelters-view" },
    { name: "arrivals", roles: ["shelter_operator"], panel: "arrivals-view" },
    { name: "import", roles: ["admin"], panel: "import-view" },
  ];

  function viewsFor(role) {
    return VIEWS.filter((v) => v.roles === null || v.roles.indexOf(role) >= 0).map((v) => v.name);
  }

  // Where a role starts: an operator's work is their shelter's list, everyone else's the board.
  function defaultView(role) {
    return role === "shelter_operator" ? "arrivals" : "board";
  }

  function pickView(role, wanted) {
    return wanted && viewsFor(role).indexOf(wanted) >= 0 ? wanted : defaultView(role);
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

  // The inverse of parseHash; "" when there is nothing to remember. The view is left out when
  // it is the role's default (h.defaultView, "board" when not given).
  function buildHash(h) {
    const parts = [];
    if (h.activation !== null && h.activation !== undefined) parts.push("activation=" + h.activation);
    if (h.view && h.view !== (h.defaultView || "board")) parts.push("view=" + h.view);
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

  // Whether a board message may have changed the people list of shelter `shelterId`: an
  // assignment to it or away from it, a new register (names, addresses), or a fresh snapshot.
  function affectsShelter(msg, shelterId) {
    if (!msg || shelterId === null || shelterId === undefined) return false;
    if (msg.type === "snapshot" || msg.type === "register_imported") return true;
    if (msg.type === "assignment_made" || msg.type === "assignment_updated") {
      return !!msg.data && (msg.data.shelter_id === shelterId || msg.data.previous_shelter_id === shelterId);
    }
    return false;
  }

  // The statuses an operator records, and where a transferred person can go.
  const ARRIVAL_STATUSES = ["arrived", "not_arrived", "left", "transferred"];
  const DESTINATIONS = ["hospital", "other_shelter", "home", "other"];

  // A capacity typed for an opening: null when blank, a number, or NaN when not acceptable.
  function parseCapacity(text) {
    const v = String(text === undefined || text === null ? "" : text).trim()
      .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
    if (v === "") return null;
    if (!/^\d{1,6}$/.test(v)) return NaN;
    const n = Number(v);
    return n <= 100000 ? n : NaN;
  }

  // The words of a suggestion that say why it fits, as the reason stored with an assignment.
  function suggestionReason(sug) {
    const keep = ["designated", "category_fit", "missing"];
    return ((sug && sug.reasons) || []).filter((r) => keep.indexOf(r.code) >= 0).map((r) => r.text).join("・");
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
    withShelters, shelterPlaces, affectsShelter, defaultView, parseCapacity, suggestionReason,
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
    view: "board",         // the tab shown: "board" | "sweep" | "shelters" | "arrivals" | "import" (see VIEWS)
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
    resetShelters();
    resetArrivals();
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
    if (changed) { resetSweep(false); resetShelters(); resetArrivals(); }
    renderBoard();
    if (id !== null) connect();
    if (changed) enterView(app.view);
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
    sheltersOnBoardMessage(msg, hadState);
    arrivalsOnBoardMessage(msg, hadState);
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
    renderShelterCards();
    renderAnnounceForm();
    renderConnState();
    if (app.view === "sweep") renderSweep();
    else if (app.view === "shelters") renderShelters();
    else if (app.view === "arrivals") renderArrivals();
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
    for (const v of VIEWS) $(v.panel).hidden = app.view !== v.name;
    document.body.dataset.view = app.view;
  }

  function setView(view, focusTab) {
    const v = pickView(app.me && app.me.role, view);
    const changed = v !== app.view;
    app.view = v;
    renderTabs();
    syncHash();
    if (focusTab) $("tab-" + v).focus();
    if (changed) enterView(v);
  }

  // What entering a view loads (also after the activation changed under it).
  function enterView(v) {
    if (v === "sweep") enterSweep();
    else if (v === "shelters") enterShelters();
    else if (v === "arrivals") enterArrivals();
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
      defaultView: defaultView(app.me.role),
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

  /* ---------- 福祉避難所: shared pieces ---------- */

  const enc = encodeURIComponent;

  function activationPath(suffix) {
    return "/api/activations/" + enc(app.activationId) + suffix;
  }

  // The server's 409 codes this page explains in words of its own.
  const CONFLICT_KEYS = {
    shelter_full: "conflict_shelter_full", shelter_closed: "conflict_shelter_closed",
    already_assigned: "conflict_already_assigned", consent_required: "conflict_consent_required",
    person_removed: "conflict_person_removed", activation_closed: "conflict_activation_closed",
    assignment_superseded: "conflict_assignment_superseded", shelter_not_open: "conflict_shelter_not_open",
  };

  // {key, extra} for a failed request (r null: no answer). The server's own message goes along
  // as `extra`, so nothing fails without saying why.
  function requestError(r, failedKey) {
    if (!r) return { key: "request_network" };
    const extra = serverError(r);
    if (r.status === 409 && r.data && CONFLICT_KEYS[r.data.code]) return { key: CONFLICT_KEYS[r.data.code], extra };
    if (r.status === 403) return { key: "request_forbidden", extra };
    if (r.status === 404) return { key: "request_not_found", extra };
    if (r.status === 400) return { key: "request_invalid", extra };
    return { key: failedKey, extra };
  }

  function errText(e) {
    return e ? t(e.key) + (e.extra ? "（" + e.extra + "）" : "") : "";
  }

  // GET/POST that answers null when the server cannot be reached, and sends a 401 to the login.
  async function call(method, path, body) {
    let r = null;
    try { r = await api(method, path, body); } catch (_) { r = null; }
    if (r && r.status === 401 && app.me) { showLogin("session_expired"); return { status: 401, data: null, gone: true }; }
    return r;
  }

  // Fills `box` with one element per item, reusing the element of the same key (focus and
  // typed text stay), in the items' order; elements of keys no longer listed are removed.
  function keyedList(box, items, keyOf, build, update) {
    const have = new Map();
    for (const c of Array.from(box.children)) if (c._key !== undefined) have.set(c._key, c);
    const keep = new Set();
    let prev = null;
    for (const item of items) {
      const key = keyOf(item);
      keep.add(key);
      let node = have.get(key);
      if (!node) { node = build(item); node._key = key; }
      update(node, item);
      const want = prev ? prev.nextSibling : box.firstChild;
      if (node !== want) box.insertBefore(node, want);
      prev = node;
    }
    for (const c of Array.from(box.children)) if (!keep.has(c._key)) c.remove();
  }

  function shelterStatusLabel(status) {
    const key = "shelter_status_" + status;
    return Object.prototype.hasOwnProperty.call(I18N.ja, key) ? t(key) : status || "";
  }

  function assignmentStatusLabel(status) {
    const key = "assignment_status_" + status;
    return Object.prototype.hasOwnProperty.call(I18N.ja, key) ? t(key) : status || "";
  }

  function liveShelters() {
    return app.state && Array.isArray(app.state.shelters) ? app.state.shelters : [];
  }

  function liveShelter(id) {
    return liveShelters().find((s) => s.id === id) || null;
  }

  function activationClosed() {
    const act = currentActivation();
    return !act || act.status === "closed";
  }

  function sexAge(p, now) {
    const age = ageOn(p.birth_date, now);
    return [p.name_kana, p.sex === "male" ? t("sex_male") : p.sex === "female" ? t("sex_female") : null,
      age === null ? null : tf("person_age", { age })].filter(Boolean).join("・");
  }

  function phoneNode(phone) {
    if (!phone) return null;
    const href = telHref(phone);
    if (!href) return phone;
    const a = el("a", "tel", phone);
    a.href = href;
    return a;
  }

  function timeNode(iso, cls) {
    const node = el("time", cls, formatTime(iso, new Date()));
    if (iso) node.dateTime = iso;
    return node;
  }

  function printHref(shelterId) {
    return "/shelters/print?activation=" + enc(app.activationId) + "&shelter=" + enc(shelterId);
  }

  function csvHref(shelterId) {
    return activationPath("/shelters/" + enc(shelterId) + "/assignments/export");
  }

  // Opens (body {} or {capacity}) or closes a shelter of the activation shown. Answers
  // {ok:true}, {error}, or null when the session is gone. The board event that follows
  // updates every screen's numbers, this one's too.
  async function postShelter(kind, shelterId, capacity) {
    if (activationClosed()) return { error: { key: "conflict_activation_closed" } };
    const body = kind === "open" && capacity !== null ? { capacity } : {};
    const r = await call("POST", activationPath("/shelters/" + enc(shelterId) + "/" + kind), body);
    if (r && r.gone) return null;
    if (r && r.status === 200) return { ok: true };
    return { error: requestError(r, kind === "open" ? "open_failed" : "close_failed") };
  }

  // What the capacity box asks for: {capacity} (null: keep / the registered one) or {error}.
  function capacityFrom(input, isOpen) {
    const capacity = parseCapacity(input.value);
    if (Number.isNaN(capacity)) return { error: { key: "capacity_invalid" } };
    if (isOpen && capacity === null) return { error: { key: "capacity_needed" } };
    return { capacity };
  }

  /* ---------- 福祉避難所: the board's cards (everyone) ---------- */

  function statusBadge(status) {
    const b = el("span", "shelter-status-badge", shelterStatusLabel(status));
    b.dataset.status = status || "";
    return b;
  }

  function numItem(labelKey, cls, value) {
    const wrap = el("div", "num-item " + cls + "-item");
    const dd = el("dd");
    dd.appendChild(el("span", cls, value));
    wrap.append(el("dt", null, t(labelKey)), dd);
    return wrap;
  }

  function renderShelterCards() {
    const shelters = liveShelters();
    const frag = document.createDocumentFragment();
    for (const s of shelters) {
      const pl = shelterPlaces(s);
      const li = el("li", "shelter-card");
      li.dataset.shelterId = String(s.id);
      li.dataset.status = s.status || "";
      li.dataset.capacity = String(pl.capacity);
      li.dataset.assigned = String(pl.assigned);
      li.dataset.arrived = String(pl.arrived);
      li.dataset.free = String(pl.free);
      const full = pl.over > 0 || (pl.full && s.status === "open");
      li.classList.toggle("is-full", full);
      li.classList.toggle("is-over", pl.over > 0);
      const head = el("div", "shelter-card-head");
      head.append(el("h3", "shelter-card-name", s.name), statusBadge(s.status));
      const dl = el("dl", "shelter-card-nums");
      const free = numItem("shelter_free", "num-free", pl.free);
      if (pl.over > 0) free.lastChild.appendChild(el("span", "num-over", tf("shelter_over", { n: pl.over })));
      else if (full) free.lastChild.appendChild(el("span", "num-full", t("shelter_full")));
      dl.append(numItem("shelter_capacity", "num-capacity", pl.capacity), numItem("shelter_assigned", "num-assigned", pl.assigned),
        numItem("shelter_arrived", "num-arrived", pl.arrived), free);
      li.append(head, dl);
      frag.appendChild(li);
    }
    $("shelter-cards").replaceChildren(frag);
    $("shelters-board-empty").hidden = !(app.state && shelters.length === 0);
  }

  /* ---------- 福祉避難所: the coordinator's view ---------- */

  const RESULTS_SHOWN = 50;

  const shel = {
    epoch: 0,              // bumped on reset (another activation, log out): older answers are dropped
    rowState: new Map(),   // shelter id -> {busy, error, confirmClose}
    active: new Map(),     // resident_id -> {resident_id, shelter_id, status}: who is placed where
    activeError: null,
    liveTimer: null,       // debounced refetch after assignment events
    results: null,         // persons found, or null before a search
    searching: false,
    searchToken: 0,
    searchError: null,
    person: null,          // the person chosen
    suggestions: null,     // ranked when the person was chosen; numbers shown live from the board
    suggestState: null,    // "loading" | "ok" | "error"
    suggestError: null,
    suggestToken: 0,
    history: null,         // the person's assignments, oldest first
    historyToken: 0,
    assigning: null,       // shelter id while an assignment is sent
    override: null,        // {shelter_id, name, why: "full"|"closed"} while an admin gives a reason
    done: null,            // {name, shelter} after an assignment
    error: null,
    planDistrict: null,    // the district chosen for a plan
    plan: null,            // the previewed plan
    planBusy: null,        // "preview" | "confirm"
    planError: null,
    planDone: null,        // how many the last confirmation assigned
    planStale: false,      // the server refused the plan: preview again
    peopleShelter: null,   // shelter id whose people are shown
    people: null,          // GET .../shelters/{sid}/assignments
    peopleError: null,
    peopleToken: 0,
    peopleTimer: null,
  };

  function resetShelters() {
    clearTimeout(shel.liveTimer);
    clearTimeout(shel.peopleTimer);
    shel.epoch += 1;
    shel.searchToken += 1;
    shel.suggestToken += 1;
    shel.historyToken += 1;
    shel.peopleToken += 1;
    shel.rowState.clear();
    shel.active = new Map();
    Object.assign(shel, { activeError: null, liveTimer: null, results: null, searching: false, searchError: null,
      person: null, suggestions: null, suggestState: null, suggestError: null, history: null, assigning: null,
      override: null, done: null, error: null, plan: null, planBusy: null, planError: null, planDone: null,
      planStale: false, peopleShelter: null, people: null, peopleError: null, peopleTimer: null });
    $("shelter-rows").replaceChildren();
    $("assign-results").replaceChildren();
    $("assign-suggestions").replaceChildren();
    // What was typed about a person does not outlive the activation or the session.
    for (const id of ["assign-q", "assign-reason", "assign-override-reason"]) $(id).value = "";
  }

  function enterShelters() {
    renderShelters();
    loadActive();
    if (shel.person) { loadAssignHistory(); }
    if (shel.peopleShelter !== null) loadPeople();
  }

  // Board messages: numbers re-render with the board; an assignment anywhere may change who is
  // placed where (the marks in the search, the chosen person's current assignment); one of the
  // shelter whose people are shown refetches that list.
  function sheltersOnBoardMessage(msg, hadState) {
    if (app.view !== "shelters") return;
    if (msg.type === "snapshot" && !hadState) return;
    const assignment = msg.type === "assignment_made" || msg.type === "assignment_updated";
    if (assignment || msg.type === "snapshot" || msg.type === "register_imported") {
      clearTimeout(shel.liveTimer);
      shel.liveTimer = setTimeout(() => { loadActive(); if (shel.person) loadAssignHistory(); }, SWEEP_REFETCH_MS);
    }
    if (affectsShelter(msg, shel.peopleShelter)) {
      clearTimeout(shel.peopleTimer);
      shel.peopleTimer = setTimeout(loadPeople, SWEEP_REFETCH_MS);
    }
  }

  async function loadActive() {
    if (!app.me || app.activationId === null) return;
    const epoch = shel.epoch;
    const r = await call("GET", activationPath("/assignments"));
    if (epoch !== shel.epoch || !app.me || (r && r.gone)) return;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      shel.active = new Map(r.data.map((a) => [a.resident_id, a]));
      shel.activeError = null;
    } else {
      shel.activeError = requestError(r, "people_failed");
    }
    renderShelters();
  }

  function rowState(id) {
    let st = shel.rowState.get(id);
    if (!st) { st = { busy: null, error: null, confirmClose: false }; shel.rowState.set(id, st); }
    return st;
  }

  function renderShelters() {
    if (!app.me || app.view !== "shelters") return;
    const closed = activationClosed();
    const none = app.activationId === null;
    $("shelters-no-activation").hidden = !(app.listLoaded && none);
    $("shelters-closed").hidden = none || !closed;
    $("shelters-work").hidden = none;
    setText($("shelters-error"), errText(shel.activeError));
    const shelters = liveShelters();
    $("shelters-empty").hidden = !(app.state && shelters.length === 0);
    keyedList($("shelter-rows"), shelters, (s) => s.id, buildShelterRow, updateShelterRow);
    renderDistrictSelects();
    renderAssign();
    renderPlan();
  }

  function buildShelterRow(s) {
    const li = el("li", "shelter-row");
    li.dataset.shelterId = String(s.id);
    const r = {};
    const head = el("div", "shelter-row-head");
    r.name = el("h4", "shelter-row-name");
    r.badge = el("span", "shelter-status-badge");
    head.append(r.name, r.badge);
    r.nums = el("p", "shelter-nums");
    const controls = el("div", "shelter-controls");
    const label = el("label", "inline-field");
    r.capLabel = el("span", "control-label");
    r.capacity = el("input", "open-capacity");
    r.capacity.type = "text";
    r.capacity.inputMode = "numeric";
    r.capacity.autocomplete = "off";
    r.capacity.maxLength = 6;
    label.append(r.capLabel, r.capacity);
    r.open = actionButton("btn-primary shelter-open-btn", "open", null);
    r.close = actionButton("btn-secondary shelter-close-btn", "close", null);
    controls.append(label, r.open, r.close);
    const links = el("div", "shelter-links");
    r.people = actionButton("btn-quiet shelter-people-btn", "people", null);
    r.print = el("a", "btn btn-secondary btn-link shelter-print");
    r.print.target = "_blank";
    r.print.rel = "noopener";
    r.csv = el("a", "btn btn-secondary btn-link shelter-csv");
    links.append(r.people, r.print, r.csv);
    r.confirm = el("div", "confirm-box close-confirm");
    r.confirm.setAttribute("role", "alertdialog");
    r.confirmText = el("p");
    const cb = el("div", "confirm-buttons");
    r.confirmYes = actionButton("btn-danger", "close-yes", null);
    r.confirmNo = actionButton("btn-secondary", "close-no", null);
    cb.append(r.confirmYes, r.confirmNo);
    r.confirm.append(r.confirmText, cb);
    r.error = el("p", "error shelter-error");
    r.error.setAttribute("role", "alert");
    r.peopleBox = el("div", "shelter-people");
    r.peopleBox.id = "shelter-people-" + s.id;
    r.people.setAttribute("aria-controls", r.peopleBox.id);
    li.append(head, r.nums, controls, links, r.confirm, r.error, r.peopleBox);
    li._r = r;
    return li;
  }

  function updateShelterRow(li, s) {
    const r = li._r;
    const st = rowState(s.id);
    const pl = shelterPlaces(s);
    const closed = activationClosed();
    const open = s.status === "open";
    li.dataset.status = s.status || "";
    li.classList.toggle("is-full", open && pl.full);
    setText(r.name, s.name);
    r.badge.dataset.status = s.status || "";
    setText(r.badge, shelterStatusLabel(s.status));
    setText(r.nums, tf("shelter_numbers", pl) + (pl.over > 0 ? "（" + tf("shelter_over", { n: pl.over }) + "）" : ""));
    setText(r.capLabel, t("open_capacity"));
    r.capacity.placeholder = String(pl.capacity);
    r.capacity.setAttribute("aria-label", s.name + " " + t("open_capacity"));
    r.capacity.disabled = closed || !!st.busy;
    setText(r.open, st.busy === "open" ? t("sending") : t(open ? "btn_change_capacity" : "btn_open"));
    r.open.disabled = closed || !!st.busy;
    setText(r.close, st.busy === "close" ? t("sending") : t("btn_close"));
    r.close.hidden = !open;
    r.close.disabled = closed || !!st.busy;
    r.confirm.hidden = !st.confirmClose || closed;
    setText(r.confirmText, tf("close_confirm", { name: s.name }));
    setText(r.confirmYes, t("close_yes"));
    setText(r.confirmNo, t("cancel"));
    setText(r.error, errText(st.error));
    setText(r.print, t("shelter_print"));
    r.print.href = printHref(s.id);
    setText(r.csv, t("shelter_csv"));
    r.csv.href = csvHref(s.id);
    const shown = shel.peopleShelter === s.id;
    setText(r.people, t("btn_people_show"));
    r.people.setAttribute("aria-expanded", shown ? "true" : "false");
    r.peopleBox.hidden = !shown;
    if (shown) renderPeople(r.peopleBox);
  }

  async function onShelterRowsClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    if (!btn || btn.disabled) return;
    const li = btn.closest("li.shelter-row");
    const id = li && Number(li.dataset.shelterId);
    const s = liveShelter(id);
    if (!s) return;
    const st = rowState(id);
    const action = btn.dataset.action;
    if (action === "open") {
      const want = capacityFrom(li._r.capacity, s.status === "open");
      if (want.error) { st.error = want.error; renderShelters(); li._r.capacity.focus(); return; }
      await changeShelterRow(li, id, "open", want.capacity);
    } else if (action === "close") {
      st.confirmClose = true;
      st.error = null;
      renderShelters();
      li._r.confirmYes.focus();
    } else if (action === "close-no") {
      st.confirmClose = false;
      renderShelters();
      li._r.close.focus();
    } else if (action === "close-yes") {
      st.confirmClose = false;
      await changeShelterRow(li, id, "close", null);
    } else if (action === "people") {
      if (shel.peopleShelter === id) { shel.peopleShelter = null; shel.people = null; shel.peopleToken += 1; }
      else { shel.peopleShelter = id; shel.people = null; shel.peopleError = null; loadPeople(); }
      renderShelters();
    }
  }

  async function changeShelterRow(li, id, kind, capacity) {
    const st = rowState(id);
    if (st.busy) return;
    const epoch = shel.epoch;
    st.busy = kind;
    st.error = null;
    renderShelters();
    const out = await postShelter(kind, id, capacity);
    if (!out || epoch !== shel.epoch) return;
    st.busy = null;
    if (out.error) st.error = out.error;
    else if (kind === "open") li._r.capacity.value = "";
    renderShelters();
  }

  async function loadPeople() {
    clearTimeout(shel.peopleTimer);
    const sid = shel.peopleShelter;
    if (sid === null || app.activationId === null || !app.me) return;
    const token = ++shel.peopleToken;
    const r = await call("GET", activationPath("/shelters/" + enc(sid) + "/assignments"));
    if (token !== shel.peopleToken || !app.me || (r && r.gone)) return;
    if (r && r.status === 200 && r.data && Array.isArray(r.data.people)) {
      shel.people = r.data;
      shel.peopleError = null;
    } else {
      shel.peopleError = requestError(r, "people_failed");
    }
    renderShelters();
  }

  // A shelter's people as a coordinator sees them: read only (the operator records arrivals).
  function renderPeople(box) {
    const list = shel.people;
    const key = JSON.stringify([lang, list, shel.peopleError]);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    const frag = document.createDocumentFragment();
    if (shel.peopleError) {
      const p = el("p", "error", errText(shel.peopleError));
      p.setAttribute("role", "alert");
      frag.appendChild(p);
    } else if (!list) {
      frag.appendChild(el("p", "notice", t("loading")));
    } else {
      if (list.people.length === 0) frag.appendChild(el("p", "notice", t("people_empty")));
      const ul = el("ul", "assigned-list");
      const now = new Date();
      for (const p of list.people) {
        const li = el("li", "assigned-person");
        li.dataset.residentId = p.resident_id;
        li.dataset.status = p.status;
        const head = el("div", "person-head");
        const badge = el("span", "status-badge", assignmentStatusLabel(p.status));
        badge.dataset.status = p.status;
        head.append(el("strong", "assigned-name", p.name), badge);
        li.appendChild(head);
        const sub = sexAge(p, now);
        if (sub) li.appendChild(el("p", "person-sub", sub));
        const dl = el("dl", "person-facts");
        fact(dl, t("person_district"), p.district);
        fact(dl, t("person_phone"), phoneNode(p.phone));
        fact(dl, t("person_care"), [p.care_level, p.disability].filter(Boolean).join(" ／ "));
        fact(dl, t("person_assign_reason"), p.reason);
        li.appendChild(dl);
        ul.appendChild(li);
      }
      frag.appendChild(ul);
      if (list.hidden > 0) frag.appendChild(el("p", "hint people-note", tf("people_hidden", { n: list.hidden })));
    }
    box.replaceChildren(frag);
  }

  // The district pickers (search and plan): "" is the people with no district; the search's
  // "*" is every district.
  function renderDistrictSelects() {
    const districts = (app.state ? app.state.safety : []).map((d) => d.district);
    fillSelect($("assign-district"), [["*", t("assign_district_all")]].concat(districts.map((d) => [d, d || t("district_none")])));
    const plan = $("plan-district");
    fillSelect(plan, districts.map((d) => [d, d || t("district_none")]));
    if (shel.planDistrict !== null && districts.indexOf(shel.planDistrict) >= 0) plan.value = shel.planDistrict;
    plan.disabled = districts.length === 0;
  }

  function fillSelect(sel, options) {
    const key = JSON.stringify(options);
    if (sel.dataset.key === key) return;
    const was = sel.value;
    sel.dataset.key = key;
    const frag = document.createDocumentFragment();
    for (const [value, label] of options) {
      const opt = el("option", null, label);
      opt.value = value;
      frag.appendChild(opt);
    }
    sel.replaceChildren(frag);
    if (options.some(([v]) => v === was)) sel.value = was;
  }

  /* --- one person: search, suggestions, assign --- */

  async function onAssignSearch(ev) {
    if (ev) ev.preventDefault();
    if (app.activationId === null) return;
    const q = $("assign-q").value.trim();
    const district = $("assign-district").value;
    if (!q && district === "*") {
      shel.searchError = { key: "assign_search_needed" };
      renderAssign();
      $("assign-q").focus();
      return;
    }
    let path = "/api/register/persons?activation=" + enc(app.activationId);
    if (q) path += "&q=" + enc(q);
    if (district !== "*") path += "&district=" + enc(district);
    const token = ++shel.searchToken;
    shel.searching = true;
    shel.searchError = null;
    renderAssign();
    const r = await call("GET", path);
    if (token !== shel.searchToken || !app.me || (r && r.gone)) return;
    shel.searching = false;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      shel.results = district === "*" ? r.data : onlyDistrict(r.data, district);
    } else {
      shel.searchError = requestError(r, "search_failed");
    }
    renderAssign();
  }

  function pickPerson(residentId) {
    const p = (shel.results || []).find((x) => x.resident_id === residentId);
    if (!p) return;
    shel.suggestToken += 1;
    shel.historyToken += 1;
    Object.assign(shel, { person: p, suggestions: null, suggestState: "loading", suggestError: null, history: null,
      assigning: null, override: null, done: null, error: null });
    $("assign-reason").value = "";
    $("assign-override-reason").value = "";
    $("assign-suggestions").replaceChildren();
    renderAssign();
    loadSuggestions();
    loadAssignHistory();
    $("assign-person").focus();
  }

  async function loadSuggestions() {
    const p = shel.person;
    if (!p || app.activationId === null) return;
    const token = ++shel.suggestToken;
    const r = await call("GET", activationPath("/suggestions?resident_id=" + enc(p.resident_id)));
    if (token !== shel.suggestToken || shel.person !== p || (r && r.gone)) return;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      shel.suggestions = r.data;
      shel.suggestState = "ok";
      shel.suggestError = null;
    } else {
      shel.suggestState = "error";
      shel.suggestError = requestError(r, "suggest_failed");
    }
    renderAssign();
  }

  // The chosen person's assignments, oldest first.
  async function loadAssignHistory() {
    const p = shel.person;
    if (!p || app.activationId === null) return;
    const token = ++shel.historyToken;
    const r = await call("GET", activationPath("/assignments?resident_id=" + enc(p.resident_id)));
    if (token !== shel.historyToken || shel.person !== p || (r && r.gone)) return;
    if (r && r.status === 200 && Array.isArray(r.data)) shel.history = r.data;
    else shel.error = shel.error || requestError(r, "people_failed");
    renderAssign();
  }

  // The person's current placement: from their history when it is loaded, else the activation's list.
  function currentPlacement(residentId) {
    if (shel.person && shel.person.resident_id === residentId && shel.history) {
      const cur = shel.history.find((a) => !a.superseded_at);
      return cur ? { shelter_id: cur.shelter_id, status: cur.status, name: cur.shelter_name } : null;
    }
    const a = shel.active.get(residentId);
    if (!a) return null;
    const s = liveShelter(a.shelter_id);
    return { shelter_id: a.shelter_id, status: a.status, name: s ? s.name : "#" + a.shelter_id };
  }

  function placementText(pl) {
    return pl ? pl.name + "（" + assignmentStatusLabel(pl.status) + "）" : "";
  }

  function renderAssign() {
    if (!app.me) return;
    const closed = activationClosed();
    $("assign-search").disabled = shel.searching;
    $("assign-searching").hidden = !shel.searching;
    setText($("assign-search-error"), errText(shel.searchError));
    const results = shel.results || [];
    keyedList($("assign-results"), results.slice(0, RESULTS_SHOWN), (p) => p.resident_id, buildCandidate, updateCandidate);
    const note = shel.results === null || shel.searching ? ""
      : results.length === 0 ? t("assign_results_empty")
      : results.length > RESULTS_SHOWN ? tf("assign_results_more", { n: results.length - RESULTS_SHOWN }) : "";
    setText($("assign-results-note"), note);

    const p = shel.person;
    $("assign-person").hidden = !p;
    if (!p) return;
    setText($("assign-person-name"), p.name);
    setText($("assign-person-sub"), sexAge(p, new Date()));
    const facts = $("assign-person-facts");
    const factsKey = JSON.stringify([lang, p]);
    if (facts.dataset.key !== factsKey) {
      facts.dataset.key = factsKey;
      facts.replaceChildren();
      fact(facts, t("person_district"), p.district);
      fact(facts, t("person_address"), p.address);
      fact(facts, t("person_phone"), phoneNode(p.phone));
      fact(facts, t("person_care"), [p.care_level, p.disability].filter(Boolean).join(" ／ "));
      fact(facts, t("person_reasons"), p.support_reasons);
      fact(facts, t("person_shelter"), p.designated_shelter);
      fact(facts, t("person_safety"), p.safety_status ? t("status_" + p.safety_status) : null);
    }
    const current = currentPlacement(p.resident_id);
    setText($("assign-current"), current ? placementText(current) : t("assign_none"));
    $("assign-reason").disabled = closed;
    $("assign-reason").placeholder = t("assign_default_reason");

    $("assign-suggestions-loading").hidden = shel.suggestState !== "loading";
    $("assign-suggestions-empty").hidden = !(shel.suggestState === "ok" && shel.suggestions.length === 0);
    const sugs = shel.suggestState === "ok" ? shel.suggestions : [];
    keyedList($("assign-suggestions"), sugs, (s) => s.shelter_id, buildSuggestion, updateSuggestion);

    const admin = app.me.role === "admin";
    const o = shel.override;
    $("assign-override").hidden = !o;
    if (o) {
      setText($("assign-override-text"), tf("assign_override_text", {
        shelter: o.name, why: t(o.why === "full" ? "assign_why_full" : "assign_why_closed") }));
      $("assign-override-yes").disabled = closed || shel.assigning !== null;
    }
    // An admin may place someone in a shelter that is not open (suggestions list open ones only).
    const others = liveShelters().filter((s) => s.status !== "open");
    $("assign-other").hidden = !admin || others.length === 0;
    fillSelect($("assign-other-shelter"), others.map((s) => [String(s.id), s.name + "（" + shelterStatusLabel(s.status) + "）"]));
    $("assign-other-btn").disabled = closed || shel.assigning !== null;

    const err = shel.error || (shel.suggestState === "error" ? shel.suggestError : null);
    setText($("assign-error"), errText(err));
    $("assign-done").hidden = !shel.done;
    setText($("assign-done"), shel.done ? tf("assign_done", shel.done) : "");
    renderAssignHistory();
  }

  function buildCandidate(p) {
    const li = el("li", "candidate");
    li.dataset.residentId = p.resident_id;
    const r = {};
    const main = el("div", "candidate-main");
    r.name = el("strong", "candidate-name");
    r.sub = el("span", "candidate-sub");
    r.where = el("span", "candidate-where");
    r.badge = el("span", "status-badge");
    r.assignment = el("span", "candidate-assignment");
    main.append(r.name, r.sub, r.badge, r.where, r.assignment);
    r.pick = actionButton("btn-secondary pick-btn", "pick", null);
    li.append(main, r.pick);
    li._r = r;
    return li;
  }

  function updateCandidate(li, p) {
    const r = li._r;
    setText(r.name, p.name);
    setText(r.sub, sexAge(p, new Date()));
    setText(r.where, [p.district || t("district_none"), p.address, [p.care_level, p.disability].filter(Boolean).join("・")]
      .filter(Boolean).join("　"));
    const status = p.safety_status || "unconfirmed";
    r.badge.dataset.status = status;
    setText(r.badge, t("status_" + status));
    const current = currentPlacement(p.resident_id);
    setText(r.assignment, current ? t("assign_current") + "：" + placementText(current) : "");
    r.assignment.hidden = !current;
    const picked = !!shel.person && shel.person.resident_id === p.resident_id;
    li.classList.toggle("is-picked", picked);
    setText(r.pick, t(picked ? "assign_picked" : "assign_pick"));
    r.pick.setAttribute("aria-pressed", picked ? "true" : "false");
    r.pick.setAttribute("aria-label", p.name + " " + t("assign_pick"));
  }

  function buildSuggestion(sug) {
    const li = el("li", "suggestion");
    li.dataset.shelterId = String(sug.shelter_id);
    const r = {};
    const head = el("div", "suggestion-head");
    r.rank = el("span", "suggestion-rank");
    r.name = el("strong", "suggestion-name");
    r.designated = el("span", "designated-badge");
    r.free = el("span", "suggestion-free");
    head.append(r.rank, r.name, r.designated, r.free);
    r.reasons = el("ul", "reason-chips");
    r.assign = actionButton("btn-primary assign-btn", "assign", null);
    li.append(head, r.reasons, r.assign);
    li._r = r;
    return li;
  }

  // Order and reasons are as ranked when the person was chosen (a list that reorders itself
  // under a finger sends people to the wrong place); free places come live from the board.
  function suggestionLive(sug) {
    const s = liveShelter(sug.shelter_id);
    if (!s) return { free: sug.free, available: sug.available, open: true };
    const pl = shelterPlaces(s);
    return { free: pl.capacity - pl.assigned - pl.arrived, available: s.status === "open" && !pl.full, open: s.status === "open" };
  }

  function updateSuggestion(li, sug) {
    const r = li._r;
    const live = suggestionLive(sug);
    const admin = app.me && app.me.role === "admin";
    const current = shel.person ? currentPlacement(shel.person.resident_id) : null;
    const here = !!current && current.shelter_id === sug.shelter_id && (current.status === "assigned" || current.status === "arrived");
    li.dataset.available = live.available ? "true" : "false";
    li.classList.toggle("is-full", !live.available);
    setText(r.rank, tf("assign_rank", { n: sug.rank }));
    setText(r.name, sug.name);
    setText(r.designated, sug.designated ? t("assign_designated") : "");
    r.designated.hidden = !sug.designated;
    setText(r.free, !live.open ? shelterStatusLabel("closed") : live.free > 0 ? t("shelter_free") + " " + live.free : t("shelter_full"));
    const reasons = (sug.reasons || []).filter((x) => x.code !== "free" && x.code !== "full");
    const key = JSON.stringify(reasons);
    if (r.reasons.dataset.key !== key) {
      r.reasons.dataset.key = key;
      r.reasons.replaceChildren(...reasons.map((x) => {
        const c = el("li", "reason-chip", x.text);
        c.dataset.code = x.code;
        return c;
      }));
    }
    const sending = shel.assigning === sug.shelter_id;
    setText(r.assign, sending ? t("assign_sending") : here ? t("assign_btn_current")
      : live.available ? t("assign_btn") : admin ? t("assign_btn_override") : t("assign_btn_full"));
    r.assign.classList.toggle("btn-primary", live.available);
    r.assign.classList.toggle("btn-warning", !live.available && admin);
    r.assign.disabled = activationClosed() || shel.assigning !== null || here || (!live.available && !admin);
    r.assign.setAttribute("aria-label", sug.name + " " + r.assign.textContent);
  }

  function renderAssignHistory() {
    const list = shel.history || [];
    $("assign-history-empty").hidden = !(shel.history && list.length === 0);
    const box = $("assign-history");
    const key = JSON.stringify([lang, list]);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    const frag = document.createDocumentFragment();
    for (const a of list.slice().reverse()) {
      const li = el("li", "history-item");
      li.classList.toggle("is-superseded", !!a.superseded_at);
      const badge = el("span", "status-badge", assignmentStatusLabel(a.status));
      badge.dataset.status = a.status;
      li.append(timeNode(a.assigned_at, "history-time"), el("strong", "history-shelter", a.shelter_name), badge,
        el("span", "history-by", a.assigned_by));
      if (a.superseded_at) li.appendChild(el("span", "history-superseded", t("assign_superseded")));
      const why = [a.reason, a.override_reason].filter(Boolean).join(" ／ ");
      if (why) li.appendChild(el("span", "history-note", why));
      frag.appendChild(li);
    }
    box.replaceChildren(frag);
  }

  function onSuggestionsClick(ev) {
    const btn = ev.target.closest("button[data-action=assign]");
    if (!btn || btn.disabled) return;
    const li = btn.closest("li.suggestion");
    const id = Number(li.dataset.shelterId);
    const sug = (shel.suggestions || []).find((s) => s.shelter_id === id);
    if (!sug) return;
    if (suggestionLive(sug).available) { assignTo(id, null); return; }
    if (app.me.role !== "admin") return;
    askOverride(id, sug.name, suggestionLive(sug).open ? "full" : "closed");
  }

  function askOverride(shelterId, name, why) {
    shel.override = { shelter_id: shelterId, name, why };
    shel.error = null;
    shel.done = null;
    renderAssign();
    $("assign-override-reason").focus();
  }

  async function assignTo(shelterId, overrideReason) {
    const p = shel.person;
    if (!p || shel.assigning !== null) return;
    if (activationClosed()) { shel.error = { key: "conflict_activation_closed" }; renderAssign(); return; }
    const sug = (shel.suggestions || []).find((s) => s.shelter_id === shelterId);
    // Stored with the assignment and shown to the shelter: in Japanese, whatever the page language.
    const reason = $("assign-reason").value.trim() || suggestionReason(sug) || I18N.ja.assign_default_reason;
    const body = { resident_id: p.resident_id, shelter_id: shelterId, reason };
    if (overrideReason) body.override_reason = overrideReason;
    const epoch = shel.epoch;
    shel.assigning = shelterId;
    shel.error = null;
    shel.done = null;
    renderAssign();
    const r = await call("POST", activationPath("/assignments"), body);
    if (epoch !== shel.epoch || shel.person !== p || (r && r.gone)) return;
    shel.assigning = null;
    if (r && r.status === 201 && r.data) {
      shel.done = { name: p.name, shelter: r.data.shelter_name || (sug && sug.name) || "" };
      shel.override = null;
      $("assign-reason").value = "";
      $("assign-override-reason").value = "";
      loadAssignHistory();
      loadActive();
    } else {
      const code = r && r.status === 409 && r.data ? r.data.code : null;
      if (!overrideReason && app.me.role === "admin" && (code === "shelter_full" || code === "shelter_closed")) {
        const s = liveShelter(shelterId);
        shel.override = { shelter_id: shelterId, name: s ? s.name : sug ? sug.name : "", why: code === "shelter_full" ? "full" : "closed" };
      }
      shel.error = requestError(r, "assign_failed");
    }
    renderAssign();
    if (shel.done) $("assign-done").focus();
    else if (shel.override) $("assign-override-reason").focus();
    else if (shel.error) $("assign-error").focus();
  }

  function onOverrideYes() {
    const o = shel.override;
    if (!o) return;
    const reason = $("assign-override-reason").value.trim();
    if (!reason) {
      shel.error = { key: "assign_override_empty" };
      renderAssign();
      $("assign-override-reason").focus();
      return;
    }
    assignTo(o.shelter_id, reason);
  }

  function onOtherShelter() {
    const id = Number($("assign-other-shelter").value);
    const s = liveShelter(id);
    if (!s) return;
    askOverride(id, s.name, "closed");
  }

  /* --- a whole district: plan (preview) -> 確定 --- */

  async function onPlanPreview(ev) {
    if (ev) ev.preventDefault();
    if (app.activationId === null || shel.planBusy || $("plan-district").disabled) return;
    const district = $("plan-district").value;
    shel.planDistrict = district;
    const epoch = shel.epoch;
    Object.assign(shel, { planBusy: "preview", planError: null, planDone: null, plan: null, planStale: false });
    renderPlan();
    const r = await call("GET", activationPath("/assignments/plan?district=" + enc(district)));
    if (epoch !== shel.epoch || (r && r.gone)) return;
    shel.planBusy = null;
    if (r && r.status === 200 && r.data && Array.isArray(r.data.placements)) shel.plan = r.data;
    else shel.planError = requestError(r, "plan_failed");
    renderPlan();
    if (shel.planError) $("plan-error").focus();
  }

  async function onPlanConfirm() {
    const plan = shel.plan;
    if (!plan || shel.planBusy || shel.planStale || plan.placements.length === 0) return;
    if (activationClosed()) { shel.planError = { key: "conflict_activation_closed" }; renderPlan(); return; }
    const epoch = shel.epoch;
    shel.planBusy = "confirm";
    shel.planError = null;
    renderPlan();
    const placements = plan.placements.map((p) => ({ resident_id: p.resident_id, shelter_id: p.shelter_id }));
    const r = await call("POST", activationPath("/assignments/batch"), { placements });
    if (epoch !== shel.epoch || (r && r.gone)) return;
    shel.planBusy = null;
    if (r && r.status === 201) {
      shel.planDone = Array.isArray(r.data) ? r.data.length : placements.length;
      shel.plan = null;
      loadActive();
    } else if (r && (r.status === 409 || (r.status === 400 && r.data && /^placements\[/.test(r.data.field || "")))) {
      // One placement no longer holds: the whole batch was refused and the plan is stale.
      shel.planError = { key: "plan_stale", extra: serverError(r) };
      shel.planStale = true;
    } else {
      shel.planError = requestError(r, "plan_confirm_failed");
    }
    renderPlan();
    if (shel.planDone !== null) $("plan-done").focus();
    else if (shel.planError) $("plan-error").focus();
  }

  function renderPlan() {
    if (!app.me) return;
    const busy = shel.planBusy;
    $("plan-preview").disabled = !!busy || $("plan-district").disabled;
    $("plan-busy").hidden = !busy;
    setText($("plan-busy"), busy ? t(busy === "confirm" ? "plan_confirming" : "plan_previewing") : "");
    setText($("plan-error"), errText(shel.planError));
    $("plan-done").hidden = shel.planDone === null;
    setText($("plan-done"), shel.planDone === null ? "" : tf("plan_done", { n: shel.planDone }));
    const plan = shel.plan;
    $("plan-result").hidden = !plan;
    if (!plan) return;
    setText($("plan-summary"), tf("plan_summary", { district: plan.district || t("district_none"),
      placed: plan.placements.length, unplaced: plan.unplaced.length }));
    const skipped = Object.keys(plan.skipped || {}).map((k) => {
      const label = k === "already_assigned" ? t("plan_skip_already_assigned") : t("status_" + k);
      return label + " " + plan.skipped[k];
    });
    const notes = [];
    if (skipped.length) notes.push(tf("plan_skipped", { list: skipped.join(t("list_sep")) }));
    if (plan.hidden > 0) notes.push(tf("plan_hidden", { n: plan.hidden }));
    if (plan.placements.length === 0) notes.unshift(t("plan_empty"));
    setText($("plan-skipped"), notes.join(" "));
    const body = $("plan-body");
    const key = JSON.stringify(plan.placements);
    if (body.dataset.key !== key) {
      body.dataset.key = key;
      const frag = document.createDocumentFragment();
      for (const p of plan.placements) {
        const tr = el("tr", "plan-row");
        tr.dataset.residentId = p.resident_id;
        tr.append(el("td", "plan-name", p.name), el("td", "plan-shelter", p.shelter_name),
          el("td", "plan-reasons", (p.reasons || []).map((x) => x.text).join("・")));
        frag.appendChild(tr);
      }
      body.replaceChildren(frag);
    }
    $("plan-unplaced").hidden = plan.unplaced.length === 0;
    fillTable($("plan-unplaced-body"), plan.unplaced, (u) => [u.name, u.why], ["", ""]);
    const confirm = $("plan-confirm");
    confirm.hidden = plan.placements.length === 0;
    setText(confirm, tf("plan_confirm", { n: plan.placements.length }));
    confirm.disabled = !!busy || shel.planStale || activationClosed();
  }

  /* ---------- 受入者一覧: the operator's own shelter ---------- */

  const arr = {
    entries: new Map(),    // assignment id (string) -> {person, status, pending, lastWrite, gone, error, transfer, destination}
    rows: new Map(),       // assignment id -> its <li> (kept across refreshes: notes typed stay)
    order: [],
    listKey: null,         // "activation|shelter" the entries belong to
    loaded: false,
    loading: false,
    token: 0,
    writes: 0,             // answered status writes so far (see applyArrivals)
    timer: null,           // debounced live refetch
    listError: null,
    shelter: null,         // the list's shelter state (the board's live copy wins)
    hidden: 0,
    busy: null,            // "open" | "close" while the shelter is opened or closed
    shelterError: null,
    confirmClose: false,
  };

  function myShelterId() {
    const id = app.me ? app.me.shelter_id : null;
    return id === null || id === undefined ? null : id;
  }

  function resetArrivals() {
    clearTimeout(arr.timer);
    arr.token += 1;
    arr.entries.clear();
    arr.rows.clear();
    Object.assign(arr, { order: [], listKey: null, loaded: false, loading: false, timer: null, listError: null,
      shelter: null, hidden: 0, busy: null, shelterError: null, confirmClose: false });
    $("arrivals-list").replaceChildren();
    $("arrivals-capacity").value = "";
  }

  function enterArrivals() {
    renderArrivals();
    loadArrivals(true);
  }

  function arrivalsOnBoardMessage(msg, hadState) {
    if (app.view !== "arrivals") return;
    if (msg.type === "snapshot" && !hadState) return;
    if (affectsShelter(msg, myShelterId())) {
      clearTimeout(arr.timer);
      arr.timer = setTimeout(() => loadArrivals(false), SWEEP_REFETCH_MS);
    }
  }

  // full: the server's order; otherwise rows keep their places (see stableOrder).
  async function loadArrivals(full) {
    clearTimeout(arr.timer);
    arr.timer = null;
    const sid = myShelterId();
    if (!app.me || app.view !== "arrivals" || app.activationId === null || sid === null) { renderArrivals(); return; }
    const key = app.activationId + "|" + sid;
    if (key !== arr.listKey) {
      arr.entries.clear();
      arr.order = [];
      arr.listKey = key;
      arr.loaded = false;
      full = true;
    }
    const token = ++arr.token;
    const writesAtStart = arr.writes;
    arr.loading = true;
    renderArrivals();
    const r = await call("GET", activationPath("/shelters/" + enc(sid) + "/assignments"));
    if (token !== arr.token || key !== arr.listKey || !app.me || (r && r.gone)) return;
    arr.loading = false;
    if (r && r.status === 200 && r.data && Array.isArray(r.data.people)) {
      arr.listError = null;
      arr.shelter = r.data.shelter || null;
      arr.hidden = r.data.hidden || 0;
      applyArrivals(r.data.people, full, writesAtStart);
      arr.loaded = true;
    } else {
      arr.listError = requestError(r, "people_failed");
    }
    renderArrivals();
  }

  function applyArrivals(people, full, writesAtStart) {
    const ids = people.map((p) => String(p.assignment_id));
    let order = ids;
    if (full) {
      const keep = new Set(ids);
      for (const id of Array.from(arr.entries.keys())) if (!keep.has(id)) arr.entries.delete(id);
    } else {
      const stable = stableOrder(arr.order, ids);
      order = stable.order;
      for (const id of stable.gone) { const e = arr.entries.get(id); if (e) e.gone = true; }
    }
    for (const p of people) {
      const id = String(p.assignment_id);
      let e = arr.entries.get(id);
      if (!e) {
        e = { person: p, status: p.status, pending: null, lastWrite: -1, gone: false, error: null, transfer: false, destination: null };
        arr.entries.set(id, e);
      }
      e.person = p;
      e.gone = false;
      // A list read before this row's own write was answered may predate it: keep the write.
      if (!e.pending && e.lastWrite <= writesAtStart) e.status = p.status;
    }
    arr.order = order;
  }

  function renderArrivals() {
    if (!app.me || app.view !== "arrivals") return;
    const sid = myShelterId();
    const closed = activationClosed();
    const none = app.activationId === null;
    $("arrivals-no-shelter").hidden = sid !== null;
    $("arrivals-no-activation").hidden = !(app.listLoaded && none);
    $("arrivals-closed").hidden = none || !closed;
    const s = (sid !== null && liveShelter(sid)) || arr.shelter;
    $("arrivals-shelter").hidden = sid === null || none || !s;
    if (s) {
      const pl = shelterPlaces(s);
      const open = s.status === "open";
      $("arrivals-shelter").dataset.status = s.status || "";
      setText($("arrivals-shelter-name"), s.name);
      const badge = $("arrivals-shelter-status");
      badge.dataset.status = s.status || "";
      setText(badge, shelterStatusLabel(s.status));
      $("arrivals-shelter").classList.toggle("is-full", open && pl.full);
      setText($("arrivals-count-capacity"), pl.capacity);
      setText($("arrivals-count-assigned"), pl.assigned);
      setText($("arrivals-count-arrived"), pl.arrived);
      setText($("arrivals-count-free"), pl.free);
      setText($("arrivals-count-over"), pl.over > 0 ? tf("shelter_over", { n: pl.over }) : pl.full && open ? t("shelter_full") : "");
      $("arrivals-capacity").placeholder = String(pl.capacity);
      $("arrivals-capacity").disabled = closed || !!arr.busy;
      setText($("arrivals-open"), arr.busy === "open" ? t("sending") : t(open ? "btn_change_capacity" : "btn_open"));
      $("arrivals-open").disabled = closed || !!arr.busy;
      setText($("arrivals-close"), arr.busy === "close" ? t("sending") : t("btn_close"));
      $("arrivals-close").hidden = !open;
      $("arrivals-close").disabled = closed || !!arr.busy;
      $("arrivals-close-confirm").hidden = !arr.confirmClose || closed;
      setText($("arrivals-close-text"), tf("close_confirm", { name: s.name }));
      $("arrivals-print").href = printHref(sid);
      $("arrivals-csv").href = csvHref(sid);
    }
    setText($("arrivals-shelter-error"), errText(arr.shelterError));
    $("arrivals-reload").disabled = arr.loading;

    const visible = arr.order.map((id) => arr.entries.get(id)).filter((e) => e && !e.gone);
    const count = (st) => visible.filter((e) => (e.pending || e.status) === st).length;
    const assigned = count("assigned");
    const arrived = count("arrived");
    setText($("arrivals-summary"), arr.loaded && visible.length > 0
      ? tf("arrivals_summary", { n: visible.length, assigned, arrived, other: visible.length - assigned - arrived }) : "");
    setText($("arrivals-hidden"), arr.hidden > 0 ? tf("people_hidden", { n: arr.hidden }) : "");
    $("arrivals-loading").hidden = !(arr.loading && !arr.loaded);
    setText($("arrivals-error"), errText(arr.listError));
    $("arrivals-empty").hidden = !(arr.loaded && arr.order.length === 0 && !arr.listError);
    renderArrivalList();
  }

  function renderArrivalList() {
    const list = $("arrivals-list");
    for (const [id, li] of arr.rows) {
      if (!arr.entries.has(id)) { li.remove(); arr.rows.delete(id); }
    }
    let prev = null;
    for (const id of arr.order) {
      const e = arr.entries.get(id);
      if (!e) continue;
      let li = arr.rows.get(id);
      if (!li) { li = buildArrivalRow(id); arr.rows.set(id, li); }
      updateArrivalRow(li, e);
      const want = prev ? prev.nextSibling : list.firstChild;
      if (li !== want) list.insertBefore(li, want);
      prev = li;
    }
  }

  function buildArrivalRow(id) {
    const li = el("li", "person arrival");
    li.dataset.assignmentId = id;
    const r = {};
    const main = el("div", "person-main");
    const head = el("div", "person-head");
    r.name = el("h3", "person-name");
    r.badge = el("span", "status-badge arrival-badge");
    head.append(r.name, r.badge);
    r.sub = el("p", "person-sub");
    r.gone = el("p", "person-gone");
    r.facts = el("dl", "person-facts");
    main.append(head, r.sub, r.gone, r.facts);

    const actions = el("div", "person-actions");
    r.buttons = el("div", "status-buttons arrival-buttons");
    r.statusButtons = ARRIVAL_STATUSES.map((s) => actionButton("status-btn arrival-btn", "arrival", s));
    r.buttons.append(...r.statusButtons);
    const row = el("div", "action-row");
    r.note = el("input", "person-note arrival-note");
    r.note.type = "text";
    r.note.maxLength = 1000;
    r.note.autocomplete = "off";
    row.append(r.note);
    r.transfer = el("div", "confirm-box transfer-box");
    r.transfer.setAttribute("role", "group");
    r.transferTitle = el("p");
    const dests = el("div", "destination-buttons");
    r.destButtons = DESTINATIONS.map((d) => {
      const b = actionButton("btn-quiet destination-btn", "destination", null);
      b.dataset.destination = d;
      return b;
    });
    dests.append(...r.destButtons);
    const cb = el("div", "confirm-buttons");
    r.transferYes = actionButton("btn-warning", "transfer-yes", null);
    r.transferNo = actionButton("btn-secondary", "transfer-no", null);
    cb.append(r.transferYes, r.transferNo);
    r.transfer.append(r.transferTitle, dests, cb);
    r.error = el("p", "error arrival-error");
    r.error.setAttribute("role", "alert");
    actions.append(r.buttons, row, r.transfer, r.error);

    r.updatesBox = el("div", "person-history");
    r.updatesTitle = el("h4");
    r.updates = el("ol", "history-list arrival-updates");
    r.updatesBox.append(r.updatesTitle, r.updates);
    li.append(main, actions, r.updatesBox);
    li._r = r;
    return li;
  }

  function updateArrivalRow(li, e) {
    const p = e.person;
    const r = li._r;
    const closed = activationClosed();
    const shown = e.pending || e.status;
    li.dataset.status = shown;
    li.dataset.residentId = p.resident_id;
    li.classList.toggle("is-pending", !!e.pending);
    li.classList.toggle("is-gone", e.gone);
    setText(r.name, p.name);
    r.badge.dataset.status = shown;
    setText(r.badge, assignmentStatusLabel(shown) + (e.pending ? " — " + t("sending") : ""));
    setText(r.sub, sexAge(p, new Date()));
    setText(r.gone, e.gone ? t("conflict_assignment_superseded") : "");
    r.gone.hidden = !e.gone;
    const factsKey = JSON.stringify([lang, p.address, p.phone, p.district, p.care_level, p.disability, p.support_reasons,
      p.supporters, p.notes, p.reason, p.assigned_by, p.assigned_at, p.birth_date]);
    if (r.facts.dataset.key !== factsKey) {
      r.facts.dataset.key = factsKey;
      r.facts.replaceChildren();
      fact(r.facts, t("person_address"), p.address);
      fact(r.facts, t("person_phone"), phoneNode(p.phone));
      fact(r.facts, t("person_care"), [p.care_level, p.disability].filter(Boolean).join(" ／ "));
      fact(r.facts, t("person_reasons"), p.support_reasons);
      fact(r.facts, t("person_supporters"), p.supporters);
      fact(r.facts, t("person_notes"), p.notes);
      fact(r.facts, t("person_assign_reason"), p.reason);
      fact(r.facts, t("person_assigned"), [formatTime(p.assigned_at, new Date()), p.assigned_by].filter(Boolean).join(" "));
      fact(r.facts, t("person_district"), p.district);
      fact(r.facts, t("person_birth"), p.birth_date);
    }
    const disabled = closed || !!e.pending || e.gone;
    r.statusButtons.forEach((b) => {
      setText(b, t("btn_" + b.dataset.status));
      b.disabled = disabled;
      b.setAttribute("aria-pressed", shown === b.dataset.status ? "true" : "false");
    });
    const noteLabel = t("note_label");
    if (r.note.placeholder !== noteLabel) { r.note.placeholder = noteLabel; r.note.setAttribute("aria-label", p.name + " " + noteLabel); }
    r.note.disabled = disabled;
    r.transfer.hidden = !e.transfer || disabled;
    setText(r.transferTitle, t("transfer_title"));
    r.destButtons.forEach((b) => {
      setText(b, t("dest_" + b.dataset.destination));
      b.setAttribute("aria-pressed", e.destination === b.dataset.destination ? "true" : "false");
    });
    setText(r.transferYes, t("transfer_yes"));
    setText(r.transferNo, t("cancel"));
    setText(r.error, errText(e.error));

    const updates = p.updates || [];
    r.updatesBox.hidden = updates.length === 0;
    setText(r.updatesTitle, t("updates_title"));
    const key = JSON.stringify([lang, updates]);
    if (r.updates.dataset.key !== key) {
      r.updates.dataset.key = key;
      const frag = document.createDocumentFragment();
      for (const u of updates.slice().reverse()) {
        const item = el("li", "history-item");
        const badge = el("span", "status-badge", assignmentStatusLabel(u.status));
        badge.dataset.status = u.status;
        item.append(timeNode(u.recorded_at, "history-time"), badge);
        if (u.destination) item.appendChild(el("span", "history-destination", t("dest_" + u.destination)));
        item.appendChild(el("span", "history-by", u.recorded_by));
        if (u.note) item.appendChild(el("span", "history-note", u.note));
        frag.appendChild(item);
      }
      r.updates.replaceChildren(frag);
    }
  }

  function updateArrival(id) {
    const e = arr.entries.get(id);
    const li = arr.rows.get(id);
    if (e && li) updateArrivalRow(li, e);
  }

  function onArrivalsClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    if (!btn || btn.disabled) return;
    const li = btn.closest("li.arrival");
    const id = li && li.dataset.assignmentId;
    const e = id && arr.entries.get(id);
    if (!e) return;
    const action = btn.dataset.action;
    if (action === "arrival") {
      if (btn.dataset.status === "transferred") {
        e.transfer = true;
        e.error = null;
        updateArrival(id);
        li._r.destButtons[0].focus();
      } else {
        e.transfer = false;
        recordArrival(id, btn.dataset.status, null);
      }
    } else if (action === "destination") {
      e.destination = btn.dataset.destination;
      e.error = null;
      updateArrival(id);
    } else if (action === "transfer-yes") {
      if (!e.destination) { e.error = { key: "transfer_pick" }; updateArrival(id); return; }
      e.transfer = false;
      recordArrival(id, "transferred", e.destination);
    } else if (action === "transfer-no") {
      e.transfer = false;
      e.destination = null;
      updateArrival(id);
      li._r.statusButtons[3].focus();
    }
  }

  // Optimistic: the row shows the new status at once (marked as sending), then the answer
  // confirms it or puts the old status back with the reason.
  async function recordArrival(id, status, destination) {
    const e = arr.entries.get(id);
    const li = arr.rows.get(id);
    if (!e || !li || e.pending) return;
    if (activationClosed()) { e.error = { key: "conflict_activation_closed" }; updateArrival(id); return; }
    const note = li._r.note.value;
    e.pending = status;
    e.error = null;
    updateArrival(id);
    renderArrivals();
    const body = { status, note };
    if (destination) body.destination = destination;
    const r = await call("POST", activationPath("/assignments/" + enc(e.person.assignment_id) + "/status"), body);
    if (arr.entries.get(id) !== e || (r && r.gone)) return;
    e.pending = null;
    if (r && r.status === 201 && r.data) {
      e.status = r.data.status || status;
      e.destination = null;
      arr.writes += 1;
      e.lastWrite = arr.writes;
      e.person = Object.assign({}, e.person, { status: e.status, updates: (e.person.updates || []).concat([r.data]) });
      if (li._r.note.value === note) li._r.note.value = "";
    } else {
      e.error = requestError(r, "record_failed");
    }
    renderArrivals();
  }

  async function changeMyShelter(kind) {
    const sid = myShelterId();
    if (sid === null || arr.busy) return;
    const s = liveShelter(sid) || arr.shelter;
    let capacity = null;
    if (kind === "open") {
      const want = capacityFrom($("arrivals-capacity"), !!s && s.status === "open");
      if (want.error) { arr.shelterError = want.error; renderArrivals(); $("arrivals-capacity").focus(); return; }
      capacity = want.capacity;
    }
    const key = arr.listKey;
    arr.busy = kind;
    arr.shelterError = null;
    arr.confirmClose = false;
    renderArrivals();
    const out = await postShelter(kind, sid, capacity);
    if (!out || !app.me) return;
    arr.busy = null;
    if (key === arr.listKey) {
      if (out.error) arr.shelterError = out.error;
      else if (kind === "open") $("arrivals-capacity").value = "";
    }
    renderArrivals();
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
    $("shelter-rows").addEventListener("click", onShelterRowsClick);
    $("assign-form").addEventListener("submit", onAssignSearch);
    $("assign-results").addEventListener("click", (ev) => {
      const btn = ev.target.closest("button[data-action=pick]");
      const li = btn && btn.closest("li.candidate");
      if (li) pickPerson(li.dataset.residentId);
    });
    $("assign-suggestions").addEventListener("click", onSuggestionsClick);
    $("assign-override-yes").addEventListener("click", onOverrideYes);
    $("assign-override-no").addEventListener("click", () => {
      shel.override = null;
      shel.error = null;
      renderAssign();
      $("assign-reason").focus();
    });
    $("assign-override-reason").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.isComposing && ev.keyCode !== 229) { ev.preventDefault(); onOverrideYes(); }
    });
    $("assign-other-btn").addEventListener("click", onOtherShelter);
    $("plan-form").addEventListener("submit", onPlanPreview);
    $("plan-district").addEventListener("change", (ev) => {
      shel.planDistrict = ev.target.value;
      Object.assign(shel, { plan: null, planError: null, planDone: null, planStale: false });
      renderPlan();
    });
    $("plan-confirm").addEventListener("click", onPlanConfirm);
    $("arrivals-list").addEventListener("click", onArrivalsClick);
    $("arrivals-reload").addEventListener("click", () => loadArrivals(true));
    $("arrivals-open").addEventListener("click", () => changeMyShelter("open"));
    $("arrivals-close").addEventListener("click", () => {
      arr.confirmClose = true;
      arr.shelterError = null;
      renderArrivals();
      $("arrivals-close-yes").focus();
    });
    $("arrivals-close-yes").addEventListener("click", () => changeMyShelter("close"));
    $("arrivals-close-no").addEventListener("click", () => {
      arr.confirmClose = false;
      renderArrivals();
      $("arrivals-close").focus();
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
