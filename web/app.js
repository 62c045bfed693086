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
 *   desk  ボランティア受付 coordinator, admin  a returning volunteer by phone or card (one input, Enter
 *                                       checks in), a first visit by the form, insurance, today's list
 *   needs ニーズ受付 coordinator, admin  intake with duplicate warnings, the open needs, status by hand
 *   matching マッチング coordinator, admin  a need -> a team from today's waiting volunteers; teams
 *                                       through 送り出し, 帰着, 活動報告; equipment stock; the day summary
 *   registry 施設登録 admin              the welfare shelter registry: the list (categories and facilities
 *                                       in words, operator accounts), add/edit form, and the facility
 *                                       list import (施設一覧の取込: upload -> dry-run preview -> commit)
 *   import 名簿取込  admin               CSV upload -> dry-run preview -> commit
 *   review 振り返り  coordinator, admin  an activation's after-action review: figures, the server's
 *                                       SVG charts, earlier runs of its scenario, the 印刷 link
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
 * The volunteer centre (災害VC)
 *   The board state keeps `dispatch` = {volunteers: counts, needs: [NeedCard], teams: [TeamCard],
 *   equipment: [stock]}: districts, categories, numbers and times, never a name. Every matching-board
 *   event (volunteer_*, need_*, team_*, equipment_changed) carries the changed items in full, so
 *   one handler (onDispatchEvent) replaces copies by id; a need done or cancelled and a team
 *   closed or disbanded leave the board; non-null counts replace the counts. Times out are
 *   computed from dispatched_at / expected_back_at and re-rendered every DISPATCH_TICK_MS.
 *   The desk, intake and matching views read people from the HTTP API only, refetched (debounced,
 *   SWEEP_REFETCH_MS) when a matching-board event could have changed them. Status changes of a
 *   need and a volunteer's going home are optimistic (shown "sending", confirmed or put back with
 *   the reason); forms focus the field a 400 names, and say a 409's code in words of their own
 *   with the server's message beside it (it names who, e.g. uninsured_members).
 *   The desk's one input takes a phone number (9+ digits), a card code (6 of A-Z without I/O and
 *   2-9) or a scanned QR payload SAIGAIVC:CODE (parseLookup); typing looks it up (debounced) and
 *   Enter checks in the one found. After each person the inputs clear and focus returns to
 *   #desk-lookup.
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
 *   tabs:    #tabs #tab-board #tab-sweep #tab-shelters #tab-arrivals #tab-registry #tab-import;
 *            panels #board #sweep-view #shelters-view #arrivals-view #registry-view #import-view
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
 *   tabs (centre): #tab-desk #tab-needs #tab-matching; panels #desk-view #needs-view #matching-view
 *            (each with #PREFIX-no-activation #PREFIX-closed #PREFIX-work, PREFIX = desk|needs|matching)
 *   board matching: #dispatch-board #dispatch-volunteers with #vc-checked-in #vc-waiting #vc-in-team
 *            #vc-out #vc-returned #vc-left; #dispatch-needs > section.need-group[data-status][data-count]
 *            (.need-group-count) > ul.need-cards > li.need-card[data-need-id][data-status][data-priority]
 *            (class is-urgent, needs-care) with .need-id .need-category .urgent-badge .priority-badge
 *            .care-badge .need-district .need-people .need-skills .need-received; #dispatch-needs-empty
 *            #dispatch-teams > li.team-card[data-team-id][data-status] (class is-overdue) with .team-name
 *            .team-status-badge .overdue-badge .team-need .team-members .team-elapsed .team-back;
 *            #dispatch-teams-empty #dispatch-equipment > li.equipment-item[data-equipment-id]
 *            [data-available][data-total] (class is-empty) #dispatch-equipment-empty
 *   desk:    #desk-lookup-form #desk-lookup #desk-lookup-submit #desk-lookup-error #desk-lookup-status
 *            #desk-found > li.found-volunteer[data-volunteer-id] (button.found-checkin-btn)
 *            #desk-result[data-kind=checked_in|registered|already|left_today|insurance|insured]
 *            [data-insured] (class has-warnings) #desk-result-title #desk-result-name #desk-result-kana
 *            #desk-result-code #desk-result-warnings > li.warning-item #desk-result-insurance
 *            #desk-card-link #desk-insurance-toggle #desk-insurance #desk-ins-fields #desk-insurance-error
 *            #desk-insurance-save
 *            insurance fields (PREFIX = vol|desk): #PREFIX-ins #PREFIX-ins-joined #PREFIX-ins-none
 *            #PREFIX-ins-enrol #PREFIX-ins-plans #PREFIX-ins-plan-disaster #PREFIX-ins-plan-basic
 *            #PREFIX-ins-until #PREFIX-ins-hint
 *            new volunteer: #vol-form #vol-name #vol-kana #vol-phone #vol-age #vol-prefecture #vol-city
 *            #vol-emergency #vol-group #vol-skills (input#vol-skill-CODE) #vol-insurance #vol-conflict
 *            #vol-conflict-text #vol-conflict-checkin #vol-conflict-register #vol-conflict-cancel
 *            #vol-error #vol-submit
 *            today: #desk-today-summary #desk-today-q #desk-today-reload #desk-today-loading
 *            #desk-today-error #desk-today-empty #desk-today > li.desk-volunteer[data-volunteer-id]
 *            [data-state=waiting|in_team|out|returned|left] (class is-pending) with .vol-name .vol-code
 *            .vol-state-badge .vol-ins-badge[data-insured] button.vol-insurance-btn a.vol-card-link
 *            a.certificate-link button.checkout-btn .checkout-confirm [data-action=checkout-yes|checkout-no]
 *            .vol-error
 *   needs:   #need-form #need-requester #need-phone #need-address #need-district #need-district-list
 *            #need-category #need-people #need-description #need-skills (input#need-skill-CODE)
 *            #need-priority (input#need-priority-high|normal|low) #need-urgent #need-care #need-dups
 *            #need-dups-text #need-dups-list > li.dup-item[data-need-id][data-reason] (button.dup-show-btn)
 *            #need-error #need-submit #need-done
 *            list: #needs-summary #needs-status #needs-reload #needs-loading #needs-error #needs-empty
 *            #needs-list > li.need-row[data-need-id][data-status] (class is-pending, is-gone, is-new,
 *            is-urgent) with .need-status-badge, button.need-status-btn[data-status], .need-cancel-btn
 *            -> .need-cancel-confirm [data-action=cancel-yes|cancel-no], .need-note, .need-history-btn
 *            -> .need-history ol.history-list li.history-item, .need-error
 *   matching: #match-needs > li.match-need[data-need-id][data-status] (class is-picked) with
 *            button.match-pick-btn[aria-pressed]; #match-needs-empty #team-builder #match-need-title
 *            #match-need-gone #match-need-facts #team-form #team-member-q #team-count
 *            #team-waiting-loading #team-waiting-error #team-waiting-empty #team-members >
 *            tr.member-option[data-volunteer-id] (class is-selected, is-leader, is-uninsured) with
 *            input.leader-radio input.member-check .skill-chip[data-skill] (class is-match) .vol-ins-badge;
 *            #team-name #team-vehicle #team-equipment > li.equipment-option[data-equipment-id]
 *            (input.equipment-qty) #team-equipment-empty #team-orientation #team-error #team-submit
 *            #team-done
 *            teams: #teams-reload #teams-error #teams-done #teams-formed #teams-dispatched #teams-returned
 *            (each with #teams-STATUS-empty) > li.team-row[data-team-id][data-status] (class is-overdue)
 *            with .team-status-badge .overdue-badge .team-member-list li.team-member[data-volunteer-id]
 *            (class is-leader, is-uninsured); formed: form.team-prepare (input.team-orientation
 *            input.team-vehicle .team-add-equipment input.equipment-qty button.team-prepare-btn),
 *            form.team-dispatch-form (input.team-hours button.team-dispatch-btn), button.team-disband-btn
 *            -> .team-disband-confirm [data-action=disband-yes|disband-no]; dispatched:
 *            button.team-return-btn -> form.team-return-form (input.return-all-back input.return-injuries
 *            textarea.return-injury-notes textarea.return-near-misses button.return-submit); returned:
 *            button.team-report-btn -> form.team-report-form (input.report-outcome[value=done|continue]
 *            input.report-hours textarea.report-notes .report-equipment input.equipment-qty
 *            button.report-submit); .team-error
 *            equipment: #equipment-rows > li.equipment-row[data-equipment-id][data-available]
 *            (form.equipment-adjust-form input.equipment-add button.equipment-adjust-btn
 *            .equipment-row-error) #equipment-empty #equipment-form #equipment-name #equipment-total
 *            #equipment-submit #equipment-error
 *            day summary: #day-summary-print #day-summary-csv
 *   import:  #import-file #import-mapping #import-encoding #import-preview #import-error #import-report
 *            #import-new #import-updated-count #import-unchanged #import-removed
 *            #import-rows #import-detected #import-invalid-count #import-updated-body
 *            #import-invalid-body (td.line td.column td.value td.reason) #import-unmapped
 *            #import-commit #import-commit-valid #import-confirm #import-confirm-yes
 *            #import-confirm-no #import-done #import-done-id #import-again
 *   review (coordinator, admin; tab #tab-review, panel #review-view; see the review section):
 *            #review-activation #review-reload #review-print #review-no-activation #review-loading
 *            #review-error #review-body #review-heading #review-summary > .review-figure[data-figure]
 *            #review-milestones #review-chart-safety #review-stages #review-chart-checkins
 *            #review-chart-shelters > .review-chart[data-shelter-id] #review-shelters-empty #review-open
 *            #review-comparison #review-comparison-body > tr[data-activation-id] (class is-this-run)
 *            #review-comparison-empty #review-timeline > tr[data-kind]
 *   registry (admin; tab #tab-registry, panel #registry-view):
 *            list: #registry-new #registry-reload #registry-summary #registry-loading #registry-error
 *            #registry-empty #registry-list > li.registry-shelter[data-shelter-id][data-name][data-capacity]
 *            (class is-editing) with .registry-name .registry-capacity button.registry-edit-btn
 *            [data-action=edit] .registry-address .registry-categories / .registry-facilities
 *            (ul.chip-list > li.chip[data-code], li.chip-none) .registry-operators
 *            (.registry-operator-names; class is-none) .registry-meta
 *            form: #registry-form-card #registry-form-title #registry-form #registry-name #registry-address
 *            #registry-capacity #registry-latitude #registry-longitude #registry-contact #registry-notes
 *            #registry-categories (input#registry-category-CODE) #registry-facilities
 *            (input#registry-facility-CODE); each field's message #registry-FIELD-error (the field a
 *            400 names, its input aria-invalid and focused); #registry-form-error #registry-submit
 *            #registry-cancel (Escape too) #registry-done
 *            import: #registry-import-form #registry-import-file #registry-import-file-name
 *            #registry-import-mapping #registry-import-encoding #registry-import-preview
 *            #registry-import-busy #registry-import-error (#registry-import-error-title,
 *            #registry-import-error-detail: a file refused whole, the server's reason)
 *            #registry-import-report #registry-import-report-title #registry-import-detected
 *            #registry-import-rows #registry-import-new #registry-import-updated-count
 *            #registry-import-unchanged #registry-import-invalid-count #registry-import-message
 *            #registry-import-updated #registry-import-updated-body (name, line, fields)
 *            #registry-import-invalid-section #registry-import-invalid-body (td.line td.column td.value
 *            td.reason) #registry-import-unmapped #registry-import-commit #registry-import-commit-valid
 *            #registry-import-commit-blocked #registry-import-confirm #registry-import-confirm-yes
 *            #registry-import-confirm-no #registry-import-done #registry-import-again
 */
"use strict";

(function () {
  const I18N = {
    ja: {
      title: "災害ボランティアセンター 情報ボード", app_name: "災害VC 情報ボード",
      loading: "読み込み中…", lang_toggle: "English", lang_toggle_label: "Switch to English",
      login_title: "ログイン", username: "ユーザー名", password: "パスワード", login_submit: "ログイン",
      login_bad: "ユーザー名またはパスワードが違います",
      login_locked: "ログインの失敗が続いたため、しばらく受け付けません。{s}秒後にもう一度お試しください",
      login_busy: "ログインが混み合っています。少し待ってからもう一度お試しください",
      error_disk_full: "サーバーのディスクが一杯で保存できません。管理者に連絡してください（入力内容は保存されていません）",
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
      tab_registry: "施設登録", registry_title: "福祉避難所の登録", registry_list_title: "登録済みの施設",
      registry_new: "施設を追加", registry_reload: "一覧を更新", registry_empty: "福祉避難所が登録されていません",
      registry_summary: "登録 {n}施設", registry_failed: "施設の一覧を読み込めませんでした",
      registry_forbidden: "施設の登録を扱う権限がありません（システム管理者のみ）",
      registry_edit: "編集", registry_capacity_n: "定員 {n}人", registry_operators: "運営者",
      registry_no_operators: "運営者アカウントなし", registry_categories: "受入対象", registry_facilities: "設備",
      registry_none: "指定なし", registry_position: "位置", registry_updated_at: "更新",
      registry_form_new: "施設を追加", registry_form_edit: "「{name}」を編集",
      registry_submit_new: "登録する", registry_submit_edit: "変更を保存",
      registry_name: "施設名", registry_address: "住所", registry_capacity: "定員",
      registry_latitude: "緯度（任意）", registry_longitude: "経度（任意）", registry_contact: "連絡先", registry_notes: "備考",
      registry_created: "「{name}」を登録しました", registry_saved: "「{name}」の変更を保存しました",
      registry_save_failed: "保存できませんでした", registry_network: "サーバーに接続できないため保存できませんでした",
      registry_name_needed: "施設名を入力してください", registry_address_needed: "住所を入力してください",
      registry_capacity_invalid: "定員は0〜100000の整数で入力してください",
      registry_coord_invalid: "緯度・経度は数値で、両方入力するか両方空欄にしてください",
      registry_field_invalid: "この項目に誤りがあります", conflict_shelter_exists: "同じ名前の施設がすでに登録されています",
      registry_import_title: "施設一覧の取込",
      registry_import_hint: "ファイルを選ぶと、取り込む前に内容を確認できます。施設は施設名で照合し、ファイルにない列の内容はそのまま残ります。",
      registry_import_forbidden: "施設一覧を取り込む権限がありません（システム管理者のみ）",
      registry_import_not_committed: "取り込まれませんでした（登録は変わっていません）",
      registry_import_updated_title: "更新される施設", registry_import_updated_done: "更新された施設",
      registry_field_address: "住所", registry_field_capacity: "定員", registry_field_categories: "受入対象",
      registry_field_facilities: "設備", registry_field_coordinates: "位置", registry_field_contact: "連絡先",
      registry_field_notes: "備考",
      scat_elderly: "高齢者", scat_physical_disability: "身体障害", scat_intellectual_mental_disability: "知的・精神障害",
      scat_dementia: "認知症", scat_pregnant_infant: "妊産婦・乳幼児", scat_medical_care: "医療的ケア",
      sfac_wheelchair_access: "車いす対応", sfac_accessible_toilet: "多目的トイレ", sfac_oxygen: "酸素供給",
      sfac_generator: "非常用発電機", sfac_elevator: "エレベーター", sfac_care_beds: "介護ベッド", sfac_nursing_staff: "看護職員",
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
      tab_desk: "ボランティア受付", tab_needs: "ニーズ受付", tab_matching: "マッチング",
      dispatch_title: "マッチングボード",
      vc_checked_in: "受付済", vc_waiting: "待機", vc_in_team: "班編成中", vc_out: "活動中", vc_returned: "帰着", vc_left: "帰宅",
      dispatch_needs_title: "ニーズ", dispatch_needs_empty: "受付中のニーズはありません",
      dispatch_teams_title: "班", dispatch_teams_empty: "活動中の班はありません",
      dispatch_equipment_title: "資機材の在庫", dispatch_equipment_empty: "資機材が登録されていません",
      need_status_received: "受付", need_status_surveyed: "調査済", need_status_matched: "マッチング済",
      need_status_dispatched: "活動中", need_status_reported: "報告済", need_status_done: "完了",
      need_status_continuing: "継続", need_status_cancelled: "取消",
      team_status_formed: "出発前", team_status_dispatched: "活動中", team_status_returned: "帰着",
      team_status_closed: "完了", team_status_disbanded: "解散",
      category_mud_removal: "泥出し", category_furniture_removal: "家財搬出", category_cleaning: "清掃",
      category_tidying: "片付け", category_supply_transport: "物資運搬", category_watching_over: "見守り",
      category_evacuation_support: "避難支援", category_other: "その他",
      skill_heavy_machinery: "重機", skill_nursing: "看護", skill_driving: "運転", skill_carpentry: "大工",
      skill_childcare: "保育", skill_interpreting: "通訳", skill_first_aid: "応急手当", skill_chainsaw: "チェーンソー",
      skill_electrical: "電気工事",
      age_unset: "（選択なし）", age_under_18: "18歳未満", age_18_29: "18〜29歳", age_30s: "30代", age_40s: "40代",
      age_50s: "50代", age_60s: "60代", age_70_plus: "70歳以上",
      priority_high: "高", priority_normal: "中", priority_low: "低", priority_badge: "優先度 {p}",
      need_urgent_badge: "危機介入", need_care_badge: "要配慮", need_people_n: "{n}人", need_skills_short: "技能：{skills}",
      dur_m: "{m}分", dur_hm: "{h}時間{m}分",
      team_out_for: "出発から {d}", team_due_back: "帰着予定 {at}", team_back_at: "帰着 {at}", team_formed_at: "編成 {at}",
      team_left_at: "出発 {at}", team_orientation_done: "オリエンテーション済", team_orientation_not_done: "オリエンテーション未",
      team_overdue: "予定超過 {d}", team_members_n: "{n}人", equipment_count: "在庫 {available}／{total}",
      centre_no_activation: "活動を選んでください（ボランティアセンターの記録は活動ごとです）",
      centre_closed: "この活動は終了しているため、受付・マッチングはできません",
      required: "必須", list_reload: "一覧を更新", card_code: "カード番号",
      desk_lookup_label: "2回目以降の方：電話番号またはカード番号",
      desk_lookup_placeholder: "例：090-1234-5678 / K7P2QX", desk_lookup_submit: "受付",
      desk_lookup_hint: "カードのQRコードを読み取るか、番号を入力して Enter。見つかった方をそのまま受付します。",
      desk_lookup_bad: "電話番号（9桁以上）またはカード番号（6文字）を入力してください",
      desk_lookup_empty: "電話番号またはカード番号を入力してください", desk_lookup_failed: "検索できませんでした",
      desk_not_found_card: "このカード番号の方は見つかりません。番号を確かめてください",
      desk_not_found_phone: "この電話番号の方は登録されていません。初めての方は下のフォームで登録してください",
      desk_looking_up: "検索しています…", desk_checking_in: "受付しています…",
      desk_found_many: "{n}人見つかりました。受付する方を選んでください",
      desk_checkin_btn: "受付する", desk_show: "表示", desk_checkin_failed: "受付できませんでした",
      desk_result_checked_in: "受付しました：{name}さん", desk_result_registered: "登録して受付しました：{name}さん",
      desk_result_already: "{name}さんは本日すでに受付済みです",
      desk_result_left_today: "{name}さんは本日「帰宅」と記録されています",
      desk_result_insurance: "{name}さんの保険", desk_result_insured: "{name}さんの保険を記録しました",
      desk_card_print: "カードを印刷", desk_insurance_record: "保険を記録…", desk_insurance_save: "保険を記録する",
      desk_insurance_failed: "保険を記録できませんでした",
      warn_uninsured: "有効なボランティア活動保険がありません。活動に送り出せません",
      warn_starts_tomorrow: "ボランティア活動保険は明日から有効です。本日は活動に送り出せません",
      warn_basic: "基本タイプの保険です。地震・津波・噴火による災害の活動は補償されません",
      ins_legend: "ボランティア活動保険", ins_joined: "加入済", ins_none: "未加入", ins_enrol: "ここで加入する",
      ins_plan: "保険の種類", ins_plan_disaster: "天災タイプ", ins_plan_basic: "基本タイプ", ins_until: "保険の期限",
      ins_hint_enrol: "ここで加入した保険は明日から有効です。本日は活動に送り出せません",
      ins_hint_none: "未加入の方も受付できますが、活動に送り出せません",
      ins_text_none: "保険：未加入", ins_text_ok: "保険：{plan}（〜{until}）",
      ins_text_not_yet: "保険：{plan}（{from}から有効・〜{until}）本日は無効",
      ins_ok: "保険あり", ins_missing: "保険なし",
      ins_choose: "保険の加入状況（加入済・未加入・ここで加入）を選んでください",
      ins_plan_needed: "保険の種類（天災タイプ・基本タイプ）を選んでください",
      ins_until_bad: "保険の期限を年月日で入力してください",
      vol_form_title: "初めての方の登録と受付", vol_name: "氏名", vol_kana: "フリガナ", vol_phone: "電話番号",
      vol_age: "年代", vol_prefecture: "都道府県", vol_city: "市区町村", vol_emergency: "緊急連絡先",
      vol_emergency_placeholder: "氏名・続柄・電話番号", vol_group: "団体名（任意）", vol_skills: "特技・資格",
      vol_submit: "登録して受付", vol_name_needed: "氏名を入力してください", vol_phone_needed: "電話番号を入力してください",
      vol_phone_short: "電話番号は9桁以上で入力してください", vol_register_failed: "登録できませんでした",
      vol_conflict_text: "この電話番号の方はすでに登録されています（カード番号 {code}）。同じ方なら受付してください。家族で同じ電話番号を使う場合は別の人として登録できます",
      vol_conflict_text_plain: "この電話番号の方はすでに登録されています。同じ方なら受付してください。家族で同じ電話番号を使う場合は別の人として登録できます",
      vol_conflict_checkin: "この方を受付する", vol_conflict_register: "別の人として登録する（同じ電話番号）",
      desk_today_title: "本日の受付", desk_today_q: "氏名・フリガナ・カード番号で絞り込み",
      desk_today_empty: "本日の受付はまだありません",
      desk_today_summary: "受付 {checked_in}人／待機 {waiting}／班編成中 {in_team}／活動中 {out}／帰着 {returned}／帰宅 {left}",
      vol_state_waiting: "待機", vol_state_in_team: "班編成中", vol_state_out: "活動中", vol_state_returned: "帰着",
      vol_state_left: "帰宅", vol_state_absent: "本日未受付",
      desk_row_insurance: "保険…", desk_card_short: "カード", desk_certificate: "活動証明書", desk_checkout: "帰宅…",
      desk_checkout_confirm: "{name}さんを「帰宅」と記録します（今日はもう受付し直せません）。よろしいですか？",
      desk_checkout_yes: "帰宅を記録する", desk_checkout_failed: "帰宅を記録できませんでした",
      need_form_title: "ニーズを受け付ける", need_requester: "依頼者氏名", need_phone: "電話番号", need_address: "住所",
      need_district: "地区", need_category: "種類", need_category_pick: "種類を選んでください", need_people: "必要人数",
      need_description: "依頼内容", need_skills: "必要な技能", need_priority: "優先度",
      need_urgent: "危機介入（命や健康に関わる）", need_care: "要配慮（高齢の一人暮らし・障害など）",
      need_submit: "受け付ける", need_received: "受付", need_flags: "区分",
      need_requester_needed: "依頼者の氏名を入力してください", need_address_needed: "住所を入力してください",
      need_category_needed: "ニーズの種類を選んでください", need_people_bad: "必要人数は1〜100の整数で入力してください",
      need_save_failed: "受け付けられませんでした",
      need_done: "ニーズ #{id} を受け付けました。", need_done_dups: "同じ電話番号／住所の受付：{ids}",
      need_dups_title: "同じ電話番号／住所の受付があります: {ids}", need_dup_item: "#{id}：{reason}（{status}）",
      dup_same_phone: "同じ電話番号", dup_same_address: "同じ住所",
      needs_list_title: "受付中のニーズ", needs_empty: "該当するニーズはありません", need_filter_open: "受付中すべて",
      needs_summary: "{n}件（危機介入 {urgent}件）",
      need_gone: "この条件から外れました（一覧を更新すると消えます）",
      need_to_surveyed: "調査済にする", need_to_done: "完了にする", need_to_continuing: "継続にする", need_to_cancelled: "取消…",
      need_note: "メモ（任意）", need_cancel_confirm: "ニーズ #{id} を取り消します。よろしいですか？", need_cancel_yes: "取り消す",
      need_history_title: "状態の履歴", need_status_failed: "状態を変更できませんでした",
      match_needs_title: "ニーズを選ぶ", match_need_gone: "このニーズはボードから外れました（完了・取消）",
      match_need_title: "#{id} {category}（{district}）必要 {n}人",
      team_members_legend: "班長と班員（本日の待機者から）", team_member_q: "氏名・技能で絞り込み",
      team_waiting_empty: "待機中のボランティアはいません",
      team_col_leader: "班長", team_col_member: "班員", team_col_skills: "技能", team_col_insurance: "保険",
      team_make_leader: "{name}さんを班長にする", team_make_member: "{name}さんを班員にする",
      team_count: "選択 {n}人／必要 {need}人", team_count_uninsured: "保険なし {n}人（このままでは送り出せません）",
      team_name: "班名（任意）", team_name_placeholder: "空欄なら自動（例：3班）", team_vehicle: "車両",
      team_vehicle_placeholder: "例：軽トラ1台", team_equipment_legend: "資機材", team_orientation: "オリエンテーション済",
      team_submit: "班を編成する", team_leader_needed: "班長を選んでください", team_form_failed: "班を編成できませんでした",
      team_formed_done: "「{name}」を編成しました。「出発前」の一覧から送り出してください",
      equipment_in_stock: "在庫 {n}", equipment_qty: "持ち出す数",
      equipment_qty_bad: "資機材の数は0〜1000の整数で入力してください", equipment_qty_over: "在庫・持出数より多い数です",
      teams_title: "班", teams_formed: "出発前", teams_dispatched: "活動中", teams_returned: "帰着（活動報告待ち）",
      teams_none: "なし", team_leader: "班長", team_returned_n: "（返却 {n}）",
      team_prepare: "準備を記録", team_hours_out: "帰着予定まで（時間）", team_dispatch: "送り出し",
      team_hours_out_bad: "帰着予定までの時間は0.25〜24で入力してください",
      team_disband: "解散…", team_disband_yes: "解散する",
      team_disband_confirm: "「{name}」を解散します。班員は待機に戻り、資機材は在庫に戻ります。よろしいですか？",
      team_return: "帰着…", team_all_back: "全員帰着したか", team_all_back_yes: "全員帰着",
      team_all_back_no: "未帰着者あり", team_all_back_choose: "全員が帰着したかどうかを選んでください", team_injuries: "けが・体調不良あり",
      team_injury_notes: "けが・体調不良の内容（必須）", team_near_misses: "ヒヤリハット", team_return_submit: "帰着を記録",
      team_injury_notes_needed: "けが・体調不良の内容を入力してください",
      team_report: "活動報告…", team_outcome: "結果", team_outcome_done: "完了", team_outcome_continue: "継続（翌日以降も）",
      team_hours: "活動時間（時間）", team_hours_bad: "活動時間は0〜24で入力してください", team_report_notes: "活動報告",
      team_equipment_back: "返却された資機材", team_issued: "持出 {issued}／返却済 {returned}",
      team_report_submit: "活動報告を記録",
      team_check_all_back: "全員帰着", team_check_not_all_back: "未帰着者あり", team_check_injuries: "けが・体調不良あり",
      team_check_no_injuries: "けがなし",
      team_reported_done: "「{name}」の活動報告を記録しました", team_disbanded_done: "「{name}」を解散しました",
      team_action_failed: "記録できませんでした",
      equipment_name: "資機材の名前", equipment_name_placeholder: "例：スコップ", equipment_total: "数", equipment_add: "追加",
      equipment_row_count: "在庫 {available}／全 {total}（持出中 {out}）", equipment_add_placeholder: "+5 / -1",
      equipment_adjust_label: "増やす（減らす）数", equipment_adjust: "増減",
      equipment_add_bad: "増減する数（0以外の整数）を入力してください", equipment_failed: "資機材を記録できませんでした",
      equipment_name_needed: "資機材の名前を入力してください", equipment_total_bad: "数は0〜100000の整数で入力してください",
      day_summary_title: "日報", day_summary_print: "日報を印刷", day_summary_csv: "日報CSV出力",
      conflict_already_checked_in: "本日はすでに受付済みです", conflict_already_registered: "この電話番号の方は登録済みです",
      conflict_in_team: "班に入っているため帰宅にできません（班の活動報告か解散が先です）",
      conflict_not_checked_in: "本日受付していない方、または帰宅済みの方がいます",
      conflict_volunteer_busy: "別の班に入っている方がいます", conflict_equipment_short: "資機材の在庫が足りません",
      conflict_need_closed: "このニーズは終了しています", conflict_orientation_required: "オリエンテーションが済んでいないため送り出せません",
      conflict_no_leader: "班長がいないため送り出せません",
      conflict_uninsured_members: "保険が有効でない班員がいるため送り出せません",
      conflict_return_check_required: "帰着の確認を記録してから活動報告してください",
      conflict_status_change_refused: "この状態には手動で変更できません",
      conflict_equipment_exists: "同じ名前の資機材があります（数の増減で調整してください）",
      conflict_team_not_formed: "この班はすでに出発したか、終了しています", conflict_team_not_out: "この班は活動中ではありません",
    },
    en: {
      title: "Disaster Volunteer Centre Board", app_name: "Disaster VC Board",
      loading: "Loading…", lang_toggle: "日本語", lang_toggle_label: "日本語に切り替え",
      login_title: "Sign in", username: "User name", password: "Password", login_submit: "Sign in",
      login_bad: "Wrong user name or password",
      login_locked: "Too many failed logins: try again in {s} seconds",
      login_busy: "Logins are busy: wait a moment and try again",
      error_disk_full: "The server's disk is full, nothing was saved: call the administrator",
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
      sweep_hidden: "{n} people who did not consent to sharing are not shown", sweep_hidden_one: "1 person who did not consent to sharing is not shown",
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
      import_removed_hint: "{n} people missing from this file leave the register (their records are kept)", import_removed_hint_one: "1 person missing from this file leaves the register (their record is kept)",
      import_removed_hint_invalid: "Some invalid rows cannot be told whose they are, so nobody is removed by this file",
      import_updated_summary: "{n} people will be updated (show changed fields)", import_updated_summary_one: "1 person will be updated (show changed fields)",
      import_updated_summary_done: "{n} people were updated (show changed fields)", import_updated_summary_done_one: "1 person was updated (show changed fields)",
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
      tab_registry: "Shelter registry", registry_title: "Welfare shelter registry", registry_list_title: "Registered shelters",
      registry_new: "Add a shelter", registry_reload: "Refresh", registry_empty: "No welfare shelter is registered",
      registry_summary: "{n} shelter(s) registered", registry_summary_one: "1 shelter registered", registry_failed: "Could not load the shelters",
      registry_forbidden: "You are not allowed to manage the shelter registry (administrators only)",
      registry_edit: "Edit", registry_capacity_n: "Capacity {n}", registry_operators: "Operators",
      registry_no_operators: "No operator account", registry_categories: "Accepts", registry_facilities: "Facilities",
      registry_none: "None given", registry_position: "Position", registry_updated_at: "Updated",
      registry_form_new: "Add a shelter", registry_form_edit: "Edit “{name}”",
      registry_submit_new: "Register", registry_submit_edit: "Save changes",
      registry_name: "Name", registry_address: "Address", registry_capacity: "Capacity",
      registry_latitude: "Latitude (optional)", registry_longitude: "Longitude (optional)", registry_contact: "Contact",
      registry_notes: "Notes",
      registry_created: "“{name}” was registered", registry_saved: "Changes to “{name}” were saved",
      registry_save_failed: "Could not save", registry_network: "Cannot reach the server; nothing was saved",
      registry_name_needed: "Enter the shelter's name", registry_address_needed: "Enter the address",
      registry_capacity_invalid: "Capacity is a whole number from 0 to 100000",
      registry_coord_invalid: "Latitude and longitude are numbers; give both or neither",
      registry_field_invalid: "This field is not right", conflict_shelter_exists: "A shelter with this name is registered already",
      registry_import_title: "Import a facility list",
      registry_import_hint: "Choosing a file shows what would change before anything is imported. Shelters are matched by name; columns missing from the file keep their values.",
      registry_import_forbidden: "You are not allowed to import facility lists (administrators only)",
      registry_import_not_committed: "Not imported (the registry is unchanged)",
      registry_import_updated_title: "Shelters to be updated", registry_import_updated_done: "Shelters updated",
      registry_field_address: "Address", registry_field_capacity: "Capacity", registry_field_categories: "Accepts",
      registry_field_facilities: "Facilities", registry_field_coordinates: "Position", registry_field_contact: "Contact",
      registry_field_notes: "Notes",
      scat_elderly: "Elderly", scat_physical_disability: "Physical disability",
      scat_intellectual_mental_disability: "Intellectual or mental disability", scat_dementia: "Dementia",
      scat_pregnant_infant: "Pregnant women and infants", scat_medical_care: "Medical care",
      sfac_wheelchair_access: "Wheelchair access", sfac_accessible_toilet: "Accessible toilet", sfac_oxygen: "Oxygen supply",
      sfac_generator: "Emergency generator", sfac_elevator: "Elevator", sfac_care_beds: "Care beds", sfac_nursing_staff: "Nursing staff",
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
      people_hidden: "{n} people who did not consent to sharing are not shown", people_hidden_one: "1 person who did not consent to sharing is not shown",
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
      plan_skipped: "Left out: {list}", plan_hidden: "{n} people not shown (no consent, or not assignable in a drill)", plan_hidden_one: "1 person not shown (no consent, or not assignable in a drill)",
      plan_skip_already_assigned: "already assigned",
      plan_confirm: "Confirm this plan ({n} people)", plan_confirm_one: "Confirm this plan (1 person)", plan_empty: "Nobody in this district needs a new place",
      plan_done: "{n} assignments confirmed", plan_done_one: "1 assignment confirmed",
      plan_stale: "Things changed, so the plan was not confirmed (nobody was assigned). Make the plan again",
      plan_failed: "Could not make the plan", plan_confirm_failed: "Could not confirm",
      plan_unplaced_title: "No place found",
      col_name: "Name", col_shelter: "Shelter", col_reasons: "Why", col_why: "Why not placed",
      arrivals_title: "Arrivals",
      arrivals_no_shelter: "No shelter is set for your account. Contact the administrator",
      arrivals_no_activation: "Choose an activation",
      arrivals_closed: "This activation is closed; nothing can be recorded",
      arrivals_summary: "{n} people ({assigned} expected / {arrived} arrived / {other} other)", arrivals_summary_one: "1 person ({assigned} expected / {arrived} arrived / {other} other)",
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
      tab_desk: "Volunteer desk", tab_needs: "Needs intake", tab_matching: "Matching",
      dispatch_title: "Matching board",
      vc_checked_in: "Checked in", vc_waiting: "Waiting", vc_in_team: "In a team", vc_out: "Out", vc_returned: "Back", vc_left: "Gone home",
      dispatch_needs_title: "Needs", dispatch_needs_empty: "No open needs",
      dispatch_teams_title: "Teams", dispatch_teams_empty: "No active teams",
      dispatch_equipment_title: "Equipment in stock", dispatch_equipment_empty: "No equipment registered",
      need_status_received: "Received", need_status_surveyed: "Surveyed", need_status_matched: "Matched",
      need_status_dispatched: "Team out", need_status_reported: "Reported", need_status_done: "Done",
      need_status_continuing: "Continuing", need_status_cancelled: "Cancelled",
      team_status_formed: "Not left yet", team_status_dispatched: "Out", team_status_returned: "Back",
      team_status_closed: "Closed", team_status_disbanded: "Disbanded",
      category_mud_removal: "Mud removal", category_furniture_removal: "Furniture removal", category_cleaning: "Cleaning",
      category_tidying: "Tidying", category_supply_transport: "Supply transport", category_watching_over: "Watching over",
      category_evacuation_support: "Evacuation support", category_other: "Other",
      skill_heavy_machinery: "Heavy machinery", skill_nursing: "Nursing", skill_driving: "Driving", skill_carpentry: "Carpentry",
      skill_childcare: "Childcare", skill_interpreting: "Interpreting", skill_first_aid: "First aid", skill_chainsaw: "Chainsaw",
      skill_electrical: "Electrical work",
      age_unset: "(not given)", age_under_18: "Under 18", age_18_29: "18–29", age_30s: "30s", age_40s: "40s",
      age_50s: "50s", age_60s: "60s", age_70_plus: "70 and over",
      priority_high: "high", priority_normal: "normal", priority_low: "low", priority_badge: "Priority {p}",
      need_urgent_badge: "Crisis (危機介入)", need_care_badge: "Needs care", need_people_n: "{n} people", need_people_n_one: "1 person", need_skills_short: "skills: {skills}",
      dur_m: "{m} min", dur_hm: "{h} h {m} min",
      team_out_for: "out for {d}", team_due_back: "due back {at}", team_back_at: "back {at}", team_formed_at: "formed {at}",
      team_left_at: "left {at}", team_orientation_done: "Orientation given", team_orientation_not_done: "No orientation yet",
      team_overdue: "{d} overdue", team_members_n: "{n} people", team_members_n_one: "1 person", equipment_count: "{available} of {total} in stock",
      centre_no_activation: "Choose an activation (the volunteer centre records per activation)",
      centre_closed: "This activation is closed; no check-ins, intake or matching",
      required: "required", list_reload: "Refresh list", card_code: "Card code",
      desk_lookup_label: "Returning volunteers: phone number or card code",
      desk_lookup_placeholder: "e.g. 090-1234-5678 / K7P2QX", desk_lookup_submit: "Check in",
      desk_lookup_hint: "Scan the card's QR code or type the number, then Enter. The person found is checked in at once.",
      desk_lookup_bad: "Type a phone number (9 digits or more) or a card code (6 characters)",
      desk_lookup_empty: "Type a phone number or a card code", desk_lookup_failed: "Could not search",
      desk_not_found_card: "No volunteer has this card code. Check the code",
      desk_not_found_phone: "Nobody is registered with this phone. First-timers register with the form below",
      desk_looking_up: "Searching…", desk_checking_in: "Checking in…",
      desk_found_many: "{n} people found. Choose who to check in",
      desk_checkin_btn: "Check in", desk_show: "Show", desk_checkin_failed: "Could not check in",
      desk_result_checked_in: "Checked in: {name}", desk_result_registered: "Registered and checked in: {name}",
      desk_result_already: "{name} is checked in today already",
      desk_result_left_today: "{name} is recorded as gone home today",
      desk_result_insurance: "Insurance of {name}", desk_result_insured: "Insurance recorded for {name}",
      desk_card_print: "Print the card", desk_insurance_record: "Record insurance…", desk_insurance_save: "Record the insurance",
      desk_insurance_failed: "Could not record the insurance",
      warn_uninsured: "No valid volunteer activity insurance: cannot be sent out",
      warn_starts_tomorrow: "The insurance starts tomorrow: cannot be sent out today",
      warn_basic: "Basic plan: earthquakes, tsunami and eruptions are not covered",
      ins_legend: "Volunteer activity insurance", ins_joined: "Insured", ins_none: "Not insured", ins_enrol: "Enrol here",
      ins_plan: "Plan", ins_plan_disaster: "Disaster (天災タイプ)", ins_plan_basic: "Basic", ins_until: "Valid until",
      ins_hint_enrol: "Cover bought here starts tomorrow: this person cannot be sent out today",
      ins_hint_none: "Uninsured volunteers may check in but cannot be sent out",
      ins_text_none: "Insurance: none", ins_text_ok: "Insurance: {plan} (until {until})",
      ins_text_not_yet: "Insurance: {plan} (from {from} until {until}), not valid today",
      ins_ok: "Insured", ins_missing: "Not insured",
      ins_choose: "Choose the insurance: insured, not insured, or enrol here",
      ins_plan_needed: "Choose the plan: disaster or basic",
      ins_until_bad: "Enter the end date as a date",
      vol_form_title: "First visit: register and check in", vol_name: "Name", vol_kana: "Kana", vol_phone: "Phone",
      vol_age: "Age group", vol_prefecture: "Prefecture", vol_city: "City", vol_emergency: "Emergency contact",
      vol_emergency_placeholder: "Name, relation, phone", vol_group: "Group (optional)", vol_skills: "Skills",
      vol_submit: "Register and check in", vol_name_needed: "Enter the name", vol_phone_needed: "Enter the phone number",
      vol_phone_short: "A phone number has at least 9 digits", vol_register_failed: "Could not register",
      vol_conflict_text: "Someone is registered with this phone already (card {code}). If it is the same person, check them in. A family sharing a phone can register as another person",
      vol_conflict_text_plain: "Someone is registered with this phone already. If it is the same person, check them in. A family sharing a phone can register as another person",
      vol_conflict_checkin: "Check this person in", vol_conflict_register: "Register as another person (same phone)",
      desk_today_title: "Today's volunteers", desk_today_q: "Filter by name, kana or card code",
      desk_today_empty: "Nobody has checked in today yet",
      desk_today_summary: "{checked_in} checked in / {waiting} waiting / {in_team} in a team / {out} out / {returned} back / {left} gone home",
      vol_state_waiting: "Waiting", vol_state_in_team: "In a team", vol_state_out: "Out", vol_state_returned: "Back",
      vol_state_left: "Gone home", vol_state_absent: "Not checked in today",
      desk_row_insurance: "Insurance…", desk_card_short: "Card", desk_certificate: "Certificate", desk_checkout: "Going home…",
      desk_checkout_confirm: "Record {name} as gone home (no second check-in today)?",
      desk_checkout_yes: "Record going home", desk_checkout_failed: "Could not record going home",
      need_form_title: "Take a need in", need_requester: "Requester", need_phone: "Phone", need_address: "Address",
      need_district: "District", need_category: "Kind", need_category_pick: "Choose the kind", need_people: "People needed",
      need_description: "What is asked", need_skills: "Skills needed", need_priority: "Priority",
      need_urgent: "Crisis (危機介入: life or health at stake)", need_care: "Needs care (elderly alone, disability, ...)",
      need_submit: "Take it in", need_received: "Received", need_flags: "Flags",
      need_requester_needed: "Enter the requester's name", need_address_needed: "Enter the address",
      need_category_needed: "Choose the kind of need", need_people_bad: "People needed is a whole number from 1 to 100",
      need_save_failed: "Could not take the need in",
      need_done: "Need #{id} taken in.", need_done_dups: "Same phone or address: {ids}",
      need_dups_title: "Already taken in with the same phone or address: {ids}", need_dup_item: "#{id}: {reason} ({status})",
      dup_same_phone: "same phone", dup_same_address: "same address",
      needs_list_title: "Open needs", needs_empty: "No need matches", need_filter_open: "All open",
      needs_summary: "{n} needs ({urgent} crisis)", needs_summary_one: "1 need ({urgent} crisis)",
      need_gone: "No longer matches (gone on refresh)",
      need_to_surveyed: "Mark surveyed", need_to_done: "Mark done", need_to_continuing: "Mark continuing", need_to_cancelled: "Cancel…",
      need_note: "Note (optional)", need_cancel_confirm: "Cancel need #{id}?", need_cancel_yes: "Cancel the need",
      need_history_title: "Status history", need_status_failed: "Could not change the status",
      match_needs_title: "Choose a need", match_need_gone: "This need has left the board (done or cancelled)",
      match_need_title: "#{id} {category} ({district}), {n} people needed", match_need_title_one: "#{id} {category} ({district}), 1 person needed",
      team_members_legend: "Leader and members (today's waiting volunteers)", team_member_q: "Filter by name or skill",
      team_waiting_empty: "Nobody is waiting",
      team_col_leader: "Leader", team_col_member: "Member", team_col_skills: "Skills", team_col_insurance: "Insurance",
      team_make_leader: "Make {name} the leader", team_make_member: "Take {name} in the team",
      team_count: "{n} chosen / {need} needed", team_count_uninsured: "{n} not insured (cannot be sent out like this)",
      team_name: "Team name (optional)", team_name_placeholder: "Blank: numbered (e.g. 3班)", team_vehicle: "Vehicle",
      team_vehicle_placeholder: "e.g. one light truck", team_equipment_legend: "Equipment", team_orientation: "Orientation given",
      team_submit: "Form the team", team_leader_needed: "Choose a leader", team_form_failed: "Could not form the team",
      team_formed_done: "\u201c{name}\u201d formed. Send it out from the list \u201cNot left yet\u201d",
      equipment_in_stock: "{n} in stock", equipment_qty: "quantity",
      equipment_qty_bad: "Quantities are whole numbers from 0 to 1000", equipment_qty_over: "More than there are",
      teams_title: "Teams", teams_formed: "Not left yet", teams_dispatched: "Out", teams_returned: "Back (report due)",
      teams_none: "None", team_leader: "Leader", team_returned_n: " ({n} back)",
      team_prepare: "Record preparation", team_hours_out: "Back in (hours)", team_dispatch: "Send out",
      team_hours_out_bad: "Hours out is from 0.25 to 24",
      team_disband: "Disband…", team_disband_yes: "Disband",
      team_disband_confirm: "Disband \u201c{name}\u201d? Members go back to waiting and the equipment back to stock.",
      team_return: "Back…", team_all_back: "Is everyone back?", team_all_back_yes: "Everyone back",
      team_all_back_no: "Someone not back", team_all_back_choose: "Say whether everyone is back", team_injuries: "Injuries or illness",
      team_injury_notes: "What happened (required)", team_near_misses: "Near misses (ヒヤリハット)", team_return_submit: "Record the return",
      team_injury_notes_needed: "Say what the injuries or illness were",
      team_report: "Report…", team_outcome: "Outcome", team_outcome_done: "Done", team_outcome_continue: "Continue (another day)",
      team_hours: "Hours worked", team_hours_bad: "Hours is from 0 to 24", team_report_notes: "Report",
      team_equipment_back: "Equipment returned", team_issued: "{issued} issued / {returned} back",
      team_report_submit: "Record the report",
      team_check_all_back: "All back", team_check_not_all_back: "Not everyone back", team_check_injuries: "Injuries or illness",
      team_check_no_injuries: "No injuries",
      team_reported_done: "Report of \u201c{name}\u201d recorded", team_disbanded_done: "\u201c{name}\u201d disbanded",
      team_action_failed: "Could not record",
      equipment_name: "Item", equipment_name_placeholder: "e.g. shovel", equipment_total: "Count", equipment_add: "Add",
      equipment_row_count: "{available} in stock / {total} in all ({out} out)", equipment_add_placeholder: "+5 / -1",
      equipment_adjust_label: "count to add (or take off)", equipment_adjust: "Adjust",
      equipment_add_bad: "Enter a whole number other than 0", equipment_failed: "Could not record the equipment",
      equipment_name_needed: "Enter the item's name", equipment_total_bad: "The count is a whole number from 0 to 100000",
      day_summary_title: "Day summary", day_summary_print: "Print the day summary", day_summary_csv: "Day summary CSV",
      conflict_already_checked_in: "Checked in today already", conflict_already_registered: "This phone is registered already",
      conflict_in_team: "In an active team: report or disband the team first",
      conflict_not_checked_in: "Someone is not checked in today, or has gone home",
      conflict_volunteer_busy: "Someone is in another team", conflict_equipment_short: "Not enough equipment in stock",
      conflict_need_closed: "This need is closed", conflict_orientation_required: "No orientation yet: cannot be sent out",
      conflict_no_leader: "No leader: cannot be sent out",
      conflict_uninsured_members: "Members without valid insurance: cannot be sent out",
      conflict_return_check_required: "Record the return check before the report",
      conflict_status_change_refused: "This status cannot be set by hand",
      conflict_equipment_exists: "An item of this name exists: adjust its count",
      conflict_team_not_formed: "This team has left or is closed", conflict_team_not_out: "This team is not out",
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
  const DISPATCH_TICK_MS = 30000;

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
    const dispatch = dispatchFromSnapshot(d.dispatch);
    return { activation: d.activation || null, announcements, counts, safety, shelters, dispatch, lastSeq: msg.seq };
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

  // Statuses that count as 安否確認済: the person's situation is known. 不在 (not_home) and
  // 連絡不能 (unreachable) did not reach the person. Same list as register::safety::CONFIRMED
  // on the server, which the after-action review counts.
  const CONFIRMED_STATUSES = ["safe_at_home", "evacuated", "needs_help", "hospital", "deceased"];

  function safetyTotals(safety) {
    const totals = { total: 0, unconfirmed: 0, needs_help: 0, confirmed: 0 };
    for (const d of safety || []) {
      const by = d.by_status || {};
      totals.total += d.total || 0;
      totals.unconfirmed += by.unconfirmed || 0;
      totals.needs_help += by.needs_help || 0;
      for (const status of CONFIRMED_STATUSES) totals.confirmed += by[status] || 0;
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
    // English says "1 person", not "1 people": a `KEY_one` text, where there is one, is
    // used for exactly one. Japanese needs none.
    const table = I18N[lang] || I18N.ja;
    if (vars && vars.n === 1 && Object.prototype.hasOwnProperty.call(table, key + "_one")) key += "_one";
    return t(key).replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : m));
  }

  // The views (tabs) and the roles that may use each; null means every role.
  // `panel` is the element shown for the view.
  const VIEWS = [
    { name: "board", roles: null, panel: "board" },
    { name: "sweep", roles: ["coordinator", "admin"], panel: "sweep-view" },
    { name: "shelters", roles: ["coordinator", "admin"], panel: "shelters-view" },
    { name: "arrivals", roles: ["shelter_operator"], panel: "arrivals-view" },
    { name: "desk", roles: ["coordinator", "admin"], panel: "desk-view" },
    { name: "needs", roles: ["coordinator", "admin"], panel: "needs-view" },
    { name: "matching", roles: ["coordinator", "admin"], panel: "matching-view" },
    { name: "registry", roles: ["admin"], panel: "registry-view" },
    { name: "import", roles: ["admin"], panel: "import-view" },
    { name: "drills", roles: ["admin"], panel: "drills-view" },
    { name: "review", roles: ["coordinator", "admin"], panel: "review-view" },
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

  /* ---------- 施設登録: the shelter registry (pure) ---------- */

  // Codes of the server (src/shelters/mod.rs); the words are I18N scat_* and sfac_*.
  const SHELTER_CATEGORIES = ["elderly", "physical_disability", "intellectual_mental_disability", "dementia",
    "pregnant_infant", "medical_care"];
  const SHELTER_FACILITIES = ["wheelchair_access", "accessible_toilet", "oxygen", "generator", "elevator",
    "care_beds", "nursing_staff"];

  // A code in words (prefix "scat_", "sfac_", "registry_field_"); a code we do not know shows as itself.
  function codeLabel(prefix, code) {
    return Object.prototype.hasOwnProperty.call(I18N.ja, prefix + code) ? t(prefix + code) : String(code);
  }

  // A latitude or longitude typed: null when blank, NaN when not a decimal number. The range is
  // the server's to check (its 400 names the field).
  function parseCoordinate(text) {
    const v = String(text === undefined || text === null ? "" : text).normalize("NFKC").trim().replace(/[−ー]/g, "-");
    if (v === "") return null;
    return /^[-+]?\d{1,3}(\.\d+)?$/.test(v) ? Number(v) : NaN;
  }

  // The body of POST/PUT /api/shelters from the form's values, or {field, key} for the first
  // field that cannot be sent as typed.
  function shelterBody(v) {
    const name = String(v.name || "").trim();
    if (name === "") return { field: "name", key: "registry_name_needed" };
    const address = String(v.address || "").trim();
    if (address === "") return { field: "address", key: "registry_address_needed" };
    const capacity = parseWhole(v.capacity, 0, 100000);
    if (capacity === null || Number.isNaN(capacity)) return { field: "capacity", key: "registry_capacity_invalid" };
    const latitude = parseCoordinate(v.latitude);
    const longitude = parseCoordinate(v.longitude);
    if (Number.isNaN(latitude) || (latitude === null && longitude !== null)) return { field: "latitude", key: "registry_coord_invalid" };
    if (Number.isNaN(longitude) || (longitude === null && latitude !== null)) return { field: "longitude", key: "registry_coord_invalid" };
    const body = {
      name, address, capacity, categories: v.categories || [], facilities: v.facilities || [],
      contact: String(v.contact || "").trim(), notes: String(v.notes || "").trim(),
    };
    if (latitude !== null) Object.assign(body, { latitude, longitude });
    return { body };
  }

  /* ---------- 災害VC: the matching board and the centre's forms (pure) ---------- */

  // Codes of the server (src/dispatch/mod.rs); the words are I18N category_*, skill_*, age_*.
  const NEED_CATEGORIES = ["mud_removal", "furniture_removal", "cleaning", "tidying", "supply_transport", "watching_over",
    "evacuation_support", "other"];
  const SKILLS = ["heavy_machinery", "nursing", "driving", "carpentry", "childcare", "interpreting", "first_aid", "chainsaw", "electrical"];
  const AGE_GROUPS = ["under_18", "18_29", "30s", "40s", "50s", "60s", "70_plus"];
  const PRIORITIES = ["high", "normal", "low"];
  // Open needs, in the order work moves them: the board's groups, the intake filter.
  const NEED_OPEN_STATUSES = ["received", "surveyed", "matched", "dispatched", "reported", "continuing"];
  // What staff may change by hand (the server's manual_transition_allowed); the rest follows teams.
  const NEED_MANUAL = {
    received: ["surveyed", "cancelled"], surveyed: ["cancelled"], reported: ["done", "continuing"],
    continuing: ["done", "cancelled"],
  };
  const TEAM_ACTIVE_STATUSES = ["formed", "dispatched", "returned"];
  const VOLUNTEER_EVENTS = ["volunteer_checked_in", "volunteer_left", "volunteer_insured"];
  const NEED_EVENTS = ["need_received", "need_changed"];
  const TEAM_EVENTS = ["team_formed", "team_prepared", "team_dispatched", "team_returned", "team_reported", "team_disbanded"];
  const DISPATCH_EVENTS = VOLUNTEER_EVENTS.concat(NEED_EVENTS, TEAM_EVENTS, ["equipment_changed"]);

  function needOnBoard(n) { return n.status !== "done" && n.status !== "cancelled"; }
  function teamOnBoard(tm) { return tm.status !== "closed" && tm.status !== "disbanded"; }

  function emptyDispatch() { return { volunteers: null, needs: [], teams: [], equipment: [] }; }

  function dispatchFromSnapshot(d) {
    const x = d && typeof d === "object" ? d : {};
    const list = (v) => (Array.isArray(v) ? v.filter((i) => i && typeof i === "object") : []);
    return {
      volunteers: x.volunteers && typeof x.volunteers === "object" ? Object.assign({}, x.volunteers) : null,
      needs: list(x.needs).filter(needOnBoard),
      teams: list(x.teams).filter(teamOnBoard),
      equipment: list(x.equipment),
    };
  }

  // Replaces the items of the same id in place (the list keeps its order); new ones go at the
  // end; an item `keep` refuses leaves the list.
  function replaceById(list, changed, keep) {
    const out = (list || []).slice();
    for (const item of Array.isArray(changed) ? changed : []) {
      if (!item || typeof item !== "object" || item.id === undefined || item.id === null) continue;
      const i = out.findIndex((x) => x.id === item.id);
      if (!keep(item)) { if (i >= 0) out.splice(i, 1); continue; }
      if (i >= 0) out[i] = item; else out.push(item);
    }
    return out;
  }

  // Every matching-board event carries what changed, in full: copies are replaced by id, a need
  // done or cancelled and a team closed or disbanded leave, non-null counts replace the counts.
  function withDispatch(dispatch, data) {
    const cur = dispatch || emptyDispatch();
    return {
      volunteers: data.volunteers && typeof data.volunteers === "object" ? Object.assign({}, data.volunteers) : cur.volunteers,
      needs: replaceById(cur.needs, data.needs, needOnBoard),
      teams: replaceById(cur.teams, data.teams, teamOnBoard),
      equipment: replaceById(cur.equipment, data.equipment, () => true),
    };
  }

  function onDispatchEvent(state, data) {
    if (!data || typeof data !== "object") return state;
    return Object.assign({}, state, { dispatch: withDispatch(state.dispatch, data) });
  }

  function priorityRank(p) { const i = PRIORITIES.indexOf(p); return i < 0 ? 1 : i; }

  // 危機介入 first, then priority, then the oldest.
  function needOrder(a, b) {
    if (!!a.urgent !== !!b.urgent) return a.urgent ? -1 : 1;
    return priorityRank(a.priority) - priorityRank(b.priority) || a.id - b.id;
  }

  // The board's needs as [{status, needs}] in NEED_OPEN_STATUSES order, each sorted by needOrder.
  function needGroups(needs) {
    return NEED_OPEN_STATUSES.map((status) => ({ status, needs: (needs || []).filter((n) => n.status === status).sort(needOrder) }));
  }

  // Whole minutes from `iso` to `now` (never negative), or null.
  function minutesSince(iso, now) {
    const ms = Date.parse(iso || "");
    if (isNaN(ms)) return null;
    return Math.max(0, Math.floor((now.getTime() - ms) / 60000));
  }

  // A team's clock: minutes out (dispatched only) and whether, and by how much, it is past the
  // time it said it would be back.
  function teamTiming(team, now) {
    const out = team.status === "dispatched";
    const elapsed = out ? minutesSince(team.dispatched_at, now) : null;
    const back = Date.parse(team.expected_back_at || "");
    const overdue = out && !isNaN(back) && now.getTime() > back;
    return { elapsed, overdue, overdueBy: overdue ? Math.floor((now.getTime() - back) / 60000) : 0 };
  }

  // Teams on the board: out (overdue first, then the one due back soonest), back, forming.
  function sortTeams(teams, now) {
    const rank = { dispatched: 0, returned: 1, formed: 2 };
    return (teams || []).slice().sort((a, b) => {
      const ra = rank[a.status] === undefined ? 3 : rank[a.status];
      const rb = rank[b.status] === undefined ? 3 : rank[b.status];
      if (ra !== rb) return ra - rb;
      if (a.status === "dispatched") {
        const oa = teamTiming(a, now).overdue, ob = teamTiming(b, now).overdue;
        if (oa !== ob) return oa ? -1 : 1;
        const ba = Date.parse(a.expected_back_at || "") || 0, bb = Date.parse(b.expected_back_at || "") || 0;
        if (ba !== bb) return ba - bb;
      }
      return a.id - b.id;
    });
  }

  // "25分" / "1時間05分" (and the English), from whole minutes.
  function formatDuration(minutes) {
    const m = Math.max(0, Math.floor(minutes || 0));
    if (m < 60) return tf("dur_m", { m });
    return tf("dur_hm", { h: Math.floor(m / 60), m: pad2(m % 60) });
  }

  const CARD_CODE = /^[A-HJ-NP-Z2-9]{6}$/;

  // What the desk's one input holds: {card} (6 characters, or a scanned "SAIGAIVC:CODE"),
  // {phone} (9 to 15 digits, hyphens and spaces and full-width forms allowed), or null.
  function parseLookup(text) {
    let v = String(text === undefined || text === null ? "" : text).normalize("NFKC").trim().toUpperCase();
    // A scanner on another keyboard layout may send another character for the colon.
    const scanned = /^SAIGAIVC[^A-Z0-9]?\s*([A-Z0-9]{6})$/.exec(v);
    if (scanned) v = scanned[1];
    if (CARD_CODE.test(v)) return { card: v };
    const digits = v.replace(/[\s\-‐‑–—―ー()]/g, "");
    if (/^\d{9,15}$/.test(digits)) return { phone: digits };
    return null;
  }

  function lookupQuery(q) {
    return q.card ? "card=" + encodeURIComponent(q.card) : "phone=" + encodeURIComponent(q.phone);
  }

  // 31 March of the fiscal year `day` falls in: where ボランティア活動保険 ends by default.
  function fiscalYearEnd(day) {
    const year = day.getMonth() + 1 >= 4 ? day.getFullYear() + 1 : day.getFullYear();
    return year + "-03-31";
  }

  // The insurance object of the API from the desk's choice {choice: joined|none|enrol_here,
  // plan, until}: {body} or {error: {key, field}}.
  function insuranceBody(sel) {
    const s = sel || {};
    if (s.choice === "none") return { body: { joined: false, enrol_here: false } };
    if (s.choice === "enrol_here") {
      const body = { joined: false, enrol_here: true };
      if (s.plan) body.plan = s.plan;
      return { body };
    }
    if (s.choice !== "joined") return { error: { key: "ins_choose", field: "insurance" } };
    if (!s.plan) return { error: { key: "ins_plan_needed", field: "insurance.plan" } };
    const body = { joined: true, plan: s.plan, enrol_here: false };
    if (s.until) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(s.until)) return { error: { key: "ins_until_bad", field: "insurance.valid_until" } };
      body.valid_until = s.until;
    }
    return { body };
  }

  // What the desk tells a volunteer about their cover (I18N keys), as the server's warnings do.
  function insuranceWarnings(v) {
    if (!v) return [];
    if (!v.insured_today) return [v.insurance && v.insurance.enrolled_here ? "warn_starts_tomorrow" : "warn_uninsured"];
    return v.insurance && v.insurance.plan === "basic" ? ["warn_basic"] : [];
  }

  // Where a volunteer is today: waiting, in_team (not left yet), out, returned, left, or absent.
  // `teams` are the board's team cards (a volunteer carries only the id of their team).
  function volunteerState(v, teams) {
    if (v.left_today) return "left";
    if (v.team_id !== null && v.team_id !== undefined) {
      const team = (teams || []).find((x) => x.id === v.team_id);
      const s = team ? team.status : "formed";
      return s === "dispatched" ? "out" : s === "returned" ? "returned" : "in_team";
    }
    return v.checked_in_today ? "waiting" : "absent";
  }

  // The id and card code a 409 already_registered names: its volunteer_id and card_code
  // fields, or (from a server before those fields) read from the message; null when neither.
  function parseAlreadyRegistered(data) {
    if (data && Number.isInteger(data.volunteer_id)) {
      return { id: data.volunteer_id, code: typeof data.card_code === "string" ? data.card_code : null };
    }
    const message = typeof data === "string" ? data : data && data.error;
    const m = /\(id (\d+), card ([A-Z0-9]+)\)/.exec(String(message || ""));
    return m ? { id: Number(m[1]), code: m[2] } : null;
  }

  // A whole number typed (full-width digits and a minus sign allowed): null when blank, NaN
  // when not one or outside [min, max].
  function parseWhole(text, min, max) {
    const v = String(text === undefined || text === null ? "" : text).normalize("NFKC").trim();
    if (v === "") return null;
    if (!/^[-+]?\d{1,7}$/.test(v)) return NaN;
    const n = Number(v);
    return n >= min && n <= max ? n : NaN;
  }

  // Hours typed (a decimal): null when blank, NaN when not one or outside [min, max].
  function parseHours(text, min, max) {
    const v = String(text === undefined || text === null ? "" : text).normalize("NFKC").trim();
    if (v === "") return null;
    if (!/^\d{1,2}(\.\d{1,2})?$/.test(v)) return NaN;
    const n = Number(v);
    return n >= min && n <= max ? n : NaN;
  }

  // Hours between two instants, to the half hour (what a report usually says), or null.
  function halfHours(fromIso, toIso) {
    const a = Date.parse(fromIso || ""), b = Date.parse(toIso || "");
    if (isNaN(a) || isNaN(b) || b < a) return null;
    return Math.min(24, Math.round((b - a) / 1800000) / 2);
  }

  // The server's bilingual texts ("日本語 / English"): the half in the page's language.
  function localText(text) {
    const s = String(text || "");
    const i = s.indexOf(" / ");
    if (i < 0) return s;
    return lang === "en" ? s.slice(i + 3) : s.slice(0, i);
  }

  // The element to focus for a 400's field: exact name, else its first part ("skills[2]" ->
  // "skills", "insurance.plan" -> "insurance").
  function fieldTarget(field, map) {
    if (!field) return null;
    if (Object.prototype.hasOwnProperty.call(map, field)) return map[field];
    const base = String(field).split(/[[.]/)[0];
    return Object.prototype.hasOwnProperty.call(map, base) ? map[base] : null;
  }

  // The matching board's events all carry {volunteers, needs, teams, equipment}: one handler.
  for (const type of DISPATCH_EVENTS) EVENT_HANDLERS[type] = onDispatchEvent;

  const pure = {
    I18N, EVENT_HANDLERS, reduce, stateFromSnapshot, safetyTotals, withDistrict, backoffDelay, formatTime, parseHashActivation,
    pickActivation, activationLabel, validateAnnouncement, canPost, tf, viewsFor, pickView, parseHash, buildHash,
    affectsDistrict, personsPath, onlyDistrict, stableOrder, ageOn, telHref, invalidLines, encodingLabel,
    withShelters, shelterPlaces, affectsShelter, defaultView, parseCapacity, suggestionReason,
    dispatchFromSnapshot, withDispatch, needGroups, needOrder, sortTeams, teamTiming, formatDuration, parseLookup,
    lookupQuery, fiscalYearEnd, insuranceBody, insuranceWarnings, volunteerState, parseAlreadyRegistered, parseWhole,
    parseHours, halfHours, localText, fieldTarget, NEED_MANUAL, DISPATCH_EVENTS,
    SHELTER_CATEGORIES, SHELTER_FACILITIES, codeLabel, parseCoordinate, shelterBody,
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
    "count-confirmed": (s) => safetyTotals(s.safety).confirmed,
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
    tickTimer: null,       // moves the matching board's clocks on (DISPATCH_TICK_MS)
    posting: false,
    view: "board",         // the tab shown: "board" | "sweep" | "shelters" | "arrivals" | "desk" | "needs" | "matching" | "registry" | "import" (see VIEWS)
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


  // The shelter registry (施設登録): the list, the add/edit form, the facility list import.
  const reg = {
    epoch: 0,              // bumped on reset (log out): older answers are dropped
    shelters: null,        // GET /api/shelters, or null before it answered
    loading: false,
    error: null,           // {key, extra}: the list could not be loaded
    token: 0,              // the latest list request; older answers are dropped
    editing: null,         // null: form closed; {id: null} adding; {id, name} editing that shelter
    saving: false,
    formError: null,       // {key, extra} for the form as a whole
    fieldError: null,      // {field (the form's field name), key, extra}
    done: null,            // {key, name}: the last save
    imp: { file: null, busy: null, report: null, phase: null, error: null, confirming: false, token: 0 },
  };

  const $ = (id) => document.getElementById(id);

  function storageGet(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
  function storageSet(key, v) { try { localStorage.setItem(key, v); } catch (_) { /* private mode */ } }

  // Each write carries a fresh Idempotency-Key; when the network drops it before an answer,
  // it is sent once more with the same key, so the server applies it at most once (README).
  function idempotencyKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // randomUUID needs HTTPS; the centre's LAN may be plain HTTP
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const write = method !== "GET" && method !== "HEAD";
    if (write) opts.headers["Idempotency-Key"] = idempotencyKey();
    let res;
    try {
      res = await fetch(path, opts);
    } catch (err) {
      if (!write) throw err;
      res = await fetch(path, opts); // the same key: applied once however many arrive
    }
    let data = null;
    if (res.status !== 204) { try { data = await res.json(); } catch (_) { data = null; } }
    return { status: res.status, data };
  }

  function serverError(r) {
    // A full disk is the one server error staff must act on at once: say it in words.
    if (r.status === 507) return t("error_disk_full");
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
    clearInterval(app.tickTimer);
    app.tickTimer = null;
    Object.assign(app, { me: null, activations: [], listLoaded: false, activationId: null, state: null,
      needSnapshot: true, connState: "connecting", lastUpdate: null });
    app.fresh.clear();
    app.view = "board";
    app.hashActivation = false;
    resetSweep(true);
    resetShelters();
    resetArrivals();
    resetImport();
    resetRegistry();
    resetDesk();
    resetNeeds();
    resetMatching();
    resetDrills();
    resetReview();
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
    if (app.view === "registry") enterRegistry();
    await loadActivations(true);
    clearInterval(app.refreshTimer);
    // Refresh the list now and then: new activations appear, and "today" in times stays right.
    app.refreshTimer = setInterval(() => { if (app.me) loadActivations(false); }, REFRESH_MS);
    clearInterval(app.tickTimer);
    app.tickTimer = setInterval(onDispatchTick, DISPATCH_TICK_MS);
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
    if (changed) { resetSweep(false); resetShelters(); resetArrivals(); resetDesk(); resetNeeds(); resetMatching(); }
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
    deskOnBoardMessage(msg, hadState);
    needsOnBoardMessage(msg, hadState);
    matchingOnBoardMessage(msg, hadState);
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
    renderDispatchBoard();
    renderAnnounceForm();
    renderConnState();
    if (app.view === "sweep") renderSweep();
    else if (app.view === "shelters") renderShelters();
    else if (app.view === "arrivals") renderArrivals();
    else if (app.view === "desk") renderDesk();
    else if (app.view === "needs") renderNeeds();
    else if (app.view === "matching") renderMatching();
    else if (app.view === "review") renderReview();
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
    // A tap on a desk tab starts the work: the first input takes the keyboard (arrow keys
    // moving along the tabs keep it on the tabs).
    if (changed && !focusTab && app.activationId !== null) {
      if (v === "desk") $("desk-lookup").focus();
      else if (v === "needs") $("need-requester").focus();
    }
  }

  // What entering a view loads (also after the activation changed under it).
  function enterView(v) {
    if (v === "sweep") enterSweep();
    else if (v === "shelters") enterShelters();
    else if (v === "arrivals") enterArrivals();
    else if (v === "desk") enterDesk();
    else if (v === "needs") enterNeeds();
    else if (v === "matching") enterMatching();
    else if (v === "registry") enterRegistry();
    else if (v === "import") renderImport();
    else if (v === "drills") enterDrills();
    else if (v === "review") enterReview();
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
    already_checked_in: "conflict_already_checked_in", already_registered: "conflict_already_registered",
    in_team: "conflict_in_team", not_checked_in: "conflict_not_checked_in", volunteer_busy: "conflict_volunteer_busy",
    equipment_short: "conflict_equipment_short", need_closed: "conflict_need_closed",
    orientation_required: "conflict_orientation_required", no_leader: "conflict_no_leader",
    uninsured_members: "conflict_uninsured_members", return_check_required: "conflict_return_check_required",
    status_change_refused: "conflict_status_change_refused", equipment_exists: "conflict_equipment_exists",
    team_not_formed: "conflict_team_not_formed", team_not_out: "conflict_team_not_out",
    shelter_exists: "conflict_shelter_exists",
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

  /* ---------- マッチングボード: the board's section (everyone, wall screens too) ---------- */

  // Element id per volunteer count -> the key of the counts.
  const VOLUNTEER_COUNTS = [["vc-checked-in", "checked_in"], ["vc-waiting", "waiting"], ["vc-in-team", "in_team"],
    ["vc-out", "out"], ["vc-returned", "returned"], ["vc-left", "left"]];

  function liveDispatch() {
    return app.state && app.state.dispatch ? app.state.dispatch : emptyDispatch();
  }

  function labelOf(prefix, code) {
    const key = prefix + code;
    return Object.prototype.hasOwnProperty.call(I18N.ja, key) ? t(key) : code || "";
  }

  function categoryLabel(code) { return labelOf("category_", code); }
  function skillLabel(code) { return labelOf("skill_", code); }
  function needStatusLabel(code) { return labelOf("need_status_", code); }
  function teamStatusLabel(code) { return labelOf("team_status_", code); }
  function skillsText(codes) { return (codes || []).map(skillLabel).join(t("list_sep")); }

  function renderDispatchBoard() {
    const d = liveDispatch();
    const has = !!app.state;
    for (const [id, key] of VOLUNTEER_COUNTS) {
      const n = d.volunteers ? d.volunteers[key] : null;
      setText($(id), typeof n === "number" ? n : "–");
    }
    const groups = needGroups(d.needs).filter((g) => g.needs.length > 0);
    keyedList($("dispatch-needs"), groups, (g) => g.status, buildNeedGroup, updateNeedGroup);
    $("dispatch-needs-empty").hidden = !(has && d.needs.length === 0);
    const now = new Date();
    keyedList($("dispatch-teams"), sortTeams(d.teams, now), (x) => x.id, buildTeamCard, (li, x) => updateTeamCard(li, x, now));
    $("dispatch-teams-empty").hidden = !(has && d.teams.length === 0);
    keyedList($("dispatch-equipment"), d.equipment, (x) => x.id, buildEquipmentItem, updateEquipmentItem);
    $("dispatch-equipment-empty").hidden = !(has && d.equipment.length === 0);
  }

  function buildNeedGroup() {
    const sec = el("section", "need-group");
    const h = el("h4", "need-group-title");
    const r = { name: el("span", "need-group-name"), count: el("span", "need-group-count"), list: el("ul", "need-cards") };
    h.append(r.name, r.count);
    sec.append(h, r.list);
    sec._r = r;
    return sec;
  }

  function updateNeedGroup(sec, g) {
    sec.dataset.status = g.status;
    sec.dataset.count = String(g.needs.length);
    setText(sec._r.name, needStatusLabel(g.status));
    setText(sec._r.count, g.needs.length);
    keyedList(sec._r.list, g.needs, (n) => n.id, buildNeedCard, updateNeedCard);
  }

  // The badges of a need (危機介入, priority, 要配慮), shared by the board, intake and matching.
  function buildNeedBadges() {
    const r = { urgent: el("span", "urgent-badge"), priority: el("span", "priority-badge"), care: el("span", "care-badge") };
    const box = el("span", "need-badges");
    box.append(r.urgent, r.priority, r.care);
    return { box, r };
  }

  function updateNeedBadges(r, n) {
    setText(r.urgent, t("need_urgent_badge"));
    r.urgent.hidden = !n.urgent;
    r.priority.dataset.priority = n.priority || "normal";
    setText(r.priority, tf("priority_badge", { p: labelOf("priority_", n.priority || "normal") }));
    setText(r.care, t("need_care_badge"));
    r.care.hidden = !n.requires_care;
  }

  function buildNeedCard() {
    const li = el("li", "need-card");
    const head = el("div", "need-card-head");
    const r = { id: el("span", "need-id"), category: el("strong", "need-category") };
    const badges = buildNeedBadges();
    r.badges = badges.r;
    head.append(r.id, r.category, badges.box);
    const meta = el("div", "need-card-meta");
    r.district = el("span", "need-district");
    r.people = el("span", "need-people");
    r.skills = el("span", "need-skills");
    r.time = el("time", "need-received");
    meta.append(r.district, r.people, r.skills, r.time);
    li.append(head, meta);
    li._r = r;
    return li;
  }

  function updateNeedCard(li, n) {
    const r = li._r;
    li.dataset.needId = String(n.id);
    li.dataset.status = n.status;
    li.dataset.priority = n.priority || "normal";
    li.classList.toggle("is-urgent", !!n.urgent);
    li.classList.toggle("needs-care", !!n.requires_care);
    setText(r.id, "#" + n.id);
    setText(r.category, categoryLabel(n.category));
    updateNeedBadges(r.badges, n);
    setText(r.district, n.district || t("district_none"));
    setText(r.people, tf("need_people_n", { n: n.people_needed }));
    setText(r.skills, tf("need_skills_short", { skills: skillsText(n.skills_needed) }));
    r.skills.hidden = !(n.skills_needed && n.skills_needed.length);
    setText(r.time, formatTime(n.received_at, new Date()));
    r.time.dateTime = n.received_at || "";
  }

  function buildTeamCard() {
    const li = el("li", "team-card");
    const head = el("div", "team-card-head");
    const r = { name: el("strong", "team-name"), badge: el("span", "team-status-badge"), overdue: el("span", "overdue-badge") };
    head.append(r.name, r.badge, r.overdue);
    const meta = el("div", "team-card-meta");
    r.need = el("span", "team-need");
    r.members = el("span", "team-members");
    r.elapsed = el("span", "team-elapsed");
    r.back = el("span", "team-back");
    meta.append(r.need, r.members, r.elapsed, r.back);
    li.append(head, meta);
    li._r = r;
    return li;
  }

  // The times a team card shows: out for how long and due back when; back since when; forming since when.
  function teamTimesText(team, now) {
    const timing = teamTiming(team, now);
    if (team.status === "dispatched") {
      return {
        elapsed: timing.elapsed === null ? "" : tf("team_out_for", { d: formatDuration(timing.elapsed) }),
        back: team.expected_back_at ? tf("team_due_back", { at: formatTime(team.expected_back_at, now) }) : "",
        timing,
      };
    }
    if (team.status === "returned") return { elapsed: tf("team_back_at", { at: formatTime(team.returned_at, now) }), back: "", timing };
    return { elapsed: tf("team_formed_at", { at: formatTime(team.formed_at, now) }),
      back: team.orientation_done ? t("team_orientation_done") : t("team_orientation_not_done"), timing };
  }

  function updateTeamCard(li, team, now) {
    const r = li._r;
    const times = teamTimesText(team, now);
    li.dataset.teamId = String(team.id);
    li.dataset.status = team.status;
    li.classList.toggle("is-overdue", times.timing.overdue);
    setText(r.name, team.name);
    r.badge.dataset.status = team.status;
    setText(r.badge, teamStatusLabel(team.status));
    setText(r.overdue, times.timing.overdue ? tf("team_overdue", { d: formatDuration(times.timing.overdueBy) }) : "");
    r.overdue.hidden = !times.timing.overdue;
    setText(r.need, categoryLabel(team.category) + "・" + (team.district || t("district_none")) + "（#" + team.need_id + "）");
    setText(r.members, tf("team_members_n", { n: team.members }));
    setText(r.elapsed, times.elapsed);
    setText(r.back, times.back);
    r.back.hidden = !times.back;
  }

  function buildEquipmentItem() {
    const li = el("li", "equipment-item");
    const r = { name: el("span", "equipment-name"), count: el("span", "equipment-count") };
    li.append(r.name, r.count);
    li._r = r;
    return li;
  }

  function updateEquipmentItem(li, e) {
    li.dataset.equipmentId = String(e.id);
    li.dataset.available = String(e.available);
    li.dataset.total = String(e.total);
    li.classList.toggle("is-empty", e.available <= 0);
    setText(li._r.name, e.name);
    setText(li._r.count, tf("equipment_count", { available: e.available, total: e.total }));
  }

  // Elapsed times move on without events: every DISPATCH_TICK_MS the board and the team list
  // re-render their clocks.
  function onDispatchTick() {
    if (!app.me) return;
    renderDispatchBoard();
    if (app.view === "matching") renderTeamLists();
  }

  /* ---------- 災害VC: shared pieces of the centre's views ---------- */

  function centreNotices(prefix) {
    const none = app.activationId === null;
    $(prefix + "-no-activation").hidden = !(app.listLoaded && none);
    $(prefix + "-closed").hidden = none || !activationClosed();
    $(prefix + "-work").hidden = none;
  }

  function checkChip(type, name, id, value, key) {
    const label = el("label", "check-chip");
    const input = el("input");
    input.type = type;
    input.name = name;
    input.id = id;
    input.value = value;
    const span = el("span", null, t(key));
    span.dataset.i18n = key;
    label.append(input, span);
    return label;
  }

  // One checkbox chip per code (ids PREFIX-CODE, words I18N KEYPREFIX+CODE), in a row.
  function codeChips(codes, prefix, keyPrefix) {
    const row = el("div", "chip-row");
    row.append(...codes.map((c) => checkChip("checkbox", prefix, prefix + "-" + c, c, keyPrefix + c)));
    return row;
  }

  function i18nOption(value, key) {
    const opt = el("option", null, t(key));
    opt.value = value;
    opt.dataset.i18n = key;
    return opt;
  }

  // The insurance choice (加入済 / 未加入 / ここで加入) with plan and end date, for the new-volunteer
  // form ("vol") and a registered volunteer ("desk"). Ids: PREFIX-ins-joined|none|enrol,
  // PREFIX-ins-plan-basic|disaster, PREFIX-ins-until, PREFIX-ins-hint.
  function buildInsuranceFields(box, prefix) {
    const fs = el("fieldset", "check-group insurance-fields");
    fs.id = prefix + "-ins";
    const legend = el("legend", "control-label", t("ins_legend"));
    legend.dataset.i18n = "ins_legend";
    const choices = el("div", "chip-row");
    choices.append(checkChip("radio", prefix + "-ins", prefix + "-ins-joined", "joined", "ins_joined"),
      checkChip("radio", prefix + "-ins", prefix + "-ins-none", "none", "ins_none"),
      checkChip("radio", prefix + "-ins", prefix + "-ins-enrol", "enrol_here", "ins_enrol"));
    const plans = el("fieldset", "check-group plan-group");
    plans.id = prefix + "-ins-plans";
    const planLegend = el("legend", "control-label", t("ins_plan"));
    planLegend.dataset.i18n = "ins_plan";
    const planRow = el("div", "chip-row");
    planRow.append(checkChip("radio", prefix + "-ins-plan", prefix + "-ins-plan-disaster", "disaster", "ins_plan_disaster"),
      checkChip("radio", prefix + "-ins-plan", prefix + "-ins-plan-basic", "basic", "ins_plan_basic"));
    plans.append(planLegend, planRow);
    const until = el("label", "stack-field ins-until");
    until.id = prefix + "-ins-until-field";
    const untilLabel = el("span", "control-label", t("ins_until"));
    untilLabel.dataset.i18n = "ins_until";
    const input = el("input");
    input.type = "date";
    input.id = prefix + "-ins-until";
    until.append(untilLabel, input);
    const hint = el("p", "hint ins-hint");
    hint.id = prefix + "-ins-hint";
    fs.append(legend, choices, plans, until, hint);
    box.replaceChildren(fs);
    fs.addEventListener("change", () => syncInsuranceFields(prefix));
  }

  function insuranceChoice(prefix) {
    const c = document.querySelector("input[name='" + prefix + "-ins']:checked");
    const p = document.querySelector("input[name='" + prefix + "-ins-plan']:checked");
    return { choice: c ? c.value : null, plan: p ? p.value : null, until: $(prefix + "-ins-until").value };
  }

  function syncInsuranceFields(prefix) {
    const choice = insuranceChoice(prefix).choice;
    $(prefix + "-ins-plans").hidden = !(choice === "joined" || choice === "enrol_here");
    $(prefix + "-ins-until-field").hidden = choice !== "joined";
    const hint = choice === "enrol_here" ? tf("ins_hint_enrol", {}) : choice === "none" ? t("ins_hint_none") : "";
    setText($(prefix + "-ins-hint"), hint);
    $(prefix + "-ins-hint").hidden = hint === "";
  }

  // Fills the fields from a volunteer's insurance (or clears them when `ins` is null).
  function setInsuranceFields(prefix, ins) {
    for (const input of document.querySelectorAll("input[name='" + prefix + "-ins'], input[name='" + prefix + "-ins-plan']")) {
      input.checked = false;
    }
    $(prefix + "-ins-until").value = fiscalYearEnd(new Date());
    if (ins) {
      const choice = ins.enrolled_here ? "enrol" : ins.joined ? "joined" : "none";
      $(prefix + "-ins-" + choice).checked = true;
      if (ins.plan === "basic" || ins.plan === "disaster") $(prefix + "-ins-plan-" + ins.plan).checked = true;
      if (ins.joined && !ins.enrolled_here && ins.valid_until) $(prefix + "-ins-until").value = ins.valid_until;
    }
    syncInsuranceFields(prefix);
  }

  function insuranceFieldIds(prefix) {
    return { insurance: prefix + "-ins-joined", "insurance.plan": prefix + "-ins-plan-disaster",
      "insurance.valid_until": prefix + "-ins-until" };
  }

  function insuranceText(v) {
    const ins = v && v.insurance;
    if (!ins || !ins.joined) return t("ins_text_none");
    const plan = ins.plan ? labelOf("ins_plan_", ins.plan) : "";
    return tf(v.insured_today ? "ins_text_ok" : "ins_text_not_yet", { plan, from: ins.valid_from || "", until: ins.valid_until || "" });
  }

  // Marks the input a 400 named (aria-invalid) and focuses it; clears earlier marks in `scope`.
  function markInvalid(scope, id) {
    for (const x of scope.querySelectorAll("[aria-invalid='true']")) x.removeAttribute("aria-invalid");
    const input = id ? $(id) : null;
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    return !!input;
  }

  function clearInvalid(scope) {
    for (const x of scope.querySelectorAll("[aria-invalid='true']")) x.removeAttribute("aria-invalid");
  }

  function checkedValues(box) {
    return Array.from(box.querySelectorAll("input[type=checkbox]:checked")).map((x) => x.value);
  }

  // Controls whose options come from the code lists (built once; words follow the language).
  function buildCentreControls() {
    const age = $("vol-age");
    age.replaceChildren(i18nOption("", "age_unset"), ...AGE_GROUPS.map((a) => i18nOption(a, "age_" + a)));
    for (const [box, prefix] of [[$("vol-skills"), "vol-skill"], [$("need-skills"), "need-skill"]]) {
      const row = el("div", "chip-row");
      row.append(...SKILLS.map((s) => checkChip("checkbox", prefix, prefix + "-" + s, s, "skill_" + s)));
      box.appendChild(row);
    }
    $("need-category").replaceChildren(i18nOption("", "need_category_pick"),
      ...NEED_CATEGORIES.map((c) => i18nOption(c, "category_" + c)));
    const prio = el("div", "chip-row");
    prio.append(...PRIORITIES.map((p) => checkChip("radio", "need-priority", "need-priority-" + p, p, "priority_" + p)));
    $("need-priority").appendChild(prio);
    $("need-priority-normal").checked = true;
    $("needs-status").replaceChildren(i18nOption("", "need_filter_open"),
      ...NEED_OPEN_STATUSES.map((s) => i18nOption(s, "need_status_" + s)));
    $("registry-categories").appendChild(codeChips(SHELTER_CATEGORIES, "registry-category", "scat_"));
    $("registry-facilities").appendChild(codeChips(SHELTER_FACILITIES, "registry-facility", "sfac_"));
    buildInsuranceFields($("vol-insurance"), "vol");
    buildInsuranceFields($("desk-ins-fields"), "desk");
    setInsuranceFields("vol", null);
    setInsuranceFields("desk", null);
  }

  /* ---------- ボランティア受付: the desk ---------- */

  const LOOKUP_DEBOUNCE_MS = 250;

  const desk = {
    epoch: 0,              // bumped on reset (another activation, log out): older answers are dropped
    lookupTimer: null,     // debounced lookup while typing
    lookupToken: 0,
    lookupKey: null,       // the query ("card=..." / "phone=...") `found` answers
    found: null,           // volunteers found, or null
    lookupBusy: false,
    lookupError: null,
    lookupNote: null,      // {key}: nobody found
    checkingIn: null,      // volunteer id while a check-in is sent
    result: null,          // {volunteer, warnings (server texts) | null, kind}: the last person done
    insOpen: false,        // the result's insurance form is open
    insBusy: false,
    insError: null,
    registering: false,
    regError: null,
    conflict: null,        // {id, code, phone} after 409 already_registered
    today: null,           // GET ?today=true
    todayError: null,
    todayLoading: false,
    todayToken: 0,
    todayTimer: null,
    rowState: new Map(),   // volunteer id -> {pending, error, confirm}
  };

  const VOL_FIELDS = Object.assign({
    name: "vol-name", name_kana: "vol-kana", phone: "vol-phone", prefecture: "vol-prefecture", city: "vol-city",
    age_group: "vol-age", emergency_contact: "vol-emergency", group_name: "vol-group", skills: "vol-skill-" + SKILLS[0],
  }, insuranceFieldIds("vol"));

  function resetDesk() {
    clearTimeout(desk.lookupTimer);
    clearTimeout(desk.todayTimer);
    desk.epoch += 1;
    desk.lookupToken += 1;
    desk.todayToken += 1;
    desk.rowState.clear();
    Object.assign(desk, { lookupTimer: null, lookupKey: null, found: null, lookupBusy: false, lookupError: null, lookupNote: null,
      checkingIn: null, result: null, insOpen: false, insBusy: false, insError: null, registering: false, regError: null,
      conflict: null, today: null, todayError: null, todayLoading: false, todayTimer: null });
    // What was typed about a person does not outlive the activation or the session.
    $("desk-lookup").value = "";
    $("desk-today-q").value = "";
    $("desk-found").replaceChildren();
    $("desk-today").replaceChildren();
    resetVolForm();
  }

  function resetVolForm() {
    for (const id of ["vol-name", "vol-kana", "vol-phone", "vol-prefecture", "vol-city", "vol-emergency", "vol-group"]) $(id).value = "";
    $("vol-age").value = "";
    for (const x of $("vol-skills").querySelectorAll("input")) x.checked = false;
    setInsuranceFields("vol", null);
    clearInvalid($("vol-form"));
  }

  function enterDesk() {
    renderDesk();
    loadDeskToday();
    // Opened straight on the desk (a reload, a bookmark): the keyboard goes to the one input.
    if (!document.activeElement || document.activeElement === document.body) $("desk-lookup").focus();
  }

  function deskOnBoardMessage(msg, hadState) {
    if (app.view !== "desk") return;
    if (msg.type === "snapshot" && !hadState) return;
    if (msg.type === "snapshot" || VOLUNTEER_EVENTS.indexOf(msg.type) >= 0 || TEAM_EVENTS.indexOf(msg.type) >= 0) scheduleDeskToday();
  }

  function scheduleDeskToday() {
    clearTimeout(desk.todayTimer);
    desk.todayTimer = setTimeout(loadDeskToday, SWEEP_REFETCH_MS);
  }

  function renderDesk() {
    if (!app.me || app.view !== "desk") return;
    centreNotices("desk");
    const closed = activationClosed();
    $("desk-lookup").disabled = closed;
    $("desk-lookup-submit").disabled = closed || desk.checkingIn !== null;
    renderDeskLookup();
    renderDeskResult();
    renderVolForm();
    renderDeskToday();
  }

  /* --- a returning volunteer: phone or card -> check-in --- */

  function onLookupInput() {
    clearTimeout(desk.lookupTimer);
    desk.lookupError = null;
    desk.lookupNote = null;
    const q = parseLookup($("desk-lookup").value);
    if (!q) {
      desk.lookupToken += 1;
      Object.assign(desk, { found: null, lookupKey: null, lookupBusy: false });
      renderDeskLookup();
      return;
    }
    if (lookupQuery(q) === desk.lookupKey) return;
    desk.lookupTimer = setTimeout(() => runLookup(q), LOOKUP_DEBOUNCE_MS);
  }

  // Asks the server who the query is; answers the volunteers found, null when it failed (the
  // error is shown), or undefined when a newer lookup took over.
  async function runLookup(q) {
    clearTimeout(desk.lookupTimer);
    if (app.activationId === null) return null;
    const key = lookupQuery(q);
    const token = ++desk.lookupToken;
    const epoch = desk.epoch;
    desk.lookupBusy = true;
    renderDeskLookup();
    const r = await call("GET", activationPath("/volunteers?" + key));
    if (epoch !== desk.epoch || (r && r.gone)) return undefined;
    if (token !== desk.lookupToken) return undefined;
    desk.lookupBusy = false;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      Object.assign(desk, { lookupKey: key, found: r.data, lookupError: null });
    } else {
      Object.assign(desk, { lookupKey: null, found: null, lookupError: requestError(r, "desk_lookup_failed") });
    }
    renderDeskLookup();
    return desk.found;
  }

  // Enter: the one found is checked in at once (a scanner types the code and Enter); several
  // found (a family sharing a phone) are listed to choose from; nobody found says so.
  async function onLookupSubmit(ev) {
    if (ev) ev.preventDefault();
    if (desk.checkingIn !== null || app.activationId === null) return;
    const input = $("desk-lookup");
    if (activationClosed()) { desk.lookupError = { key: "conflict_activation_closed" }; renderDeskLookup(); return; }
    const q = parseLookup(input.value);
    if (!q) {
      desk.lookupError = { key: input.value.trim() ? "desk_lookup_bad" : "desk_lookup_empty" };
      renderDeskLookup();
      input.select();
      return;
    }
    const settled = desk.lookupKey === lookupQuery(q) && !desk.lookupBusy;
    const found = settled ? desk.found : await runLookup(q);
    if (!found) { if (found === null) input.select(); return; }
    if (found.length === 1) { await checkIn(found[0]); return; }
    if (found.length === 0) {
      desk.lookupNote = { key: q.card ? "desk_not_found_card" : "desk_not_found_phone" };
      renderDeskLookup();
      if (q.phone) {
        // Most likely a first visit: carry the number over to the form.
        if (!$("vol-phone").value.trim()) $("vol-phone").value = input.value.trim();
        $("vol-name").focus();
      } else input.select();
      return;
    }
    const first = $("desk-found").querySelector("button.found-checkin-btn:not([disabled])");
    if (first) first.focus();
  }

  async function checkIn(v) {
    if (desk.checkingIn !== null) return;
    if (v.checked_in_today) { deskPersonDone({ volunteer: v, warnings: null, kind: v.left_today ? "left_today" : "already" }); return; }
    const epoch = desk.epoch;
    desk.checkingIn = v.id;
    desk.lookupError = null;
    renderDesk();
    const r = await call("POST", activationPath("/volunteers/" + enc(v.id) + "/checkin"), {});
    if (epoch !== desk.epoch || (r && r.gone)) return;
    desk.checkingIn = null;
    if (r && r.status === 201 && r.data && r.data.volunteer) {
      deskPersonDone({ volunteer: r.data.volunteer, warnings: r.data.warnings || [], kind: "checked_in" });
    } else if (r && r.status === 409 && r.data && r.data.code === "already_checked_in") {
      deskPersonDone({ volunteer: v, warnings: null, kind: "already" });
    } else {
      desk.lookupError = requestError(r, "desk_checkin_failed");
      renderDesk();
      $("desk-lookup").focus();
    }
  }

  // One person done: the result stays on screen, the inputs clear and focus goes back to the
  // first input for the next person.
  function deskPersonDone(result) {
    clearTimeout(desk.lookupTimer);
    desk.lookupToken += 1;
    Object.assign(desk, { result, found: null, lookupKey: null, lookupBusy: false, lookupError: null, lookupNote: null,
      insOpen: false, insError: null, conflict: null, regError: null });
    $("desk-lookup").value = "";
    setInsuranceFields("desk", result.volunteer.insurance);
    renderDesk();
    scheduleDeskToday();
    $("desk-lookup").focus();
  }

  function renderDeskLookup() {
    setText($("desk-lookup-error"), errText(desk.lookupError));
    const status = desk.checkingIn !== null ? t("desk_checking_in") : desk.lookupBusy ? t("desk_looking_up")
      : desk.lookupNote ? t(desk.lookupNote.key)
      : desk.found && desk.found.length > 1 ? tf("desk_found_many", { n: desk.found.length }) : "";
    setText($("desk-lookup-status"), status);
    $("desk-lookup-status").hidden = status === "";
    keyedList($("desk-found"), desk.found || [], (v) => v.id, buildFoundVolunteer, updateFoundVolunteer);
  }

  function buildFoundVolunteer() {
    const li = el("li", "found-volunteer");
    const r = { name: el("strong", "found-name"), sub: el("span", "found-sub"), badge: el("span", "vol-ins-badge"),
      state: el("span", "vol-state-badge") };
    const main = el("div", "found-main");
    main.append(r.name, r.sub, r.state, r.badge);
    r.button = actionButton("btn-primary btn-big found-checkin-btn", "checkin", null);
    li.append(main, r.button);
    li._r = r;
    return li;
  }

  function updateFoundVolunteer(li, v) {
    const r = li._r;
    li.dataset.volunteerId = String(v.id);
    setText(r.name, v.name);
    setText(r.sub, [v.name_kana, v.card_code, [v.prefecture, v.city].filter(Boolean).join(""), v.group_name].filter(Boolean).join("・"));
    insuredBadge(r.badge, v);
    const state = volunteerState(v, liveDispatch().teams);
    r.state.dataset.state = state;
    setText(r.state, labelOf("vol_state_", state));
    r.state.hidden = state === "absent";
    setText(r.button, v.checked_in_today ? t("desk_show") : t("desk_checkin_btn"));
    r.button.setAttribute("aria-label", v.name + " " + r.button.textContent);
    r.button.disabled = desk.checkingIn !== null || activationClosed();
  }

  function insuredBadge(badge, v) {
    badge.dataset.insured = v.insured_today ? "true" : "false";
    setText(badge, v.insured_today ? t("ins_ok") : t("ins_missing"));
  }

  function onFoundClick(ev) {
    const btn = ev.target.closest("button[data-action=checkin]");
    if (!btn || btn.disabled) return;
    const id = Number(btn.closest("li.found-volunteer").dataset.volunteerId);
    const v = (desk.found || []).find((x) => x.id === id);
    if (v) checkIn(v);
  }

  /* --- the person just done: card code, warnings, card, insurance --- */

  function renderDeskResult() {
    const res = desk.result;
    $("desk-result").hidden = !res;
    if (!res) return;
    const v = res.volunteer;
    const box = $("desk-result");
    box.dataset.kind = res.kind;
    box.dataset.insured = v.insured_today ? "true" : "false";
    setText($("desk-result-title"), tf("desk_result_" + res.kind, { name: v.name }));
    setText($("desk-result-name"), v.name);
    setText($("desk-result-kana"), v.name_kana || "");
    setText($("desk-result-code"), v.card_code);
    const warnings = res.warnings ? res.warnings.map(localText) : insuranceWarnings(v).map((k) => t(k));
    const key = JSON.stringify([lang, warnings]);
    const list = $("desk-result-warnings");
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      list.replaceChildren(...warnings.map((w) => el("li", "warning-item", w)));
    }
    list.hidden = warnings.length === 0;
    box.classList.toggle("has-warnings", warnings.length > 0);
    setText($("desk-result-insurance"), insuranceText(v));
    const link = $("desk-card-link");
    link.href = "/volunteers/card?activation=" + enc(app.activationId) + "&volunteer=" + enc(v.id);
    const toggle = $("desk-insurance-toggle");
    toggle.setAttribute("aria-expanded", desk.insOpen ? "true" : "false");
    toggle.classList.toggle("btn-warning", !v.insured_today);
    toggle.classList.toggle("btn-quiet", v.insured_today);
    toggle.disabled = activationClosed();
    $("desk-insurance").hidden = !desk.insOpen;
    $("desk-insurance-save").disabled = desk.insBusy || activationClosed();
    setText($("desk-insurance-save"), desk.insBusy ? t("sending") : t("desk_insurance_save"));
    setText($("desk-insurance-error"), errText(desk.insError));
  }

  function onInsuranceToggle() {
    if (!desk.result) return;
    desk.insOpen = !desk.insOpen;
    desk.insError = null;
    if (desk.insOpen) setInsuranceFields("desk", desk.result.volunteer.insurance);
    renderDeskResult();
    if (desk.insOpen) {
      const first = document.querySelector("input[name='desk-ins']:checked") || $("desk-ins-joined");
      first.focus();
    }
  }

  async function onDeskInsuranceSave(ev) {
    if (ev) ev.preventDefault();
    const res = desk.result;
    if (!res || desk.insBusy) return;
    const ins = insuranceBody(insuranceChoice("desk"));
    if (ins.error) {
      desk.insError = { key: ins.error.key };
      renderDeskResult();
      markInvalid($("desk-insurance"), fieldTarget(ins.error.field, insuranceFieldIds("desk")));
      return;
    }
    const epoch = desk.epoch;
    desk.insBusy = true;
    desk.insError = null;
    renderDeskResult();
    const r = await call("POST", activationPath("/volunteers/" + enc(res.volunteer.id) + "/insurance"), ins.body);
    if (epoch !== desk.epoch || desk.result !== res || (r && r.gone)) return;
    desk.insBusy = false;
    if (r && r.status === 200 && r.data) {
      // The server's check-in warnings are about the cover as it was: say it as it is now.
      Object.assign(res, { volunteer: r.data, warnings: null, kind: "insured" });
      desk.insOpen = false;
      clearInvalid($("desk-insurance"));
      scheduleDeskToday();
      renderDeskResult();
      $("desk-result").focus();
      return;
    }
    desk.insError = requestError(r, "desk_insurance_failed");
    renderDeskResult();
    const field = r && r.status === 400 && r.data ? r.data.field : null;
    if (!markInvalid($("desk-insurance"), fieldTarget(field, insuranceFieldIds("desk")))) $("desk-insurance-save").focus();
  }

  /* --- a first visit: register and check in --- */

  function renderVolForm() {
    const closed = activationClosed();
    $("vol-submit").disabled = closed || desk.registering;
    setText($("vol-submit"), desk.registering ? t("sending") : t("vol_submit"));
    setText($("vol-error"), errText(desk.regError));
    const c = desk.conflict;
    $("vol-conflict").hidden = !c;
    if (c) {
      setText($("vol-conflict-text"), c.code ? tf("vol_conflict_text", { code: c.code }) : t("vol_conflict_text_plain"));
      $("vol-conflict-checkin").disabled = closed || desk.registering || desk.checkingIn !== null;
      $("vol-conflict-register").disabled = closed || desk.registering;
    }
  }

  function volBody() {
    return {
      name: $("vol-name").value.trim(), name_kana: $("vol-kana").value.trim(), phone: $("vol-phone").value.trim(),
      prefecture: $("vol-prefecture").value.trim(), city: $("vol-city").value.trim(), age_group: $("vol-age").value,
      emergency_contact: $("vol-emergency").value.trim(), skills: checkedValues($("vol-skills")),
      group_name: $("vol-group").value.trim(),
    };
  }

  async function onVolSubmit(ev, allowSamePhone) {
    if (ev) ev.preventDefault();
    if (desk.registering || app.activationId === null) return;
    const form = $("vol-form");
    const body = volBody();
    let problem = null;
    if (!body.name) problem = { key: "vol_name_needed", field: "name" };
    else if (!body.phone) problem = { key: "vol_phone_needed", field: "phone" };
    else if (body.phone.normalize("NFKC").replace(/\D/g, "").length < 9) problem = { key: "vol_phone_short", field: "phone" };
    const ins = insuranceBody(insuranceChoice("vol"));
    if (!problem && ins.error) problem = ins.error;
    if (activationClosed()) problem = { key: "conflict_activation_closed", field: null };
    if (problem) {
      desk.regError = { key: problem.key };
      desk.conflict = null;
      renderVolForm();
      if (!markInvalid(form, fieldTarget(problem.field, VOL_FIELDS))) $("vol-error").focus();
      return;
    }
    body.insurance = ins.body;
    const epoch = desk.epoch;
    desk.registering = true;
    desk.regError = null;
    desk.conflict = null;
    renderVolForm();
    const r = await call("POST", activationPath("/volunteers" + (allowSamePhone ? "?allow_same_phone=true" : "")), body);
    if (epoch !== desk.epoch || (r && r.gone)) return;
    desk.registering = false;
    if (r && r.status === 201 && r.data && r.data.volunteer) {
      resetVolForm();
      deskPersonDone({ volunteer: r.data.volunteer, warnings: r.data.warnings || [], kind: "registered" });
      return;
    }
    if (r && r.status === 409 && r.data && r.data.code === "already_registered") {
      const who = parseAlreadyRegistered(r.data) || {};
      desk.conflict = { id: who.id === undefined ? null : who.id, code: who.code || null, phone: body.phone };
      renderVolForm();
      $("vol-conflict-checkin").focus();
      return;
    }
    desk.regError = requestError(r, "vol_register_failed");
    renderVolForm();
    const field = r && r.status === 400 && r.data ? r.data.field : null;
    if (!markInvalid(form, fieldTarget(field, VOL_FIELDS))) $("vol-error").focus();
  }

  // The phone is registered already: check that person in instead (the form's entries were theirs).
  async function onConflictCheckin() {
    const c = desk.conflict;
    if (!c || desk.checkingIn !== null) return;
    const epoch = desk.epoch;
    if (c.id === null) {
      // No id in the answer: find them by the phone, as the returning desk would.
      desk.conflict = null;
      renderVolForm();
      $("desk-lookup").value = c.phone;
      onLookupSubmit(null);
      return;
    }
    desk.checkingIn = c.id;
    renderDesk();
    let r = await call("POST", activationPath("/volunteers/" + enc(c.id) + "/checkin"), {});
    if (epoch !== desk.epoch || (r && r.gone)) return;
    desk.checkingIn = null;
    let result = null;
    if (r && r.status === 201 && r.data && r.data.volunteer) {
      result = { volunteer: r.data.volunteer, warnings: r.data.warnings || [], kind: "checked_in" };
    } else if (r && r.status === 409 && r.data && r.data.code === "already_checked_in") {
      r = await call("GET", activationPath("/volunteers/" + enc(c.id)));
      if (epoch !== desk.epoch || (r && r.gone)) return;
      if (r && r.status === 200 && r.data) result = { volunteer: r.data, warnings: null, kind: "already" };
    }
    if (result) {
      resetVolForm();
      deskPersonDone(result);
    } else {
      desk.regError = requestError(r, "desk_checkin_failed");
      renderDesk();
      $("vol-error").focus();
    }
  }

  /* --- today's list --- */

  async function loadDeskToday() {
    clearTimeout(desk.todayTimer);
    desk.todayTimer = null;
    if (!app.me || app.view !== "desk" || app.activationId === null) return;
    const token = ++desk.todayToken;
    const epoch = desk.epoch;
    desk.todayLoading = true;
    renderDeskToday();
    const r = await call("GET", activationPath("/volunteers?today=true"));
    if (token !== desk.todayToken || epoch !== desk.epoch || (r && r.gone)) return;
    desk.todayLoading = false;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      desk.today = r.data;
      desk.todayError = null;
    } else {
      desk.todayError = requestError(r, "list_failed");
    }
    renderDeskToday();
  }

  function deskRowState(id) {
    let st = desk.rowState.get(id);
    if (!st) { st = { pending: null, error: null, confirm: false }; desk.rowState.set(id, st); }
    return st;
  }

  function matchesQuery(q, parts) {
    if (!q) return true;
    const hay = parts.filter(Boolean).join(" ").normalize("NFKC").toLowerCase();
    return q.split(/\s+/).every((w) => hay.indexOf(w) >= 0);
  }

  function renderDeskToday() {
    if (!app.me || app.view !== "desk") return;
    const list = desk.today || [];
    const q = $("desk-today-q").value.normalize("NFKC").trim().toLowerCase();
    const shown = list.filter((v) => matchesQuery(q, [v.name, v.name_kana, v.card_code, v.group_name, v.phone]));
    keyedList($("desk-today"), shown, (v) => v.id, buildTodayRow, updateTodayRow);
    $("desk-today-loading").hidden = !(desk.todayLoading && desk.today === null);
    setText($("desk-today-error"), errText(desk.todayError));
    $("desk-today-empty").hidden = !(desk.today && list.length === 0 && !desk.todayError);
    const c = liveDispatch().volunteers;
    setText($("desk-today-summary"), c ? tf("desk_today_summary", c) : "");
    $("desk-today-reload").disabled = desk.todayLoading;
  }

  function buildTodayRow() {
    const li = el("li", "desk-volunteer");
    const r = {};
    const head = el("div", "desk-volunteer-head");
    r.name = el("strong", "vol-name");
    r.code = el("span", "vol-code");
    r.state = el("span", "vol-state-badge");
    r.ins = el("span", "vol-ins-badge");
    head.append(r.name, r.code, r.state, r.ins);
    r.sub = el("p", "vol-sub");
    const actions = el("div", "desk-volunteer-actions");
    r.insurance = actionButton("btn-quiet vol-insurance-btn", "insurance", null);
    r.card = el("a", "btn btn-quiet btn-link vol-card-link");
    r.card.target = "_blank";
    r.card.rel = "noopener";
    r.certificate = el("a", "btn btn-quiet btn-link certificate-link");
    r.certificate.target = "_blank";
    r.certificate.rel = "noopener";
    r.checkout = actionButton("btn-secondary checkout-btn", "checkout", null);
    actions.append(r.insurance, r.card, r.certificate, r.checkout);
    r.confirm = el("div", "confirm-box checkout-confirm");
    r.confirm.setAttribute("role", "alertdialog");
    r.confirmText = el("p");
    const cb = el("div", "confirm-buttons");
    r.confirmYes = actionButton("btn-warning", "checkout-yes", null);
    r.confirmNo = actionButton("btn-secondary", "checkout-no", null);
    cb.append(r.confirmYes, r.confirmNo);
    r.confirm.append(r.confirmText, cb);
    r.error = el("p", "error vol-error");
    r.error.setAttribute("role", "alert");
    li.append(head, r.sub, actions, r.confirm, r.error);
    li._r = r;
    return li;
  }

  function updateTodayRow(li, v) {
    const r = li._r;
    const st = deskRowState(v.id);
    const closed = activationClosed();
    const state = st.pending || volunteerState(v, liveDispatch().teams);
    li.dataset.volunteerId = String(v.id);
    li.dataset.state = state;
    li.classList.toggle("is-pending", !!st.pending);
    setText(r.name, v.name);
    setText(r.code, v.card_code);
    r.state.dataset.state = state;
    setText(r.state, labelOf("vol_state_", state) + (st.pending ? " — " + t("sending") : ""));
    insuredBadge(r.ins, v);
    setText(r.sub, [v.name_kana, skillsText(v.skills), v.group_name].filter(Boolean).join("・"));
    setText(r.insurance, t("desk_row_insurance"));
    r.insurance.setAttribute("aria-label", v.name + " " + t("desk_row_insurance"));
    r.insurance.disabled = closed;
    setText(r.card, t("desk_card_short"));
    r.card.href = "/volunteers/card?activation=" + enc(app.activationId) + "&volunteer=" + enc(v.id);
    r.card.setAttribute("aria-label", v.name + " " + t("desk_card_print"));
    setText(r.certificate, t("desk_certificate"));
    r.certificate.href = "/volunteers/certificate?activation=" + enc(app.activationId) + "&volunteer=" + enc(v.id);
    r.certificate.setAttribute("aria-label", v.name + " " + t("desk_certificate"));
    setText(r.checkout, t("desk_checkout"));
    r.checkout.setAttribute("aria-label", v.name + " " + t("desk_checkout"));
    r.checkout.hidden = state === "left";
    r.checkout.disabled = closed || !!st.pending || state !== "waiting";
    r.checkout.title = state !== "waiting" && state !== "left" ? t("conflict_in_team") : "";
    r.confirm.hidden = !st.confirm || r.checkout.disabled;
    setText(r.confirmText, tf("desk_checkout_confirm", { name: v.name }));
    setText(r.confirmYes, t("desk_checkout_yes"));
    setText(r.confirmNo, t("cancel"));
    setText(r.error, errText(st.error));
  }

  function onDeskTodayClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    if (!btn || btn.disabled) return;
    const li = btn.closest("li.desk-volunteer");
    const id = Number(li.dataset.volunteerId);
    const v = (desk.today || []).find((x) => x.id === id);
    if (!v) return;
    const st = deskRowState(id);
    const action = btn.dataset.action;
    if (action === "checkout") {
      st.confirm = true;
      st.error = null;
      renderDeskToday();
      li._r.confirmYes.focus();
    } else if (action === "checkout-no") {
      st.confirm = false;
      renderDeskToday();
      li._r.checkout.focus();
    } else if (action === "checkout-yes") {
      st.confirm = false;
      checkOut(v);
    } else if (action === "insurance") {
      desk.result = { volunteer: v, warnings: null, kind: "insurance" };
      desk.insOpen = true;
      desk.insError = null;
      setInsuranceFields("desk", v.insurance);
      renderDeskResult();
      $("desk-result").scrollIntoView({ block: "nearest" });
      (document.querySelector("input[name='desk-ins']:checked") || $("desk-ins-joined")).focus();
    }
  }

  // Optimistic: the row shows 帰宅 at once (marked as sending); the answer confirms it or puts
  // the state back with the reason.
  async function checkOut(v) {
    const st = deskRowState(v.id);
    if (st.pending) return;
    if (activationClosed()) { st.error = { key: "conflict_activation_closed" }; renderDeskToday(); return; }
    const epoch = desk.epoch;
    st.pending = "left";
    st.error = null;
    renderDeskToday();
    const r = await call("POST", activationPath("/volunteers/" + enc(v.id) + "/checkout"), {});
    if (epoch !== desk.epoch || (r && r.gone)) return;
    st.pending = null;
    if (r && r.status === 204) {
      desk.today = (desk.today || []).map((x) => (x.id === v.id ? Object.assign({}, x, { left_today: true }) : x));
    } else {
      st.error = requestError(r, "desk_checkout_failed");
    }
    renderDeskToday();
  }

  /* ---------- ニーズ受付: intake and the open needs ---------- */

  const DUPLICATE_CHECK_MS = 400;

  const nd = {
    epoch: 0,
    entries: new Map(),    // need id -> {need, status, pending, lastWrite, gone, fresh, error, confirmCancel, expanded, history, historyState}
    order: [],             // need ids in display order (see stableOrder)
    listKey: null,         // "activation|status filter" the entries belong to
    status: "",            // the status filter ("" = every open need)
    loaded: false,
    loading: false,
    token: 0,
    writes: 0,             // answered status writes so far (a list read before one keeps it)
    timer: null,           // debounced live refetch
    listError: null,
    dupTimer: null,
    dupToken: 0,
    dupKey: null,          // the phone and address the warning was asked for
    dups: [],              // open needs with the same phone or address
    saving: false,
    formError: null,
    done: null,            // {id, dups} after a need was taken in
  };

  const NEED_FIELDS = {
    requester_name: "need-requester", phone: "need-phone", address: "need-address", district: "need-district",
    category: "need-category", description: "need-description", people_needed: "need-people",
    skills_needed: "need-skill-" + SKILLS[0], priority: "need-priority-normal",
  };

  function resetNeeds() {
    clearTimeout(nd.timer);
    clearTimeout(nd.dupTimer);
    nd.epoch += 1;
    nd.token += 1;
    nd.dupToken += 1;
    nd.entries.clear();
    Object.assign(nd, { order: [], listKey: null, loaded: false, loading: false, timer: null, listError: null,
      dupTimer: null, dupKey: null, dups: [], saving: false, formError: null, done: null });
    $("needs-list").replaceChildren();
    resetNeedForm();
  }

  function resetNeedForm() {
    for (const id of ["need-requester", "need-phone", "need-address", "need-district", "need-description"]) $(id).value = "";
    $("need-category").value = "";
    $("need-people").value = "1";
    for (const x of $("need-skills").querySelectorAll("input")) x.checked = false;
    $("need-priority-normal").checked = true;
    $("need-urgent").checked = false;
    $("need-care").checked = false;
    clearInvalid($("need-form"));
  }

  function enterNeeds() {
    renderNeeds();
    loadNeedsList(true);
  }

  function needsOnBoardMessage(msg, hadState) {
    if (app.view !== "needs") return;
    if (msg.type === "snapshot" && !hadState) return;
    if (msg.type === "snapshot" || NEED_EVENTS.indexOf(msg.type) >= 0 || TEAM_EVENTS.indexOf(msg.type) >= 0) {
      clearTimeout(nd.timer);
      nd.timer = setTimeout(() => loadNeedsList(false), SWEEP_REFETCH_MS);
    }
  }

  function renderNeeds() {
    if (!app.me || app.view !== "needs") return;
    centreNotices("needs");
    renderNeedForm();
    renderNeedsList();
  }

  /* --- intake --- */

  function renderNeedForm() {
    const closed = activationClosed();
    $("need-submit").disabled = closed || nd.saving;
    setText($("need-submit"), nd.saving ? t("sending") : t("need_submit"));
    setText($("need-error"), errText(nd.formError));
    const done = nd.done;
    $("need-done").hidden = !done;
    if (done) {
      const dups = done.dups.map((d) => "#" + d.id).join(t("list_sep"));
      setText($("need-done"), tf("need_done", { id: done.id }) + (dups ? " " + tf("need_done_dups", { ids: dups }) : ""));
    }
    renderNeedDups();
    const districts = new Set((app.state ? app.state.safety : []).map((d) => d.district).filter(Boolean));
    for (const n of liveDispatch().needs) if (n.district) districts.add(n.district);
    const options = Array.from(districts).sort();
    const list = $("need-district-list");
    const key = JSON.stringify(options);
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      list.replaceChildren(...options.map((d) => { const o = el("option"); o.value = d; return o; }));
    }
  }

  function renderNeedDups() {
    const dups = nd.dups || [];
    $("need-dups").hidden = dups.length === 0;
    setText($("need-dups-text"), tf("need_dups_title", { ids: dups.map((d) => "#" + d.id).join(t("list_sep")) }));
    keyedList($("need-dups-list"), dups, (d) => d.id, () => {
      const li = el("li", "dup-item");
      li._r = { button: actionButton("btn-quiet dup-show-btn", "show", null) };
      li.appendChild(li._r.button);
      return li;
    }, (li, d) => {
      li.dataset.needId = String(d.id);
      li.dataset.reason = d.reason;
      setText(li._r.button, tf("need_dup_item", { id: d.id, reason: labelOf("dup_", d.reason), status: needStatusLabel(d.status) }));
    });
  }

  function onNeedContactInput() {
    clearTimeout(nd.dupTimer);
    nd.dupTimer = setTimeout(checkNeedDuplicates, DUPLICATE_CHECK_MS);
  }

  // As the phone is answered: open needs with this phone or address, before saving.
  async function checkNeedDuplicates() {
    clearTimeout(nd.dupTimer);
    if (app.activationId === null) return;
    const phone = $("need-phone").value.trim();
    const address = $("need-address").value.trim();
    const digits = phone.normalize("NFKC").replace(/\D/g, "");
    const key = JSON.stringify([digits.length >= 6 ? digits : "", address]);
    if (key === nd.dupKey) return;
    const token = ++nd.dupToken;
    const epoch = nd.epoch;
    if (digits.length < 6 && !address) { nd.dupKey = key; nd.dups = []; renderNeedDups(); return; }
    const r = await call("GET", activationPath("/needs/duplicates?phone=" + enc(phone) + "&address=" + enc(address)));
    if (token !== nd.dupToken || epoch !== nd.epoch || (r && r.gone)) return;
    // A failed check warns of nothing; the answer to saving lists duplicates again.
    if (r && r.status === 200 && Array.isArray(r.data)) { nd.dupKey = key; nd.dups = r.data; }
    renderNeedDups();
  }

  function needBody() {
    const p = document.querySelector("input[name='need-priority']:checked");
    return {
      requester_name: $("need-requester").value.trim(), phone: $("need-phone").value.trim(),
      address: $("need-address").value.trim(), district: $("need-district").value.trim(),
      category: $("need-category").value, description: $("need-description").value.trim(),
      people_needed: parseWhole($("need-people").value, 1, 100), skills_needed: checkedValues($("need-skills")),
      priority: p ? p.value : "normal", urgent: $("need-urgent").checked, requires_care: $("need-care").checked,
    };
  }

  async function onNeedSubmit(ev) {
    if (ev) ev.preventDefault();
    if (nd.saving || app.activationId === null) return;
    const form = $("need-form");
    const body = needBody();
    let problem = null;
    if (!body.requester_name) problem = { key: "need_requester_needed", field: "requester_name" };
    else if (!body.address) problem = { key: "need_address_needed", field: "address" };
    else if (!body.category) problem = { key: "need_category_needed", field: "category" };
    else if (body.people_needed === null || Number.isNaN(body.people_needed)) problem = { key: "need_people_bad", field: "people_needed" };
    if (activationClosed()) problem = { key: "conflict_activation_closed", field: null };
    if (problem) {
      nd.formError = { key: problem.key };
      renderNeedForm();
      if (!markInvalid(form, fieldTarget(problem.field, NEED_FIELDS))) $("need-error").focus();
      return;
    }
    const epoch = nd.epoch;
    nd.saving = true;
    nd.formError = null;
    nd.done = null;
    renderNeedForm();
    const r = await call("POST", activationPath("/needs"), body);
    if (epoch !== nd.epoch || (r && r.gone)) return;
    nd.saving = false;
    if (r && r.status === 201 && r.data && r.data.need) {
      nd.done = { id: r.data.need.id, dups: r.data.duplicates || [] };
      clearTimeout(nd.dupTimer);
      nd.dupToken += 1;
      nd.dups = [];
      nd.dupKey = null;
      resetNeedForm();
      renderNeedForm();
      $("need-requester").focus();
      return;
    }
    nd.formError = requestError(r, "need_save_failed");
    renderNeedForm();
    const field = r && r.status === 400 && r.data ? r.data.field : null;
    if (!markInvalid(form, fieldTarget(field, NEED_FIELDS))) $("need-error").focus();
  }

  /* --- the open needs --- */

  function needsKey() { return app.activationId + "|" + nd.status; }

  // full: the server's order (urgent, priority, oldest); otherwise rows keep their places and
  // new needs are appended, marked new (see stableOrder).
  async function loadNeedsList(full) {
    clearTimeout(nd.timer);
    nd.timer = null;
    if (!app.me || app.view !== "needs" || app.activationId === null) { renderNeeds(); return; }
    const key = needsKey();
    if (key !== nd.listKey) {
      nd.entries.clear();
      nd.order = [];
      nd.listKey = key;
      nd.loaded = false;
      full = true;
    }
    const token = ++nd.token;
    const writesAtStart = nd.writes;
    nd.loading = true;
    renderNeedsList();
    const r = await call("GET", activationPath("/needs?open=true" + (nd.status ? "&status=" + enc(nd.status) : "")));
    if (token !== nd.token || key !== nd.listKey || !app.me || (r && r.gone)) return;
    nd.loading = false;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      nd.listError = null;
      applyNeeds(r.data, full, writesAtStart);
      nd.loaded = true;
    } else {
      nd.listError = requestError(r, "list_failed");
    }
    renderNeedsList();
  }

  function applyNeeds(needs, full, writesAtStart) {
    const ids = needs.map((n) => String(n.id));
    let order = ids;
    if (full) {
      const keep = new Set(ids);
      for (const id of Array.from(nd.entries.keys())) if (!keep.has(id)) nd.entries.delete(id);
    } else {
      const stable = stableOrder(nd.order, ids);
      order = stable.order;
      for (const id of stable.gone) { const e = nd.entries.get(id); if (e) e.gone = true; }
    }
    for (const n of needs) {
      const id = String(n.id);
      let e = nd.entries.get(id);
      if (!e) {
        e = { need: n, status: n.status, pending: null, lastWrite: -1, gone: false, fresh: !full && nd.loaded, error: null,
          confirmCancel: false, expanded: false, history: null, historyState: null };
        nd.entries.set(id, e);
      }
      const before = e.status;
      e.gone = false;
      if (full) e.fresh = false;
      // A list read before this row's own write was answered may predate it: keep the write.
      if (!e.pending && e.lastWrite <= writesAtStart) { e.need = n; e.status = n.status; }
      if (e.expanded && e.status !== before) loadNeedHistory(id);
    }
    nd.order = order;
  }

  function renderNeedsList() {
    if (!app.me || app.view !== "needs") return;
    const items = nd.order.map((id) => nd.entries.get(id)).filter(Boolean);
    keyedList($("needs-list"), items, (e) => String(e.need.id), buildNeedRow, updateNeedRow);
    const visible = items.filter((e) => !e.gone);
    setText($("needs-summary"), nd.loaded ? tf("needs_summary", { n: visible.length,
      urgent: visible.filter((e) => e.need.urgent).length }) : "");
    $("needs-loading").hidden = !(nd.loading && !nd.loaded);
    setText($("needs-error"), errText(nd.listError));
    $("needs-empty").hidden = !(nd.loaded && items.length === 0 && !nd.listError);
    $("needs-reload").disabled = nd.loading;
    if ($("needs-status").value !== nd.status) $("needs-status").value = nd.status;
  }

  // The status buttons a need may get by hand; cancelled has a confirm step of its own.
  const NEED_STATUS_BUTTONS = ["surveyed", "done", "continuing"];

  function buildNeedRow(e) {
    const li = el("li", "person need-row");
    li.dataset.needId = String(e.need.id);
    const r = {};
    const main = el("div", "person-main");
    const head = el("div", "person-head");
    r.id = el("span", "need-id");
    r.title = el("h4", "need-title");
    r.badge = el("span", "status-badge need-status-badge");
    const badges = buildNeedBadges();
    r.badges = badges.r;
    r.fresh = el("span", "badge-new");
    head.append(r.id, r.title, r.badge, badges.box, r.fresh);
    r.gone = el("p", "person-gone");
    r.facts = el("dl", "person-facts");
    main.append(head, r.gone, r.facts);

    const actions = el("div", "person-actions");
    const buttons = el("div", "need-status-buttons");
    r.statusButtons = NEED_STATUS_BUTTONS.map((s) => actionButton("btn-secondary need-status-btn", "status", s));
    r.cancel = actionButton("btn-quiet need-cancel-btn", "cancel", null);
    buttons.append(...r.statusButtons, r.cancel);
    const row = el("div", "action-row");
    r.note = el("input", "person-note need-note");
    r.note.type = "text";
    r.note.maxLength = 1000;
    r.note.autocomplete = "off";
    r.historyBtn = actionButton("btn-quiet need-history-btn", "history", null);
    r.historyBtn.setAttribute("aria-controls", "need-history-" + e.need.id);
    row.append(r.note, r.historyBtn);
    r.confirm = el("div", "confirm-box need-cancel-confirm");
    r.confirm.setAttribute("role", "alertdialog");
    r.confirmText = el("p");
    const cb = el("div", "confirm-buttons");
    r.confirmYes = actionButton("btn-danger", "cancel-yes", null);
    r.confirmNo = actionButton("btn-secondary", "cancel-no", null);
    cb.append(r.confirmYes, r.confirmNo);
    r.confirm.append(r.confirmText, cb);
    r.error = el("p", "error need-error");
    r.error.setAttribute("role", "alert");
    actions.append(buttons, row, r.confirm, r.error);

    r.history = el("div", "person-history need-history");
    r.history.id = "need-history-" + e.need.id;
    r.historyTitle = el("h5");
    r.historyMsg = el("p", "notice");
    r.historyList = el("ol", "history-list");
    r.history.append(r.historyTitle, r.historyMsg, r.historyList);
    li.append(main, actions, r.history);
    li._r = r;
    return li;
  }

  function updateNeedRow(li, e) {
    const n = e.need;
    const r = li._r;
    const closed = activationClosed();
    const shown = e.pending || e.status;
    li.dataset.status = shown;
    li.classList.toggle("is-pending", !!e.pending);
    li.classList.toggle("is-gone", e.gone);
    li.classList.toggle("is-urgent", !!n.urgent);
    li.classList.toggle("is-new", !!e.fresh);
    setText(r.id, "#" + n.id);
    setText(r.title, categoryLabel(n.category) + "（" + (n.district || t("district_none")) + "）");
    r.badge.dataset.status = shown;
    setText(r.badge, needStatusLabel(shown) + (e.pending ? " — " + t("sending") : ""));
    updateNeedBadges(r.badges, n);
    setText(r.fresh, t("new_badge"));
    r.fresh.hidden = !e.fresh;
    setText(r.gone, e.gone ? t("need_gone") : "");
    r.gone.hidden = !e.gone;
    const factsKey = JSON.stringify([lang, n]);
    if (r.facts.dataset.key !== factsKey) {
      r.facts.dataset.key = factsKey;
      r.facts.replaceChildren();
      fact(r.facts, t("need_requester"), n.requester_name);
      fact(r.facts, t("need_phone"), phoneNode(n.phone));
      fact(r.facts, t("need_address"), n.address);
      fact(r.facts, t("need_description"), n.description);
      fact(r.facts, t("need_people"), tf("need_people_n", { n: n.people_needed }));
      fact(r.facts, t("need_skills"), skillsText(n.skills_needed));
      fact(r.facts, t("need_received"), [formatTime(n.received_at, new Date()), n.received_by].filter(Boolean).join(" "));
    }
    const targets = NEED_MANUAL[e.status] || [];
    const disabled = closed || !!e.pending || e.gone;
    r.statusButtons.forEach((b) => {
      const s = b.dataset.status;
      b.hidden = targets.indexOf(s) < 0;
      setText(b, t("need_to_" + s));
      b.disabled = disabled;
    });
    r.cancel.hidden = targets.indexOf("cancelled") < 0;
    setText(r.cancel, t("need_to_cancelled"));
    r.cancel.disabled = disabled;
    const noteLabel = t("need_note");
    if (r.note.placeholder !== noteLabel) { r.note.placeholder = noteLabel; r.note.setAttribute("aria-label", "#" + n.id + " " + noteLabel); }
    r.note.disabled = disabled;
    r.note.hidden = targets.length === 0;
    r.confirm.hidden = !e.confirmCancel || disabled;
    setText(r.confirmText, tf("need_cancel_confirm", { id: n.id }));
    setText(r.confirmYes, t("need_cancel_yes"));
    setText(r.confirmNo, t("cancel"));
    setText(r.error, errText(e.error));
    setText(r.historyBtn, t("history_show"));
    r.historyBtn.setAttribute("aria-expanded", e.expanded ? "true" : "false");
    r.history.hidden = !e.expanded;
    if (e.expanded) {
      setText(r.historyTitle, t("need_history_title"));
      const msg = e.historyState === "error" ? t("history_failed")
        : e.historyState === "loading" && !e.history ? t("loading") : "";
      setText(r.historyMsg, msg);
      r.historyMsg.hidden = msg === "";
      const key = JSON.stringify([lang, e.history]);
      if (r.historyList.dataset.key !== key) {
        r.historyList.dataset.key = key;
        const now = new Date();
        r.historyList.replaceChildren(...(e.history || []).slice().reverse().map((h) => {
          const item = el("li", "history-item");
          const badge = el("span", "status-badge", needStatusLabel(h.status));
          badge.dataset.status = h.status;
          const time = el("time", "history-time", formatTime(h.changed_at, now));
          time.dateTime = h.changed_at;
          item.append(time, badge, el("span", "history-by", h.changed_by));
          if (h.note) item.appendChild(el("span", "history-note", h.note));
          return item;
        }));
      }
    }
  }

  function needRowOf(id) {
    return $("needs-list").querySelector("li.need-row[data-need-id='" + id + "']");
  }

  function onNeedsListClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    if (!btn || btn.disabled) return;
    const li = btn.closest("li.need-row");
    const id = li && li.dataset.needId;
    const e = id && nd.entries.get(id);
    if (!e) return;
    const action = btn.dataset.action;
    if (action === "status") changeNeedStatus(id, btn.dataset.status);
    else if (action === "cancel") {
      e.confirmCancel = true;
      e.error = null;
      renderNeedsList();
      li._r.confirmYes.focus();
    } else if (action === "cancel-no") {
      e.confirmCancel = false;
      renderNeedsList();
      li._r.cancel.focus();
    } else if (action === "cancel-yes") {
      e.confirmCancel = false;
      changeNeedStatus(id, "cancelled");
    } else if (action === "history") {
      e.expanded = !e.expanded;
      renderNeedsList();
      if (e.expanded) loadNeedHistory(id);
    }
  }

  // Optimistic: the row shows the new status at once (marked as sending); the answer confirms
  // it or puts the old one back with the reason.
  async function changeNeedStatus(id, status) {
    const e = nd.entries.get(id);
    const li = needRowOf(id);
    if (!e || !li || e.pending) return;
    if (activationClosed()) { e.error = { key: "conflict_activation_closed" }; renderNeedsList(); return; }
    const note = li._r.note.value.trim();
    e.pending = status;
    e.error = null;
    renderNeedsList();
    const r = await call("POST", activationPath("/needs/" + enc(e.need.id) + "/status"), { status, note });
    if (nd.entries.get(id) !== e || (r && r.gone)) return;
    e.pending = null;
    if (r && r.status === 200 && r.data) {
      e.need = r.data;
      e.status = r.data.status || status;
      nd.writes += 1;
      e.lastWrite = nd.writes;
      if (li._r.note.value.trim() === note) li._r.note.value = "";
      if (e.expanded) loadNeedHistory(id);
    } else {
      e.error = requestError(r, "need_status_failed");
    }
    renderNeedsList();
  }

  async function loadNeedHistory(id) {
    const e = nd.entries.get(id);
    if (!e || app.activationId === null) return;
    e.historyState = "loading";
    renderNeedsList();
    const r = await call("GET", activationPath("/needs/" + enc(e.need.id)));
    if (nd.entries.get(id) !== e || (r && r.gone)) return;
    if (r && r.status === 200 && r.data && Array.isArray(r.data.history)) {
      e.history = r.data.history;
      e.historyState = "ok";
    } else {
      e.historyState = "error";
    }
    renderNeedsList();
  }

  // A duplicate named at intake: open it in the list (every open need when a filter hides it).
  async function showNeed(id) {
    const key = String(id);
    if (!nd.entries.has(key) && nd.status !== "") {
      nd.status = "";
      await loadNeedsList(true);
    }
    const e = nd.entries.get(key);
    const li = needRowOf(key);
    if (!e || !li) return;
    if (!e.expanded) { e.expanded = true; renderNeedsList(); loadNeedHistory(key); }
    li.scrollIntoView({ block: "nearest" });
    li._r.historyBtn.focus();
  }

  /* ---------- マッチング: need -> team; teams through dispatch, return, report; equipment ---------- */

  const match = {
    epoch: 0,              // bumped on reset: older answers are dropped
    needId: null,          // the need picked (a team is formed for it)
    needDetail: null,      // GET needs/{id}: address, description, requester
    needToken: 0,
    waiting: null,         // GET volunteers?waiting=true
    waitingError: null,
    waitingLoading: false,
    waitingToken: 0,
    waitingTimer: null,
    leader: null,          // volunteer id
    members: new Set(),    // volunteer ids (the leader too)
    forming: false,
    formError: null,
    done: null,            // {name} after a team was formed
    teams: null,           // active teams in full (GET teams?status=formed|dispatched|returned)
    teamsError: null,
    teamsToken: 0,
    teamsTimer: null,
    teamsDone: null,       // {key, name}: the last team action that took a team off the lists
    rowState: new Map(),   // team id -> {busy, error, open: null|"return"|"report", confirmDisband}
    eqBusy: false,
    eqError: null,
    eqRows: new Map(),     // equipment id -> {busy, error}
  };

  const TEAM_FIELDS = { name: "team-name", vehicle: "team-vehicle", leader_id: "team-member-q", member_ids: "team-member-q",
    need_id: "match-need-title" };

  function resetMatching() {
    clearTimeout(match.waitingTimer);
    clearTimeout(match.teamsTimer);
    match.epoch += 1;
    match.needToken += 1;
    match.waitingToken += 1;
    match.teamsToken += 1;
    match.members = new Set();
    match.rowState.clear();
    match.eqRows.clear();
    Object.assign(match, { needId: null, needDetail: null, waiting: null, waitingError: null, waitingLoading: false,
      waitingTimer: null, leader: null, forming: false, formError: null, done: null, teams: null, teamsError: null,
      teamsTimer: null, teamsDone: null, eqBusy: false, eqError: null });
    for (const id of ["team-name", "team-vehicle", "team-member-q", "equipment-name", "equipment-total"]) $(id).value = "";
    $("team-orientation").checked = false;
    for (const id of ["match-needs", "team-members", "team-equipment", "teams-formed", "teams-dispatched", "teams-returned",
      "equipment-rows"]) $(id).replaceChildren();
  }

  function enterMatching() {
    renderMatching();
    loadWaiting();
    loadTeams();
  }

  function matchingOnBoardMessage(msg, hadState) {
    if (app.view !== "matching") return;
    if (msg.type === "snapshot" && !hadState) return;
    const volunteer = VOLUNTEER_EVENTS.indexOf(msg.type) >= 0;
    const team = TEAM_EVENTS.indexOf(msg.type) >= 0;
    if (msg.type === "snapshot" || volunteer || team) {
      clearTimeout(match.waitingTimer);
      match.waitingTimer = setTimeout(loadWaiting, SWEEP_REFETCH_MS);
    }
    // Members' insurance shows in the team list too.
    if (msg.type === "snapshot" || team || msg.type === "volunteer_insured") {
      clearTimeout(match.teamsTimer);
      match.teamsTimer = setTimeout(loadTeams, SWEEP_REFETCH_MS);
    }
  }

  function renderMatching() {
    if (!app.me || app.view !== "matching") return;
    centreNotices("matching");
    if (app.activationId !== null) {
      $("day-summary-print").href = "/dispatch/day-summary/print?activation=" + enc(app.activationId);
      $("day-summary-csv").href = activationPath("/day-summary/export");
    }
    renderMatchNeeds();
    renderTeamBuilder();
    renderTeamLists();
    renderEquipmentRows();
  }

  /* --- picking a need --- */

  function boardNeed(id) {
    return liveDispatch().needs.find((n) => n.id === id) || null;
  }

  function renderMatchNeeds() {
    const needs = liveDispatch().needs.slice().sort(needOrder);
    keyedList($("match-needs"), needs, (n) => n.id, buildMatchNeed, updateMatchNeed);
    $("match-needs-empty").hidden = !(app.state && needs.length === 0);
  }

  function buildMatchNeed() {
    const li = el("li", "match-need");
    const r = {};
    r.button = actionButton("btn-quiet match-pick-btn", "pick", null);
    r.id = el("span", "need-id");
    r.category = el("strong", "need-category");
    r.where = el("span", "need-district");
    r.people = el("span", "need-people");
    r.status = el("span", "status-badge need-status-badge");
    const badges = buildNeedBadges();
    r.badges = badges.r;
    r.teams = el("span", "match-need-teams");
    r.button.append(r.id, r.category, r.where, r.people, r.status, badges.box, r.teams);
    li.appendChild(r.button);
    li._r = r;
    return li;
  }

  function updateMatchNeed(li, n) {
    const r = li._r;
    const picked = match.needId === n.id;
    li.dataset.needId = String(n.id);
    li.dataset.status = n.status;
    li.classList.toggle("is-picked", picked);
    li.classList.toggle("is-urgent", !!n.urgent);
    setText(r.id, "#" + n.id);
    setText(r.category, categoryLabel(n.category));
    setText(r.where, n.district || t("district_none"));
    setText(r.people, tf("need_people_n", { n: n.people_needed }));
    r.status.dataset.status = n.status;
    setText(r.status, needStatusLabel(n.status));
    updateNeedBadges(r.badges, n);
    const teams = liveDispatch().teams.filter((x) => x.need_id === n.id).map((x) => x.name);
    setText(r.teams, teams.join(t("list_sep")));
    r.teams.hidden = teams.length === 0;
    r.button.setAttribute("aria-pressed", picked ? "true" : "false");
    // A reported need is closed for new teams (the server's need_closed).
    r.button.disabled = n.status === "reported";
  }

  function onMatchNeedsClick(ev) {
    const btn = ev.target.closest("button[data-action=pick]");
    if (!btn || btn.disabled) return;
    pickNeed(Number(btn.closest("li.match-need").dataset.needId));
  }

  function pickNeed(id) {
    if (match.needId !== id) {
      match.needId = id;
      match.needDetail = null;
      match.formError = null;
      clearInvalid($("team-form"));
      loadNeedDetail();
    }
    match.done = null;
    renderMatching();
    if (match.waiting === null) loadWaiting();
    $("match-need-title").focus();
  }

  async function loadNeedDetail() {
    const id = match.needId;
    if (id === null || app.activationId === null) return;
    const token = ++match.needToken;
    const r = await call("GET", activationPath("/needs/" + enc(id)));
    if (token !== match.needToken || match.needId !== id || (r && r.gone)) return;
    match.needDetail = r && r.status === 200 && r.data ? r.data : null;
    renderTeamBuilder();
  }

  /* --- forming a team --- */

  async function loadWaiting() {
    clearTimeout(match.waitingTimer);
    match.waitingTimer = null;
    if (!app.me || app.view !== "matching" || app.activationId === null) return;
    const token = ++match.waitingToken;
    const epoch = match.epoch;
    match.waitingLoading = true;
    renderTeamBuilder();
    const r = await call("GET", activationPath("/volunteers?waiting=true"));
    if (token !== match.waitingToken || epoch !== match.epoch || (r && r.gone)) return;
    match.waitingLoading = false;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      match.waiting = r.data;
      match.waitingError = null;
      // Whoever left the pool (taken by another team, gone home) is no longer chosen.
      const ids = new Set(r.data.map((v) => v.id));
      for (const id of Array.from(match.members)) if (!ids.has(id)) match.members.delete(id);
      if (match.leader !== null && !ids.has(match.leader)) match.leader = null;
    } else {
      match.waitingError = requestError(r, "list_failed");
    }
    renderTeamBuilder();
  }

  function renderTeamBuilder() {
    if (!app.me || app.view !== "matching") return;
    const closed = activationClosed();
    $("team-done").hidden = !match.done;
    setText($("team-done"), match.done ? tf("team_formed_done", match.done) : "");
    const id = match.needId;
    $("team-builder").hidden = id === null;
    if (id === null) return;
    const n = boardNeed(id);
    const detail = match.needDetail;
    const need = n || detail;
    $("match-need-gone").hidden = !!n;
    setText($("match-need-title"), need
      ? tf("match_need_title", { id, category: categoryLabel(need.category), district: need.district || t("district_none"),
        n: need.people_needed })
      : "#" + id);
    const facts = $("match-need-facts");
    const factsKey = JSON.stringify([lang, detail, n]);
    if (facts.dataset.key !== factsKey) {
      facts.dataset.key = factsKey;
      facts.replaceChildren();
      if (detail) {
        fact(facts, t("need_address"), detail.address);
        fact(facts, t("need_requester"), detail.requester_name);
        fact(facts, t("need_phone"), phoneNode(detail.phone));
        fact(facts, t("need_description"), detail.description);
      }
      if (need) {
        fact(facts, t("need_skills"), skillsText(need.skills_needed));
        const flags = [need.urgent ? t("need_urgent_badge") : null, need.requires_care ? t("need_care_badge") : null,
          tf("priority_badge", { p: labelOf("priority_", need.priority || "normal") })].filter(Boolean);
        fact(facts, t("need_flags"), flags.join(t("list_sep")));
      }
    }

    const wanted = new Set((need && need.skills_needed) || []);
    const q = $("team-member-q").value.normalize("NFKC").trim().toLowerCase();
    const pool = (match.waiting || []).filter((v) => match.members.has(v.id) || match.leader === v.id ||
      matchesQuery(q, [v.name, v.name_kana, v.card_code, v.group_name].concat((v.skills || []).map(skillLabel))));
    keyedList($("team-members"), pool, (v) => v.id, buildMemberRow, (tr, v) => updateMemberRow(tr, v, wanted));
    $("team-waiting-loading").hidden = !(match.waitingLoading && match.waiting === null);
    setText($("team-waiting-error"), errText(match.waitingError));
    $("team-waiting-empty").hidden = !(match.waiting && match.waiting.length === 0);
    const chosen = (match.waiting || []).filter((v) => match.members.has(v.id));
    const uninsured = chosen.filter((v) => !v.insured_today).length;
    setText($("team-count"), tf("team_count", { n: chosen.length, need: need ? need.people_needed : "–" }) +
      (uninsured ? " " + tf("team_count_uninsured", { n: uninsured }) : ""));
    $("team-count").classList.toggle("warn", uninsured > 0);

    keyedList($("team-equipment"), liveDispatch().equipment, (e) => e.id, buildEquipmentPick, updateEquipmentPick);
    $("team-equipment-empty").hidden = !(app.state && liveDispatch().equipment.length === 0);
    $("team-submit").disabled = closed || match.forming || !n;
    setText($("team-submit"), match.forming ? t("sending") : t("team_submit"));
    setText($("team-error"), errText(match.formError));
  }

  function buildMemberRow(v) {
    const tr = el("tr", "member-option");
    const r = {};
    const cell = (input, cls) => {
      const td = el("td", "pick-cell " + cls);
      const label = el("label", "cell-label");
      label.appendChild(input);
      td.appendChild(label);
      return td;
    };
    r.leader = el("input", "leader-radio");
    r.leader.type = "radio";
    r.leader.name = "team-leader";
    r.leader.value = String(v.id);
    r.member = el("input", "member-check");
    r.member.type = "checkbox";
    r.member.value = String(v.id);
    const nameTd = el("td", "member-name-cell");
    r.name = el("strong", "member-name");
    r.sub = el("span", "member-sub");
    nameTd.append(r.name, r.sub);
    const skillsTd = el("td");
    r.skills = el("ul", "skill-chips");
    skillsTd.appendChild(r.skills);
    const insTd = el("td");
    r.ins = el("span", "vol-ins-badge");
    insTd.appendChild(r.ins);
    tr.append(cell(r.leader, "leader-cell"), cell(r.member, "member-cell"), nameTd, skillsTd, insTd);
    tr._r = r;
    return tr;
  }

  function updateMemberRow(tr, v, wanted) {
    const r = tr._r;
    const leader = match.leader === v.id;
    const member = leader || match.members.has(v.id);
    tr.dataset.volunteerId = String(v.id);
    tr.classList.toggle("is-selected", member);
    tr.classList.toggle("is-leader", leader);
    tr.classList.toggle("is-uninsured", !v.insured_today);
    r.leader.checked = leader;
    r.member.checked = member;
    r.leader.setAttribute("aria-label", tf("team_make_leader", { name: v.name }));
    r.member.setAttribute("aria-label", tf("team_make_member", { name: v.name }));
    setText(r.name, v.name);
    setText(r.sub, [v.name_kana, v.card_code, v.age_group ? labelOf("age_", v.age_group) : null, v.group_name].filter(Boolean).join("・"));
    const key = JSON.stringify([lang, v.skills, Array.from(wanted)]);
    if (r.skills.dataset.key !== key) {
      r.skills.dataset.key = key;
      r.skills.replaceChildren(...(v.skills || []).map((s) => {
        const chip = el("li", "skill-chip" + (wanted.has(s) ? " is-match" : ""), skillLabel(s));
        chip.dataset.skill = s;
        return chip;
      }));
    }
    insuredBadge(r.ins, v);
  }

  function onMembersChange(ev) {
    const input = ev.target;
    const id = Number(input.value);
    if (input.classList.contains("leader-radio") && input.checked) {
      match.leader = id;
      match.members.add(id);
    } else if (input.classList.contains("member-check")) {
      if (input.checked) match.members.add(id);
      else {
        match.members.delete(id);
        if (match.leader === id) match.leader = null;
      }
    }
    match.formError = null;
    renderTeamBuilder();
  }

  function buildEquipmentPick() {
    const li = el("li", "equipment-option");
    const label = el("label", "equipment-option-label");
    const r = { name: el("span", "equipment-option-name"), stock: el("span", "equipment-option-stock"), qty: el("input", "qty-input equipment-qty") };
    r.qty.type = "number";
    r.qty.min = "0";
    r.qty.step = "1";
    r.qty.inputMode = "numeric";
    label.append(r.name, r.qty, r.stock);
    li.appendChild(label);
    li._r = r;
    return li;
  }

  function updateEquipmentPick(li, e) {
    li.dataset.equipmentId = String(e.id);
    li.classList.toggle("is-empty", e.available <= 0);
    setText(li._r.name, e.name);
    setText(li._r.stock, tf("equipment_in_stock", { n: e.available }));
    li._r.qty.max = String(Math.max(0, e.available));
    li._r.qty.disabled = e.available <= 0 && !li._r.qty.value;
    li._r.qty.setAttribute("aria-label", e.name + " " + t("equipment_qty"));
  }

  // {list} of {equipment_id, quantity} from quantity inputs in `box`, or {error, input}.
  function equipmentQuantities(box, inputSelector, limitOf) {
    const list = [];
    for (const input of box.querySelectorAll(inputSelector)) {
      const li = input.closest("li[data-equipment-id]");
      const id = Number(li.dataset.equipmentId);
      const q = parseWhole(input.value, 0, 1000);
      if (Number.isNaN(q)) return { error: { key: "equipment_qty_bad" }, input };
      if (!q) continue;
      const limit = limitOf(id);
      if (limit !== null && q > limit) return { error: { key: "equipment_qty_over", extra: String(limit) }, input };
      list.push({ equipment_id: id, quantity: q });
    }
    return { list };
  }

  function stockOf(id) {
    const e = liveDispatch().equipment.find((x) => x.id === id);
    return e ? e.available : null;
  }

  async function onTeamSubmit(ev) {
    if (ev) ev.preventDefault();
    if (match.forming || match.needId === null || app.activationId === null) return;
    const form = $("team-form");
    clearInvalid(form);
    const fail = (error, input) => {
      match.formError = error;
      renderTeamBuilder();
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); } else $("team-error").focus();
    };
    if (activationClosed()) { fail({ key: "conflict_activation_closed" }, null); return; }
    if (match.leader === null) {
      fail({ key: "team_leader_needed" }, $("team-members").querySelector("input.leader-radio") || $("team-member-q"));
      return;
    }
    const eq = equipmentQuantities($("team-equipment"), "input.equipment-qty", stockOf);
    if (eq.error) { fail(eq.error, eq.input); return; }
    const body = {
      need_id: match.needId, leader_id: match.leader,
      member_ids: Array.from(match.members).filter((id) => id !== match.leader),
      vehicle: $("team-vehicle").value.trim(), orientation_done: $("team-orientation").checked, equipment: eq.list,
    };
    const name = $("team-name").value.trim();
    if (name) body.name = name;
    const epoch = match.epoch;
    match.forming = true;
    match.formError = null;
    renderTeamBuilder();
    const r = await call("POST", activationPath("/teams"), body);
    if (epoch !== match.epoch || (r && r.gone)) return;
    match.forming = false;
    if (r && r.status === 201 && r.data && r.data.id !== undefined) {
      const team = r.data;
      match.done = { name: team.name };
      match.needId = null;
      match.needDetail = null;
      match.leader = null;
      match.members = new Set();
      for (const id of ["team-name", "team-vehicle", "team-member-q"]) $(id).value = "";
      $("team-orientation").checked = false;
      for (const input of $("team-equipment").querySelectorAll("input")) input.value = "";
      putTeam(team);
      renderMatching();
      loadWaiting();
      focusTeam(team.id);
      return;
    }
    match.formError = requestError(r, "team_form_failed");
    renderTeamBuilder();
    const field = r && r.status === 400 && r.data ? r.data.field : null;
    const m = field ? /^equipment\[(\d+)\]/.exec(field) : null;
    if (m && body.equipment[Number(m[1])]) {
      const item = body.equipment[Number(m[1])];
      const li = $("team-equipment").querySelector("li[data-equipment-id='" + item.equipment_id + "']");
      if (li) { li._r.qty.setAttribute("aria-invalid", "true"); li._r.qty.focus(); return; }
    }
    if (!markInvalid(form, fieldTarget(field, TEAM_FIELDS))) $("team-error").focus();
  }

  /* --- active teams --- */

  async function loadTeams() {
    clearTimeout(match.teamsTimer);
    match.teamsTimer = null;
    if (!app.me || app.view !== "matching" || app.activationId === null) return;
    const token = ++match.teamsToken;
    const epoch = match.epoch;
    const answers = await Promise.all(TEAM_ACTIVE_STATUSES.map((s) => call("GET", activationPath("/teams?status=" + s))));
    if (token !== match.teamsToken || epoch !== match.epoch || answers.some((r) => r && r.gone)) return;
    const bad = answers.find((r) => !(r && r.status === 200 && Array.isArray(r.data)));
    if (bad !== undefined) {
      match.teamsError = requestError(bad, "list_failed");
    } else {
      match.teamsError = null;
      match.teams = [].concat(...answers.map((r) => r.data));
    }
    renderTeamLists();
  }

  function putTeam(team) {
    const list = (match.teams || []).filter((x) => x.id !== team.id);
    if (TEAM_ACTIVE_STATUSES.indexOf(team.status) >= 0) list.push(team);
    match.teams = list;
  }

  function teamRowState(id) {
    let st = match.rowState.get(id);
    if (!st) { st = { busy: null, error: null, open: null, confirmDisband: false }; match.rowState.set(id, st); }
    return st;
  }

  function renderTeamLists() {
    if (!app.me || app.view !== "matching") return;
    const now = new Date();
    const teams = match.teams || [];
    for (const status of TEAM_ACTIVE_STATUSES) {
      const list = sortTeams(teams.filter((x) => x.status === status), now);
      keyedList($("teams-" + status), list, (x) => x.id, buildTeamRow, (li, x) => updateTeamRow(li, x, now));
      $("teams-" + status + "-empty").hidden = !(match.teams && list.length === 0);
    }
    setText($("teams-error"), errText(match.teamsError));
    $("teams-done").hidden = !match.teamsDone;
    setText($("teams-done"), match.teamsDone ? tf(match.teamsDone.key, match.teamsDone) : "");
  }

  function subForm(cls, action) {
    const f = el("form", "team-subform " + cls);
    f.noValidate = true;
    f.dataset.action = action;
    return f;
  }

  function labelled(cls, key, control) {
    const label = el("label", cls);
    const span = el("span", "control-label");
    span.dataset.labelKey = key;
    label.append(span, control);
    return label;
  }

  function checkLabel(cls, key) {
    const label = el("label", "check-chip " + cls + "-label");
    const input = el("input", cls);
    input.type = "checkbox";
    const span = el("span");
    span.dataset.labelKey = key;
    label.append(input, span);
    return { label, input };
  }

  function buildTeamRow(team) {
    const li = el("li", "team-row");
    const r = {};
    const head = el("div", "team-row-head");
    r.name = el("h5", "team-row-name");
    r.badge = el("span", "team-status-badge");
    r.overdue = el("span", "overdue-badge");
    head.append(r.name, r.badge, r.overdue);
    r.need = el("p", "team-row-need");
    r.times = el("p", "team-row-times");
    r.members = el("ul", "team-member-list");
    r.extra = el("p", "team-row-extra");
    r.check = el("p", "team-row-check");

    // Before leaving: orientation, vehicle, more equipment; then 送り出し; or 解散.
    r.formed = el("div", "team-actions");
    r.prepare = subForm("team-prepare", "prepare");
    const orient = checkLabel("team-orientation", "team_orientation");
    r.orientation = orient.input;
    r.vehicle = el("input", "team-vehicle");
    r.vehicle.type = "text";
    r.vehicle.maxLength = 100;
    r.vehicle.autocomplete = "off";
    r.addEquipment = el("ul", "equipment-pick team-add-equipment");
    r.prepareBtn = el("button", "btn btn-secondary team-prepare-btn");
    r.prepareBtn.type = "submit";
    r.prepare.append(orient.label, labelled("stack-field", "team_vehicle", r.vehicle), r.addEquipment, r.prepareBtn);
    r.dispatch = subForm("team-dispatch-form", "dispatch");
    r.hours = el("input", "qty-input team-hours");
    r.hours.type = "number";
    r.hours.min = "0.25";
    r.hours.max = "24";
    r.hours.step = "0.25";
    r.hours.value = "4";
    r.dispatchBtn = el("button", "btn btn-primary btn-big team-dispatch-btn");
    r.dispatchBtn.type = "submit";
    r.dispatch.append(labelled("inline-field", "team_hours_out", r.hours), r.dispatchBtn);
    r.disband = actionButton("btn-quiet team-disband-btn", "disband", null);
    r.disbandConfirm = el("div", "confirm-box team-disband-confirm");
    r.disbandConfirm.setAttribute("role", "alertdialog");
    r.disbandText = el("p");
    const dcb = el("div", "confirm-buttons");
    r.disbandYes = actionButton("btn-danger", "disband-yes", null);
    r.disbandNo = actionButton("btn-secondary", "disband-no", null);
    dcb.append(r.disbandYes, r.disbandNo);
    r.disbandConfirm.append(r.disbandText, dcb);
    r.formed.append(r.prepare, r.dispatch, r.disband, r.disbandConfirm);

    // Out: 帰着 with the return check.
    r.out = el("div", "team-actions");
    r.returnOpen = actionButton("btn-primary btn-big team-return-btn", "return-open", null);
    r.returnForm = subForm("team-return-form", "return");
    // Everyone back or not is asked, not assumed: neither is chosen until someone counts.
    const back = el("fieldset", "check-group");
    r.allBackLegend = el("legend", "control-label");
    const brow = el("div", "chip-row");
    r.allBack = ["yes", "no"].map((v) => {
      const label = el("label", "check-chip" + (v === "no" ? " check-urgent" : ""));
      const input = el("input", "return-all-back");
      input.type = "radio";
      input.name = "return-all-back-" + team.id;
      input.value = v;
      const span = el("span");
      span.dataset.labelKey = v === "yes" ? "team_all_back_yes" : "team_all_back_no";
      label.append(input, span);
      brow.appendChild(label);
      return input;
    });
    back.append(r.allBackLegend, brow);
    const injuries = checkLabel("return-injuries", "team_injuries");
    r.injuries = injuries.input;
    r.injuryNotes = el("textarea", "return-injury-notes");
    r.injuryNotes.rows = 2;
    r.injuryNotes.maxLength = 2000;
    r.nearMisses = el("textarea", "return-near-misses");
    r.nearMisses.rows = 2;
    r.nearMisses.maxLength = 2000;
    r.returnSubmit = el("button", "btn btn-primary return-submit");
    r.returnSubmit.type = "submit";
    r.returnCancel = actionButton("btn-secondary", "return-cancel", null);
    const rb = el("div", "confirm-buttons");
    rb.append(r.returnSubmit, r.returnCancel);
    r.injuryField = labelled("stack-field", "team_injury_notes", r.injuryNotes);
    r.returnForm.append(back, injuries.label, r.injuryField, labelled("stack-field", "team_near_misses", r.nearMisses), rb);
    r.out.append(r.returnOpen, r.returnForm);

    // Back: 活動報告.
    r.back = el("div", "team-actions");
    r.reportOpen = actionButton("btn-primary btn-big team-report-btn", "report-open", null);
    r.reportForm = subForm("team-report-form", "report");
    const outcome = el("fieldset", "check-group");
    r.outcomeLegend = el("legend", "control-label");
    const orow = el("div", "chip-row");
    r.outcomes = ["done", "continue"].map((o) => {
      const label = el("label", "check-chip");
      const input = el("input", "report-outcome");
      input.type = "radio";
      input.name = "report-outcome-" + team.id;
      input.value = o;
      const span = el("span");
      span.dataset.labelKey = "team_outcome_" + o;
      label.append(input, span);
      orow.appendChild(label);
      return input;
    });
    outcome.append(r.outcomeLegend, orow);
    r.reportHours = el("input", "qty-input report-hours");
    r.reportHours.type = "number";
    r.reportHours.min = "0";
    r.reportHours.max = "24";
    r.reportHours.step = "0.5";
    r.reportNotes = el("textarea", "report-notes");
    r.reportNotes.rows = 2;
    r.reportNotes.maxLength = 4000;
    r.returned = el("ul", "equipment-pick report-equipment");
    r.returnedTitle = el("p", "control-label");
    r.reportSubmit = el("button", "btn btn-primary report-submit");
    r.reportSubmit.type = "submit";
    r.reportCancel = actionButton("btn-secondary", "report-cancel", null);
    const pb = el("div", "confirm-buttons");
    pb.append(r.reportSubmit, r.reportCancel);
    r.reportForm.append(outcome, labelled("inline-field", "team_hours", r.reportHours),
      labelled("stack-field", "team_report_notes", r.reportNotes), r.returnedTitle, r.returned, pb);
    r.back.append(r.reportOpen, r.reportForm);

    r.error = el("p", "error team-error");
    r.error.setAttribute("role", "alert");
    li.append(head, r.need, r.times, r.members, r.extra, r.check, r.formed, r.out, r.back, r.error);
    li._r = r;
    return li;
  }

  // Fills a team row's inputs from the team (when it arrives or changes, not on every render:
  // what is being typed stays).
  function syncTeamInputs(r, team) {
    r.orientation.checked = !!team.orientation_done;
    for (const x of r.allBack) x.checked = false;
    r.vehicle.value = team.vehicle || "";
    for (const input of r.addEquipment.querySelectorAll("input")) input.value = "";
    r.outcomes[0].checked = true;
    const hours = halfHours(team.dispatched_at, team.returned_at);
    r.reportHours.value = hours === null ? "" : String(hours);
    // What is still out is assumed back; the report says otherwise by lowering it.
    keyedList(r.returned, team.equipment || [], (x) => x.equipment_id, buildEquipmentPick, (li, x) => {
      li.dataset.equipmentId = String(x.equipment_id);
      li._r.qty.value = String(Math.max(0, x.issued - x.returned));
    });
  }

  function updateTeamRow(li, team, now) {
    const r = li._r;
    const st = teamRowState(team.id);
    const closed = activationClosed();
    const busy = !!st.busy;
    const teamKey = JSON.stringify(team);
    if (li.dataset.teamKey !== teamKey) { li.dataset.teamKey = teamKey; syncTeamInputs(r, team); }
    const times = teamTimesText(team, now);
    li.dataset.teamId = String(team.id);
    li.dataset.status = team.status;
    li.classList.toggle("is-overdue", times.timing.overdue);
    for (const span of li.querySelectorAll("[data-label-key]")) setText(span, t(span.dataset.labelKey));
    setText(r.name, team.name);
    r.badge.dataset.status = team.status;
    setText(r.badge, teamStatusLabel(team.status));
    setText(r.overdue, times.timing.overdue ? tf("team_overdue", { d: formatDuration(times.timing.overdueBy) }) : "");
    r.overdue.hidden = !times.timing.overdue;
    const n = boardNeed(team.need_id);
    setText(r.need, "#" + team.need_id + (n ? " " + categoryLabel(n.category) + "・" + (n.district || t("district_none")) : ""));
    const parts = [tf("team_formed_at", { at: formatTime(team.formed_at, now) })];
    if (team.dispatched_at) parts.push(tf("team_left_at", { at: formatTime(team.dispatched_at, now) }));
    if (team.status === "dispatched") parts.push(times.elapsed, times.back);
    if (team.returned_at) parts.push(tf("team_back_at", { at: formatTime(team.returned_at, now) }));
    setText(r.times, parts.filter(Boolean).join(" ／ "));

    const mkey = JSON.stringify([lang, team.members]);
    if (r.members.dataset.key !== mkey) {
      r.members.dataset.key = mkey;
      // The leader first: who to call about the team.
      const members = (team.members || []).slice().sort((x, y) => (y.leader ? 1 : 0) - (x.leader ? 1 : 0));
      r.members.replaceChildren(...members.map((m) => {
        const item = el("li", "team-member");
        item.dataset.volunteerId = String(m.volunteer_id);
        item.classList.toggle("is-leader", !!m.leader);
        item.classList.toggle("is-uninsured", !m.insured_today);
        if (m.leader) item.appendChild(el("span", "leader-badge", t("team_leader")));
        item.append(el("span", "team-member-name", m.name), el("span", "team-member-code", m.card_code));
        const tel = phoneNode(m.phone);
        if (tel) item.appendChild(typeof tel === "string" ? el("span", "team-member-phone", tel) : tel);
        if (!m.insured_today) item.appendChild(el("span", "vol-ins-badge", t("ins_missing")));
        return item;
      }));
    }
    const equipment = (team.equipment || []).map((x) => x.name + " " + x.issued +
      (x.returned ? tf("team_returned_n", { n: x.returned }) : "")).join(t("list_sep"));
    setText(r.extra, [team.vehicle ? t("team_vehicle") + "：" + team.vehicle : null,
      equipment ? t("team_equipment_legend") + "：" + equipment : null,
      team.orientation_done ? t("team_orientation_done") : t("team_orientation_not_done")].filter(Boolean).join(" ／ "));
    r.extra.classList.toggle("warn", !team.orientation_done && team.status === "formed");
    const check = team.return_check;
    r.check.hidden = !check;
    if (check) {
      setText(r.check, [check.all_back ? t("team_check_all_back") : t("team_check_not_all_back"),
        check.injuries ? t("team_check_injuries") + (check.injury_notes ? "：" + check.injury_notes : "") : t("team_check_no_injuries"),
        check.near_misses ? t("team_near_misses") + "：" + check.near_misses : null].filter(Boolean).join(" ／ "));
      r.check.classList.toggle("warn", !check.all_back || !!check.injuries);
    }

    // Before leaving.
    r.formed.hidden = team.status !== "formed";
    keyedList(r.addEquipment, liveDispatch().equipment, (e) => e.id, buildEquipmentPick, updateEquipmentPick);
    for (const x of [r.orientation, r.vehicle, r.prepareBtn, r.hours, r.dispatchBtn, r.disband]) x.disabled = closed || busy;
    setText(r.prepareBtn, st.busy === "prepare" ? t("sending") : t("team_prepare"));
    setText(r.dispatchBtn, st.busy === "dispatch" ? t("sending") : t("team_dispatch"));
    r.dispatchBtn.setAttribute("aria-label", team.name + " " + t("team_dispatch"));
    setText(r.disband, t("team_disband"));
    r.disbandConfirm.hidden = !st.confirmDisband || closed || busy;
    setText(r.disbandText, tf("team_disband_confirm", { name: team.name }));
    setText(r.disbandYes, t("team_disband_yes"));
    setText(r.disbandNo, t("cancel"));

    // Out.
    r.out.hidden = team.status !== "dispatched";
    setText(r.returnOpen, t("team_return"));
    r.returnOpen.setAttribute("aria-label", team.name + " " + t("team_return"));
    r.returnOpen.hidden = st.open === "return";
    r.returnOpen.disabled = closed || busy;
    r.returnForm.hidden = st.open !== "return";
    r.injuryField.hidden = !r.injuries.checked;
    setText(r.allBackLegend, t("team_all_back"));
    setText(r.returnSubmit, st.busy === "return" ? t("sending") : t("team_return_submit"));
    r.returnSubmit.disabled = closed || busy;
    setText(r.returnCancel, t("cancel"));

    // Back.
    r.back.hidden = team.status !== "returned";
    setText(r.reportOpen, t("team_report"));
    r.reportOpen.setAttribute("aria-label", team.name + " " + t("team_report"));
    r.reportOpen.hidden = st.open === "report";
    r.reportOpen.disabled = closed || busy;
    r.reportForm.hidden = st.open !== "report";
    setText(r.outcomeLegend, t("team_outcome"));
    setText(r.returnedTitle, t("team_equipment_back"));
    r.returnedTitle.hidden = !(team.equipment && team.equipment.length);
    for (const item of r.returned.children) {
      const e = (team.equipment || []).find((x) => String(x.equipment_id) === item.dataset.equipmentId);
      if (!e) continue;
      setText(item._r.name, e.name);
      setText(item._r.stock, tf("team_issued", { issued: e.issued, returned: e.returned }));
      item._r.qty.max = String(Math.max(0, e.issued - e.returned));
      item._r.qty.setAttribute("aria-label", e.name + " " + t("team_equipment_back"));
    }
    setText(r.reportSubmit, st.busy === "report" ? t("sending") : t("team_report_submit"));
    r.reportSubmit.disabled = closed || busy;
    setText(r.reportCancel, t("cancel"));

    setText(r.error, errText(st.error));
  }

  function teamOf(li) {
    const id = Number(li.dataset.teamId);
    return (match.teams || []).find((x) => x.id === id) || null;
  }

  function focusTeam(id) {
    const li = document.querySelector("#matching-view li.team-row[data-team-id='" + id + "']");
    if (!li) { $("teams-done").focus(); return; }
    const r = li._r;
    const target = li.dataset.status === "formed" ? (r.orientation.checked ? r.dispatchBtn : r.orientation)
      : li.dataset.status === "dispatched" ? r.returnOpen : li.dataset.status === "returned" ? r.reportOpen : null;
    if (target && !target.disabled) target.focus();
    li.scrollIntoView({ block: "nearest" });
  }

  function onTeamsClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    if (!btn || btn.disabled) return;
    const li = btn.closest("li.team-row");
    const team = li && teamOf(li);
    if (!team) return;
    const st = teamRowState(team.id);
    const r = li._r;
    const action = btn.dataset.action;
    if (action === "disband") { st.confirmDisband = true; st.error = null; renderTeamLists(); r.disbandYes.focus(); }
    else if (action === "disband-no") { st.confirmDisband = false; renderTeamLists(); r.disband.focus(); }
    else if (action === "disband-yes") { st.confirmDisband = false; teamAction(team, "disband", {}); }
    else if (action === "return-open") { st.open = "return"; st.error = null; renderTeamLists(); r.allBack[0].focus(); }
    else if (action === "return-cancel") { st.open = null; renderTeamLists(); r.returnOpen.focus(); }
    else if (action === "report-open") {
      st.open = "report";
      st.error = null;
      renderTeamLists();
      (r.outcomes.find((x) => x.checked) || r.outcomes[0]).focus();
    } else if (action === "report-cancel") { st.open = null; renderTeamLists(); r.reportOpen.focus(); }
  }

  function onTeamsChange(ev) {
    if (ev.target.classList.contains("return-injuries")) renderTeamLists();
  }

  // The sub-forms of a team row: Enter in a field sends it, as a button would.
  function onTeamsSubmit(ev) {
    const form = ev.target.closest("form[data-action]");
    if (!form) return;
    ev.preventDefault();
    const li = form.closest("li.team-row");
    const team = li && teamOf(li);
    if (!team) return;
    const st = teamRowState(team.id);
    const r = li._r;
    const fail = (key, input, extra) => {
      st.error = { key, extra };
      renderTeamLists();
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    };
    for (const x of li.querySelectorAll("[aria-invalid='true']")) x.removeAttribute("aria-invalid");
    const action = form.dataset.action;
    if (action === "prepare") {
      const eq = equipmentQuantities(r.addEquipment, "input.equipment-qty", stockOf);
      if (eq.error) { fail(eq.error.key, eq.input, eq.error.extra); return; }
      const body = { orientation_done: r.orientation.checked, vehicle: r.vehicle.value.trim() };
      if (eq.list.length) body.equipment = eq.list;
      teamAction(team, "prepare", body);
    } else if (action === "dispatch") {
      const hours = parseHours(r.hours.value, 0.25, 24);
      if (Number.isNaN(hours)) { fail("team_hours_out_bad", r.hours); return; }
      teamAction(team, "dispatch", hours === null ? {} : { hours_out: hours });
    } else if (action === "return") {
      const counted = r.allBack.find((x) => x.checked);
      if (!counted) { fail("team_all_back_choose", r.allBack[0]); return; }
      const injuryNotes = r.injuryNotes.value.trim();
      if (r.injuries.checked && !injuryNotes) { fail("team_injury_notes_needed", r.injuryNotes); return; }
      teamAction(team, "return", { injuries: r.injuries.checked, injury_notes: r.injuries.checked ? injuryNotes : "",
        near_misses: r.nearMisses.value.trim(), all_back: counted.value === "yes" });
    } else if (action === "report") {
      const outcome = (r.outcomes.find((x) => x.checked) || r.outcomes[0]).value;
      const hours = parseHours(r.reportHours.value, 0, 24);
      if (hours === null || Number.isNaN(hours)) { fail("team_hours_bad", r.reportHours); return; }
      const limits = new Map((team.equipment || []).map((x) => [x.equipment_id, x.issued - x.returned]));
      const eq = equipmentQuantities(r.returned, "input.equipment-qty", (id) => (limits.has(id) ? limits.get(id) : null));
      if (eq.error) { fail(eq.error.key, eq.input, eq.error.extra); return; }
      teamAction(team, "report", { outcome, hours, notes: r.reportNotes.value.trim(), equipment_returned: eq.list });
    }
  }

  // The input of a team row a 400 names.
  function teamFieldInput(r, field) {
    const map = { injury_notes: r.injuryNotes, near_misses: r.nearMisses, hours: r.reportHours, hours_out: r.hours,
      vehicle: r.vehicle, notes: r.reportNotes };
    if (!field) return null;
    const m = /^(equipment|equipment_returned)\[(\d+)\]/.exec(field);
    if (m) {
      const box = m[1] === "equipment" ? r.addEquipment : r.returned;
      const inputs = Array.from(box.querySelectorAll("input")).filter((x) => x.value.trim() !== "" && x.value.trim() !== "0");
      return inputs[Number(m[2])] || null;
    }
    return map[field] || null;
  }

  async function teamAction(team, action, body) {
    const st = teamRowState(team.id);
    if (st.busy) return;
    if (activationClosed()) { st.error = { key: "conflict_activation_closed" }; renderTeamLists(); return; }
    const epoch = match.epoch;
    st.busy = action;
    st.error = null;
    match.teamsDone = null;
    match.done = null;
    renderTeamBuilder();
    renderTeamLists();
    const r = await call("POST", activationPath("/teams/" + enc(team.id) + "/" + action), body);
    if (epoch !== match.epoch || (r && r.gone)) return;
    st.busy = null;
    if (r && r.status === 200 && r.data && r.data.id !== undefined) {
      st.open = null;
      putTeam(r.data);
      if (action === "report" || action === "disband") {
        match.teamsDone = { key: action === "report" ? "team_reported_done" : "team_disbanded_done", name: r.data.name };
      }
      renderTeamLists();
      focusTeam(r.data.id);
      return;
    }
    st.error = requestError(r, "team_action_failed");
    renderTeamLists();
    const li = document.querySelector("#matching-view li.team-row[data-team-id='" + team.id + "']");
    if (!li) return;
    const input = teamFieldInput(li._r, r && r.status === 400 && r.data ? r.data.field : null);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  /* --- equipment stock --- */

  function renderEquipmentRows() {
    const list = liveDispatch().equipment;
    keyedList($("equipment-rows"), list, (e) => e.id, buildEquipmentRow, updateEquipmentRow);
    $("equipment-empty").hidden = !(app.state && list.length === 0);
    const closed = activationClosed();
    $("equipment-submit").disabled = closed || match.eqBusy;
    setText($("equipment-submit"), match.eqBusy ? t("sending") : t("equipment_add"));
    setText($("equipment-error"), errText(match.eqError));
  }

  function buildEquipmentRow() {
    const li = el("li", "equipment-row");
    const r = { name: el("strong", "equipment-row-name"), count: el("span", "equipment-row-count") };
    const head = el("div", "equipment-row-head");
    head.append(r.name, r.count);
    r.form = el("form", "equipment-adjust-form");
    r.form.noValidate = true;
    r.add = el("input", "qty-input equipment-add");
    r.add.type = "number";
    r.add.step = "1";
    r.add.min = "-100000";
    r.add.max = "100000";
    r.button = el("button", "btn btn-secondary equipment-adjust-btn");
    r.button.type = "submit";
    r.form.append(r.add, r.button);
    r.error = el("p", "error equipment-row-error");
    r.error.setAttribute("role", "alert");
    li.append(head, r.form, r.error);
    li._r = r;
    return li;
  }

  function updateEquipmentRow(li, e) {
    const r = li._r;
    const st = match.eqRows.get(e.id) || { busy: false, error: null };
    li.dataset.equipmentId = String(e.id);
    li.dataset.available = String(e.available);
    li.classList.toggle("is-empty", e.available <= 0);
    setText(r.name, e.name);
    setText(r.count, tf("equipment_row_count", { available: e.available, total: e.total, out: e.total - e.available }));
    r.add.placeholder = t("equipment_add_placeholder");
    r.add.setAttribute("aria-label", e.name + " " + t("equipment_adjust_label"));
    r.add.disabled = activationClosed() || st.busy;
    setText(r.button, st.busy ? t("sending") : t("equipment_adjust"));
    r.button.disabled = activationClosed() || st.busy;
    setText(r.error, errText(st.error));
  }

  async function onEquipmentAdjust(ev) {
    const form = ev.target.closest("form.equipment-adjust-form");
    if (!form) return;
    ev.preventDefault();
    const li = form.closest("li.equipment-row");
    const id = Number(li.dataset.equipmentId);
    const st = match.eqRows.get(id) || { busy: false, error: null };
    match.eqRows.set(id, st);
    if (st.busy) return;
    const add = parseWhole(li._r.add.value, -100000, 100000);
    if (add === null || Number.isNaN(add) || add === 0) {
      st.error = { key: "equipment_add_bad" };
      renderEquipmentRows();
      li._r.add.focus();
      return;
    }
    const epoch = match.epoch;
    st.busy = true;
    st.error = null;
    renderEquipmentRows();
    const r = await call("POST", activationPath("/equipment/" + enc(id) + "/adjust"), { add });
    if (epoch !== match.epoch || (r && r.gone)) return;
    st.busy = false;
    // The stock shown comes from the board's equipment_changed event.
    if (r && r.status === 200) li._r.add.value = "";
    else st.error = requestError(r, "equipment_failed");
    renderEquipmentRows();
    if (st.error) li._r.add.focus();
  }

  async function onEquipmentAdd(ev) {
    if (ev) ev.preventDefault();
    if (match.eqBusy || app.activationId === null) return;
    const name = $("equipment-name").value.trim();
    const total = parseWhole($("equipment-total").value, 0, 100000);
    const form = $("equipment-form");
    if (!name) { match.eqError = { key: "equipment_name_needed" }; renderEquipmentRows(); markInvalid(form, "equipment-name"); return; }
    if (total === null || Number.isNaN(total)) {
      match.eqError = { key: "equipment_total_bad" };
      renderEquipmentRows();
      markInvalid(form, "equipment-total");
      return;
    }
    const epoch = match.epoch;
    match.eqBusy = true;
    match.eqError = null;
    renderEquipmentRows();
    const r = await call("POST", activationPath("/equipment"), { name, total });
    if (epoch !== match.epoch || (r && r.gone)) return;
    match.eqBusy = false;
    if (r && r.status === 201) {
      $("equipment-name").value = "";
      $("equipment-total").value = "";
      clearInvalid(form);
      renderEquipmentRows();
      $("equipment-name").focus();
      return;
    }
    match.eqError = requestError(r, "equipment_failed");
    renderEquipmentRows();
    const field = r && r.status === 400 && r.data ? r.data.field : null;
    markInvalid(form, field === "total" ? "equipment-total" : "equipment-name");
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

  // POSTs a chosen file to an import route: with a header mapping, file and mapping go as a
  // form (parts file and mapping); without, the raw file is the body and the server decodes it.
  // Answers {status, data}, status 0 when the server cannot be reached.
  async function uploadFile(path, params, file, mapping) {
    const headers = { Accept: "application/json" };
    let body = file;
    if (mapping) {
      body = new FormData();
      body.append("file", file);
      body.append("mapping", mapping);
    } else {
      headers["Content-Type"] = "text/csv";
    }
    try {
      const res = await fetch(path + "?" + params.join("&"), { method: "POST", body, credentials: "same-origin", headers });
      let data = null;
      try { data = await res.json(); } catch (_) { data = null; }
      return { status: res.status, data };
    } catch (_) {
      return { status: 0, data: null };
    }
  }

  // commit false: a dry run (preview).
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
    const mapping = $("import-mapping").files && $("import-mapping").files[0];
    const r = await uploadFile("/api/register/imports", params, imp.file, mapping);
    if (token !== imp.token || !app.me) return;   // another file was chosen meanwhile
    imp.busy = null;
    const { status, data } = r;
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

  /* ---------- 施設登録: the shelter registry (admin) ---------- */

  // The form's inputs by the field a 400 names (its first part: "categories[1]" -> categories).
  const REGISTRY_FIELDS = {
    name: "registry-name", address: "registry-address", capacity: "registry-capacity",
    latitude: "registry-latitude", longitude: "registry-longitude", categories: "registry-categories",
    facilities: "registry-facilities", contact: "registry-contact", notes: "registry-notes",
  };
  // Words of our own for the fields a 400 most often names; the server's text goes beside them.
  const REGISTRY_FIELD_KEYS = {
    name: "registry_name_needed", address: "registry_address_needed", capacity: "registry_capacity_invalid",
    latitude: "registry_coord_invalid", longitude: "registry_coord_invalid",
  };

  function resetRegistry() {
    reg.epoch += 1;
    reg.token += 1;
    Object.assign(reg, { shelters: null, loading: false, error: null, editing: null, saving: false,
      formError: null, fieldError: null, done: null });
    reg.imp.token += 1;
    Object.assign(reg.imp, { file: null, busy: null, report: null, phase: null, error: null, confirming: false });
    const input = $("registry-import-file");
    if (input) input.value = "";
  }

  function enterRegistry() {
    renderRegistry();
    loadRegistry();
  }

  async function loadRegistry() {
    const token = ++reg.token;
    reg.loading = true;
    renderRegistryList();
    const r = await call("GET", "/api/shelters");
    if (token !== reg.token || (r && r.gone) || !app.me) return;
    reg.loading = false;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      reg.shelters = r.data;
      reg.error = null;
    } else reg.error = requestError(r, "registry_failed");
    renderRegistryList();
  }

  function renderRegistry() {
    if (!app.me) return;
    renderRegistryList();
    renderRegistryForm();
    renderRegistryImport();
  }

  // Chips of codes in words (an unknown code shows as itself), or one muted "none given".
  function codeList(ul, codes, prefix) {
    const frag = document.createDocumentFragment();
    for (const code of codes || []) {
      const li = el("li", "chip", codeLabel(prefix, code));
      li.dataset.code = code;
      frag.appendChild(li);
    }
    if (!codes || codes.length === 0) frag.appendChild(el("li", "chip-none", t("registry_none")));
    ul.replaceChildren(frag);
  }

  function buildRegistryRow() {
    const li = el("li", "registry-shelter");
    const head = el("div", "registry-head");
    const edit = el("button", "btn btn-secondary registry-edit-btn");
    edit.type = "button";
    edit.dataset.action = "edit";
    head.append(el("h4", "registry-name"), el("span", "registry-capacity"), edit);
    li.append(head, el("p", "registry-address"));
    for (const part of ["categories", "facilities"]) {
      const row = el("div", "registry-codes registry-" + part);
      row.append(el("span", "meta-label"), el("ul", "chip-list"));
      li.appendChild(row);
    }
    const ops = el("p", "registry-operators");
    ops.append(el("span", "meta-label"), el("span", "registry-operator-names"));
    li.append(ops, el("p", "registry-meta"));
    return li;
  }

  function updateRegistryRow(li, s) {
    li.dataset.shelterId = String(s.id);
    li.dataset.name = s.name;
    li.dataset.capacity = String(s.capacity);
    setText(li.querySelector(".registry-name"), s.name);
    setText(li.querySelector(".registry-capacity"), tf("registry_capacity_n", { n: s.capacity }));
    const edit = li.querySelector(".registry-edit-btn");
    setText(edit, t("registry_edit"));
    edit.setAttribute("aria-label", t("registry_edit") + "：" + s.name);
    edit.disabled = reg.saving;
    setText(li.querySelector(".registry-address"), s.address);
    setText(li.querySelector(".registry-categories .meta-label"), t("registry_categories"));
    codeList(li.querySelector(".registry-categories ul"), s.categories, "scat_");
    setText(li.querySelector(".registry-facilities .meta-label"), t("registry_facilities"));
    codeList(li.querySelector(".registry-facilities ul"), s.facilities, "sfac_");
    setText(li.querySelector(".registry-operators .meta-label"), t("registry_operators"));
    const ops = s.operators || [];
    setText(li.querySelector(".registry-operator-names"), ops.length ? ops.join(t("list_sep")) : t("registry_no_operators"));
    li.querySelector(".registry-operators").classList.toggle("is-none", ops.length === 0);
    const meta = [];
    if (s.contact) meta.push(t("registry_contact") + "：" + s.contact);
    if (s.latitude !== null && s.latitude !== undefined) {
      meta.push(t("registry_position") + "：" + s.latitude + ", " + s.longitude);
    }
    if (s.updated_at) meta.push(t("registry_updated_at") + "：" + formatTime(s.updated_at, new Date()));
    if (s.notes) meta.push(t("registry_notes") + "：" + s.notes);
    setText(li.querySelector(".registry-meta"), meta.join("／"));
    li.classList.toggle("is-editing", !!(reg.editing && reg.editing.id === s.id));
  }

  function renderRegistryList() {
    if (!app.me) return;
    const list = reg.shelters || [];
    $("registry-loading").hidden = !(reg.loading && reg.shelters === null);
    $("registry-error").hidden = !reg.error;
    setText($("registry-error"), errText(reg.error));
    $("registry-empty").hidden = !(reg.shelters !== null && list.length === 0);
    setText($("registry-summary"), reg.shelters === null ? "" : tf("registry_summary", { n: list.length }));
    keyedList($("registry-list"), list, (s) => s.id, buildRegistryRow, updateRegistryRow);
  }

  function setChecked(box, codes) {
    for (const x of box.querySelectorAll("input[type=checkbox]")) x.checked = codes.indexOf(x.value) >= 0;
  }

  // shelter null: a new one.
  function openRegistryForm(shelter) {
    if (reg.saving) return;
    const s = shelter || {};
    reg.editing = shelter ? { id: shelter.id, name: shelter.name } : { id: null, name: null };
    Object.assign(reg, { formError: null, fieldError: null, done: null });
    const text = (v) => (v === null || v === undefined ? "" : String(v));
    $("registry-name").value = text(s.name);
    $("registry-address").value = text(s.address);
    $("registry-capacity").value = text(s.capacity);
    $("registry-latitude").value = text(s.latitude);
    $("registry-longitude").value = text(s.longitude);
    $("registry-contact").value = text(s.contact);
    $("registry-notes").value = text(s.notes);
    setChecked($("registry-categories"), s.categories || []);
    setChecked($("registry-facilities"), s.facilities || []);
    clearInvalid($("registry-form"));
    renderRegistryList();
    renderRegistryForm();
    $("registry-name").focus();
  }

  function closeRegistryForm() {
    const id = reg.editing ? reg.editing.id : null;
    Object.assign(reg, { editing: null, formError: null, fieldError: null });
    clearInvalid($("registry-form"));
    renderRegistryList();
    renderRegistryForm();
    const row = id === null ? null : document.querySelector("#registry-list li[data-shelter-id='" + id + "'] .registry-edit-btn");
    (row || $("registry-new")).focus();
  }

  function renderRegistryForm() {
    if (!app.me) return;
    const ed = reg.editing;
    $("registry-form-card").hidden = !ed;
    $("registry-new").disabled = reg.saving;
    $("registry-done").hidden = !reg.done;
    setText($("registry-done"), reg.done ? tf(reg.done.key, { name: reg.done.name }) : "");
    if (!ed) return;
    setText($("registry-form-title"), ed.id === null ? t("registry_form_new") : tf("registry_form_edit", { name: ed.name }));
    setText($("registry-submit"), t(ed.id === null ? "registry_submit_new" : "registry_submit_edit"));
    $("registry-submit").disabled = reg.saving;
    $("registry-form-error").hidden = !reg.formError;
    setText($("registry-form-error"), errText(reg.formError));
    const fe = reg.fieldError;
    for (const [field, id] of Object.entries(REGISTRY_FIELDS)) {
      const msg = $(id + "-error");
      const on = !!(fe && fe.field === field);
      msg.hidden = !on;
      setText(msg, on ? errText(fe) : "");
    }
  }

  // Marks the input of `field` and focuses it (a group of checkboxes: its first box).
  function markRegistryField(field) {
    const id = REGISTRY_FIELDS[field];
    if (!markInvalid($("registry-form"), id)) return false;
    const node = $(id);
    if (node.tagName === "FIELDSET") node.querySelector("input").focus();
    return true;
  }

  async function onRegistrySubmit(ev) {
    ev.preventDefault();
    if (!reg.editing || reg.saving) return;
    const built = shelterBody({
      name: $("registry-name").value, address: $("registry-address").value,
      capacity: $("registry-capacity").value, latitude: $("registry-latitude").value,
      longitude: $("registry-longitude").value, contact: $("registry-contact").value,
      notes: $("registry-notes").value,
      categories: checkedValues($("registry-categories")), facilities: checkedValues($("registry-facilities")),
    });
    if (built.field) {
      Object.assign(reg, { formError: null, fieldError: { field: built.field, key: built.key }, done: null });
      renderRegistryForm();
      markRegistryField(built.field);
      return;
    }
    const id = reg.editing.id;
    const epoch = reg.epoch;
    Object.assign(reg, { saving: true, formError: null, fieldError: null, done: null });
    renderRegistryForm();
    const r = await call(id === null ? "POST" : "PUT", id === null ? "/api/shelters" : "/api/shelters/" + enc(id), built.body);
    if (epoch !== reg.epoch || (r && r.gone)) return;
    reg.saving = false;
    if (r && (r.status === 201 || r.status === 200) && r.data && r.data.id !== undefined) {
      const saved = r.data;
      const list = (reg.shelters || []).filter((s) => s.id !== saved.id);
      reg.shelters = id === null ? list.concat([saved]) : (reg.shelters || []).map((s) => (s.id === saved.id ? saved : s));
      reg.done = { key: id === null ? "registry_created" : "registry_saved", name: saved.name };
      reg.editing = null;
      clearInvalid($("registry-form"));
      renderRegistryList();
      renderRegistryForm();
      $("registry-done").focus();
      loadRegistry();
      return;
    }
    const field = r && r.status === 400 && r.data && r.data.field ? String(r.data.field).split(/[[.]/)[0] : null;
    if (r && r.status === 409 && r.data && r.data.code === "shelter_exists") {
      reg.fieldError = { field: "name", key: "conflict_shelter_exists", extra: serverError(r) };
    } else if (field && REGISTRY_FIELDS[field]) {
      reg.fieldError = { field, key: REGISTRY_FIELD_KEYS[field] || "registry_field_invalid", extra: serverError(r) };
    } else {
      reg.formError = r ? requestError(r, "registry_save_failed") : { key: "registry_network" };
    }
    renderRegistryForm();
    if (!(reg.fieldError && markRegistryField(reg.fieldError.field))) $("registry-form-error").focus();
  }

  /* ---------- 施設一覧の取込: upload, preview, commit ---------- */

  function onRegistryImportFileChange() {
    const ri = reg.imp;
    const files = $("registry-import-file").files;
    ri.token += 1;
    Object.assign(ri, { file: files && files[0] ? files[0] : null, busy: null, report: null, phase: null,
      error: null, confirming: false });
    renderRegistryImport();
    if (ri.file) runRegistryImport(false, false);
  }

  // commit false: a dry run (preview). Sent exactly as the register import sends its file.
  async function runRegistryImport(commit, allowInvalid) {
    const ri = reg.imp;
    if (!ri.file || ri.busy) return;
    const params = [];
    if (!commit) params.push("dry_run=true");
    if (allowInvalid) params.push("allow_invalid=true");
    params.push("encoding=" + encodeURIComponent($("registry-import-encoding").value));
    const token = ++ri.token;
    Object.assign(ri, { busy: commit ? "commit" : "preview", error: null, confirming: false });
    if (!commit) ri.report = null;
    renderRegistryImport();
    const mapping = $("registry-import-mapping").files && $("registry-import-mapping").files[0];
    const r = await uploadFile("/api/shelters/imports", params, ri.file, mapping);
    if (token !== ri.token || !app.me) return;
    ri.busy = null;
    const { status, data } = r;
    if (status === 200 && data) {
      ri.report = data;
      // A commit refused for invalid rows answers 200 with committed false and a message.
      ri.phase = data.committed ? "done" : commit ? "not_committed" : "preview";
      if (data.committed) {
        ri.file = null;
        $("registry-import-file").value = "";
        loadRegistry();
      }
    } else if (status === 0) ri.error = { key: "import_network" };
    else if (status === 401) { showLogin("session_expired"); return; }
    else if (status === 400) {
      ri.error = { key: data && data.field === "encoding" ? "import_encoding_bad" : "import_refused", extra: serverError(r) };
      if (!commit) ri.report = null;
    } else if (status === 403) ri.error = { key: "registry_import_forbidden" };
    else if (status === 413) ri.error = { key: "import_too_large" };
    else ri.error = { key: "import_failed", extra: serverError(r) };
    renderRegistryImport();
    if (ri.phase === "done") $("registry-import-done").focus();
    else if (ri.error) $("registry-import-error").focus();
  }

  function renderRegistryImport() {
    if (!app.me) return;
    const ri = reg.imp;
    const busy = !!ri.busy;
    $("registry-import-file").disabled = busy;
    $("registry-import-encoding").disabled = busy;
    $("registry-import-mapping").disabled = busy;
    $("registry-import-preview").disabled = busy || !ri.file;
    $("registry-import-file-name").classList.toggle("none", !ri.file);
    setText($("registry-import-file-name"), ri.file ? ri.file.name + "（" + fileSize(ri.file.size) + "）" : t("import_no_file"));
    $("registry-import-busy").hidden = !busy;
    setText($("registry-import-busy"), busy ? t(ri.busy === "commit" ? "import_committing" : "import_previewing") : "");
    $("registry-import-error").hidden = !ri.error;
    setText($("registry-import-error-title"), ri.error ? t(ri.error.key) : "");
    setText($("registry-import-error-detail"), ri.error && ri.error.extra ? ri.error.extra : "");

    const rep = ri.report;
    $("registry-import-report").hidden = !rep;
    if (!rep) return;
    const done = ri.phase === "done";
    const lines = invalidLines(rep);
    const updated = rep.updated || [];
    $("registry-import-done").hidden = !done;
    setText($("registry-import-report-title"), t(done ? "import_done_title"
      : ri.phase === "not_committed" ? "registry_import_not_committed" : "import_preview_title"));
    setText($("registry-import-detected"), encodingLabel(rep.encoding));
    setText($("registry-import-rows"), rep.rows);
    setText($("registry-import-new"), rep.new);
    setText($("registry-import-updated-count"), updated.length);
    setText($("registry-import-unchanged"), rep.unchanged);
    setText($("registry-import-invalid-count"), lines);
    $("registry-import-invalid-item").classList.toggle("has", lines > 0);
    const message = ri.phase === "not_committed" && rep.message ? rep.message : "";
    $("registry-import-message").hidden = message === "";
    setText($("registry-import-message"), message);

    $("registry-import-updated").hidden = updated.length === 0;
    setText($("registry-import-updated-title"), t(done ? "registry_import_updated_done" : "registry_import_updated_title"));
    fillTable($("registry-import-updated-body"), updated, (u) => [u.name, u.line,
      (u.fields || []).map((f) => codeLabel("registry_field_", f)).join(t("list_sep"))], ["", "num", ""]);
    const invalid = rep.invalid || [];
    $("registry-import-invalid-section").hidden = invalid.length === 0;
    fillTable($("registry-import-invalid-body"), invalid, (c) => [c.line, c.column, c.value, c.reason],
      ["num line", "column", "value", "reason"]);
    const unmapped = rep.unmapped_columns || [];
    $("registry-import-unmapped-section").hidden = unmapped.length === 0;
    const frag = document.createDocumentFragment();
    for (const c of unmapped) frag.appendChild(el("li", "chip", c));
    $("registry-import-unmapped").replaceChildren(frag);

    $("registry-import-actions").hidden = done;
    $("registry-import-commit").disabled = busy || lines > 0 || !ri.file;
    const valid = Math.max(0, rep.rows - lines);
    $("registry-import-commit-valid").hidden = lines === 0;
    $("registry-import-commit-valid").disabled = busy || valid === 0 || !ri.file;
    $("registry-import-commit-blocked").hidden = lines === 0;
    $("registry-import-confirm").hidden = !ri.confirming || busy;
    setText($("registry-import-confirm-text"), tf("import_confirm", { lines, valid }));
    $("registry-import-again").hidden = !done;
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
      else if (r.status === 429) {
        const s = (r.data && r.data.retry_after) || 60;
        errEl.dataset.msgKey = "login_locked";
        errEl.textContent = t("login_locked").replace("{s}", String(s));
      }
      else if (r.status === 503) setMessage(errEl, "login_busy");
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

  /* ==========================================================================================
   * 訓練 (Drills): drills started from the page (admin only)                [drills section]
   *
   * GET /api/drills/scenarios fills the scenario list: the shipped scenarios and the council's
   * folder; a file with problems is shown with its FILE:LINE reasons and cannot be chosen.
   * 開始… asks for confirmation naming the scenario, the speed and the register choice; then
   * POST /api/drills/runs answers 202 once the drill activation exists, and the page offers to
   * show that activation on the board. While the view is open and a run is running or paused,
   * GET /api/drills/runs is polled every DRILLS_POLL_MS: progress (calls done/total, drill
   * time), the last log lines, 一時停止 / 再開 / 中止… (中止 confirms). Runs live in the server
   * instance that started them (the list says so). The drill activations, never real ones,
   * each have 削除…, which confirms naming the drill and calls DELETE /api/activations/{id}; it
   * is disabled while a run still plays into that activation.
   *
   * Element ids (the browser tests rely on these):
   *   #tab-drills #drills-view #drills-reload #drills-loading #drills-error #drills-start-form
   *   #drills-scenarios > li.drill-scenario[data-key][data-problems] (input[name=drill-scenario],
   *   .drill-scenario-name .drill-scenario-meta .drill-scenario-desc ul.drill-scenario-problems)
   *   #drills-speed #drills-register #drills-start #drills-start-confirm #drills-start-text
   *   #drills-start-yes #drills-start-no #drills-start-busy #drills-start-error #drills-started
   *   #drills-started-text #drills-show-board #drills-runs-empty
   *   #drills-runs > li.drill-run[data-run-id][data-state][data-activation-id] (.drill-run-name
   *   .drill-run-state progress.drill-run-progress .drill-run-numbers
   *   button[data-action=pause|resume|stop|stop-yes|stop-no|show] .drill-run-error ol.drill-run-log)
   *   #drills-activations-empty #drills-activations > li.drill-activation[data-activation-id]
   *   (.drill-activation-name button[data-action=show|delete]) #drills-delete-confirm
   *   #drills-delete-text #drills-delete-yes #drills-delete-no #drills-delete-error
   * ========================================================================================== */

  const DRILL_I18N = {
    ja: {
      tab_drills: "訓練", drills_title: "訓練の実施", drills_scenarios_title: "シナリオ", drills_reload: "一覧を更新",
      drills_choose: "実施するシナリオ", drills_speed: "速度", drills_speed_1: "1×（実時間）", drills_register: "名簿",
      drills_register_import: "シナリオの名簿を取り込む（既存の名簿が変わる場合は開始しない）",
      drills_register_keep: "取り込まない（このサーバーの名簿のまま）",
      drills_register_replace: "置き換える（訓練用サーバーのみ）",
      drills_start: "開始…", drills_start_yes: "開始する", drills_starting: "訓練を準備しています…",
      drills_start_text: "「{name}」を {speed}× で開始します。新しい訓練の活動が作られ、付与が時刻どおりに実行されます（実時間で約{real}）。",
      drills_start_register: "この訓練は名簿（{n}人）を取り込みます。", drills_start_keep: "名簿は取り込みません。",
      drills_start_replace: "このサーバーの名簿を訓練の名簿（{n}人）で置き換えます。",
      drills_started: "「{name}」を開始しました。", drills_show_board: "この訓練をボードに表示",
      drills_choose_first: "シナリオを選んでください", drills_load_failed: "シナリオを読み込めませんでした",
      drills_none: "シナリオがありません", drills_start_failed: "訓練を開始できませんでした",
      drills_conflict_register: "シナリオの名簿を取り込むと、このサーバーの名簿が変わります。「取り込まない」を選ぶか、訓練用サーバーで実施してください",
      drills_conflict_setup: "訓練の準備に失敗しました",
      drills_length: "長さ {d}", drills_register_people: "名簿 {n}人", drills_shelters: "福祉避難所 {n}",
      drills_source_folder: "この会のシナリオ", drills_problems: "このシナリオには誤りがあるため開始できません:",
      drills_kind_need: "ニーズ", drills_kind_volunteers: "ボランティア来所", drills_kind_safety: "安否確認",
      drills_kind_shelter_open: "避難所開設", drills_kind_shelter_close: "避難所閉鎖", drills_kind_shelter_full: "満床",
      drills_kind_announcement: "お知らせ", drills_kind_register_import: "名簿取込",
      drills_secs: "{n}秒", drills_mins: "{n}分", drills_hours: "{h}時間{m}分",
      drills_runs_title: "実行中・最近の訓練",
      drills_runs_hint: "このサーバーで開始した訓練です（複数台構成では、開始したサーバーにだけ表示されます）。",
      drills_runs_empty: "実行中の訓練はありません",
      drills_state_running: "実行中", drills_state_paused: "一時停止中", drills_state_finished: "終了",
      drills_state_failed: "失敗", drills_state_stopped: "中止",
      drills_run_numbers: "進行 {done}/{total}（失敗 {failed}） · 訓練時間 {time} / {duration} · {speed}× · 開始 {by}",
      drills_pause: "一時停止", drills_resume: "再開", drills_stop: "中止…", drills_stop_yes: "中止する",
      drills_stop_text: "「{name}」を中止します。残りの付与は実行されません。記録は訓練の活動に残ります。",
      drills_show: "ボードに表示", drills_run_over: "この訓練はすでに終わっています", drills_control_failed: "操作できませんでした",
      drills_log: "ログ",
      drills_activations_title: "訓練の活動",
      drills_activations_hint: "削除すると、その訓練の記録（安否確認、ニーズ、ボランティア、お知らせなど）がすべて消えます。名簿と施設は残ります。災害対応の活動は削除できません。",
      drills_activations_empty: "訓練の活動はありません",
      drills_delete: "削除…", drills_delete_yes: "削除する",
      drills_delete_text: "訓練「{name}」と、その記録をすべて削除します。元に戻せません。",
      drills_delete_running: "実行中の訓練を中止すると削除できます", drills_delete_failed: "削除できませんでした",
      drills_activation_open: "実施中", drills_activation_closed: "終了",
    },
    en: {
      tab_drills: "Drills", drills_title: "Run a drill", drills_scenarios_title: "Scenarios", drills_reload: "Refresh",
      drills_choose: "Scenario to run", drills_speed: "Speed", drills_speed_1: "1× (real time)", drills_register: "Register",
      drills_register_import: "Import the scenario's register (do not start if the register here would change)",
      drills_register_keep: "Import nothing (play against this server's register)",
      drills_register_replace: "Replace it (a training server only)",
      drills_start: "Start…", drills_start_yes: "Start", drills_starting: "Setting the drill up…",
      drills_start_text: "Start \"{name}\" at {speed}×. A new drill activation is declared and the injects play on schedule (about {real} in real time).",
      drills_start_register: "This drill imports its register ({n} people).", drills_start_keep: "No register is imported.",
      drills_start_replace: "This server's register is replaced by the drill's ({n} people).",
      drills_started: "\"{name}\" has started.", drills_show_board: "Show this drill on the board",
      drills_choose_first: "Choose a scenario", drills_load_failed: "Could not load the scenarios",
      drills_none: "No scenarios", drills_start_failed: "Could not start the drill",
      drills_conflict_register: "Importing the scenario's register would change this server's register. Choose \"Import nothing\", or run it on a training server",
      drills_conflict_setup: "Setting the drill up failed",
      drills_length: "length {d}", drills_register_people: "register {n} people", drills_shelters: "welfare shelters {n}",
      drills_source_folder: "this council's scenario", drills_problems: "This scenario has problems and cannot be started:",
      drills_kind_need: "needs", drills_kind_volunteers: "volunteer arrivals", drills_kind_safety: "safety reports",
      drills_kind_shelter_open: "shelter openings", drills_kind_shelter_close: "shelter closings", drills_kind_shelter_full: "shelter full",
      drills_kind_announcement: "announcements", drills_kind_register_import: "register imports",
      drills_secs: "{n} s", drills_mins: "{n} min", drills_hours: "{h} h {m} min",
      drills_runs_title: "Running and recent drills",
      drills_runs_hint: "Drills started on this server (with several servers, a drill is listed only on the one that started it).",
      drills_runs_empty: "No drill is running",
      drills_state_running: "Running", drills_state_paused: "Paused", drills_state_finished: "Finished",
      drills_state_failed: "Failed", drills_state_stopped: "Stopped",
      drills_run_numbers: "Progress {done}/{total} ({failed} failed) · drill time {time} / {duration} · {speed}× · started by {by}",
      drills_pause: "Pause", drills_resume: "Resume", drills_stop: "Stop…", drills_stop_yes: "Stop",
      drills_stop_text: "Stop \"{name}\". The remaining injects are not played; what was done stays in the drill activation.",
      drills_show: "Show on the board", drills_run_over: "This drill is over already", drills_control_failed: "Could not do that",
      drills_log: "Log",
      drills_activations_title: "Drill activations",
      drills_activations_hint: "Deleting a drill removes all of its records (safety checks, needs, volunteers, announcements…). The register and the shelters stay. Real activations cannot be deleted.",
      drills_activations_empty: "No drill activations",
      drills_delete: "Delete…", drills_delete_yes: "Delete",
      drills_delete_text: "Delete the drill \"{name}\" and all of its records. This cannot be undone.",
      drills_delete_running: "Stop its running drill to delete it", drills_delete_failed: "Could not delete the drill",
      drills_activation_open: "open", drills_activation_closed: "closed",
    },
  };
  Object.assign(I18N.ja, DRILL_I18N.ja);
  Object.assign(I18N.en, DRILL_I18N.en);

  const DRILLS_POLL_MS = 1000;

  const drl = {
    epoch: 0,              // bumped on reset (log out): older answers are dropped
    scenarios: null,       // GET /api/drills/scenarios, or null before it answered
    loading: false,
    error: null,           // {key, extra}: the list could not be loaded
    chosen: null,          // the chosen scenario's key
    confirming: false,     // the start confirmation is open
    starting: false,
    startError: null,      // {key, extra}
    started: null,         // {activationId, name}: the last run started here
    runs: [],              // GET /api/drills/runs (this server instance's runs)
    pollTimer: null,
    confirmStop: null,     // the run whose 中止 confirmation is open
    runErrors: {},         // run id -> {key, extra}
    deleting: null,        // {id, name}: the delete confirmation is open
    deleteBusy: false,
    deleteError: null,     // {key, extra}
  };

  function isAdmin() { return !!(app.me && app.me.role === "admin"); }
  function runIsLive(run) { return run.state === "running" || run.state === "paused"; }

  function resetDrills() {
    clearTimeout(drl.pollTimer);
    Object.assign(drl, { epoch: drl.epoch + 1, scenarios: null, loading: false, error: null, chosen: null,
      confirming: false, starting: false, startError: null, started: null, runs: [], pollTimer: null,
      confirmStop: null, runErrors: {}, deleting: null, deleteBusy: false, deleteError: null });
  }

  async function enterDrills() {
    if (!isAdmin()) return;
    renderDrills();
    loadDrillScenarios();
    loadDrillRuns();
    await loadActivations(false);
    renderDrillActivations();
  }

  async function loadDrillScenarios() {
    const epoch = drl.epoch;
    drl.loading = true;
    renderDrillScenarios();
    const r = await call("GET", "/api/drills/scenarios");
    if (epoch !== drl.epoch || (r && r.gone)) return;
    drl.loading = false;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      drl.scenarios = r.data;
      drl.error = null;
      const startable = r.data.filter((s) => !s.problems.length);
      if (!startable.some((s) => s.key === drl.chosen)) drl.chosen = startable.length ? startable[0].key : null;
    } else {
      drl.error = requestError(r, "drills_load_failed");
    }
    renderDrillScenarios();
    renderDrillStart();
  }

  async function loadDrillRuns() {
    const epoch = drl.epoch;
    clearTimeout(drl.pollTimer);
    drl.pollTimer = null;
    const r = await call("GET", "/api/drills/runs");
    if (epoch !== drl.epoch || (r && r.gone)) return;
    if (r && r.status === 200 && Array.isArray(r.data)) {
      const wasLive = new Set(drl.runs.filter(runIsLive).map((x) => x.activation_id));
      drl.runs = r.data;
      renderDrillRuns();
      // A run that just ended frees its activation's 削除.
      if (drl.runs.some((x) => wasLive.has(x.activation_id) && !runIsLive(x))) renderDrillActivations();
    }
    scheduleDrillPoll();
  }

  // Polls while the view is open and a run is live; stops by itself otherwise.
  function scheduleDrillPoll() {
    clearTimeout(drl.pollTimer);
    drl.pollTimer = null;
    if (app.view === "drills" && isAdmin() && drl.runs.some(runIsLive)) {
      drl.pollTimer = setTimeout(loadDrillRuns, DRILLS_POLL_MS);
    }
  }

  function chosenScenario() {
    return (drl.scenarios || []).find((s) => s.key === drl.chosen) || null;
  }

  // Real time for `seconds` of drill time at `speed`, in words.
  function drillRealTime(seconds, speed) {
    const s = Math.max(1, Math.round(seconds / speed));
    if (s < 60) return tf("drills_secs", { n: s });
    const m = Math.round(s / 60);
    if (m < 60) return tf("drills_mins", { n: m });
    return tf("drills_hours", { h: Math.floor(m / 60), m: m % 60 });
  }

  function renderDrills() {
    if (!isAdmin()) return;
    renderDrillScenarios();
    renderDrillStart();
    renderDrillRuns();
    renderDrillActivations();
  }

  function renderDrillScenarios() {
    $("drills-loading").hidden = !(drl.loading && drl.scenarios === null);
    const error = $("drills-error");
    error.hidden = !drl.error;
    setText(error, errText(drl.error));
    const list = drl.scenarios || [];
    keyedList($("drills-scenarios"), list, (s) => s.key, buildDrillScenario, updateDrillScenario);
    if (drl.scenarios && !list.length) {
      const li = el("li", "notice", t("drills_none"));
      $("drills-scenarios").appendChild(li);
    }
  }

  function buildDrillScenario(s) {
    const li = el("li", "drill-scenario");
    li.dataset.key = s.key;
    const label = el("label", "drill-scenario-label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "drill-scenario";
    input.value = s.key;
    label.appendChild(input);
    label.appendChild(el("span", "drill-scenario-name"));
    li.appendChild(label);
    li.appendChild(el("p", "drill-scenario-meta"));
    li.appendChild(el("p", "drill-scenario-desc"));
    li.appendChild(el("p", "drill-scenario-problems-title error"));
    li.appendChild(el("ul", "drill-scenario-problems"));
    li._input = input;
    return li;
  }

  function updateDrillScenario(li, s) {
    const problems = s.problems || [];
    li.dataset.problems = String(problems.length);
    li._input.disabled = problems.length > 0;
    li._input.checked = s.key === drl.chosen;
    setText(li.querySelector(".drill-scenario-name"), s.name);
    const meta = [];
    if (s.duration) meta.push(tf("drills_length", { d: s.duration }));
    const injects = Object.keys(s.injects || {}).map((k) => t("drills_kind_" + k) + " " + s.injects[k]);
    if (injects.length) meta.push(injects.join(t("list_sep")));
    if (s.register_people) meta.push(tf("drills_register_people", { n: s.register_people }));
    if (s.shelters) meta.push(tf("drills_shelters", { n: s.shelters }));
    if (s.source === "folder") meta.push(t("drills_source_folder"));
    setText(li.querySelector(".drill-scenario-meta"), meta.join(" · "));
    const desc = li.querySelector(".drill-scenario-desc");
    setText(desc, s.description);
    desc.hidden = !s.description;
    const title = li.querySelector(".drill-scenario-problems-title");
    setText(title, t("drills_problems"));
    title.hidden = !problems.length;
    const ul = li.querySelector(".drill-scenario-problems");
    ul.textContent = "";
    for (const p of problems) ul.appendChild(el("li", null, p));
    ul.hidden = !problems.length;
  }

  function renderDrillStart() {
    const s = chosenScenario();
    $("drills-start").disabled = drl.starting || !s;
    const confirm = $("drills-start-confirm");
    confirm.hidden = !(drl.confirming && s);
    if (drl.confirming && s) {
      const speed = Number($("drills-speed").value) || 1;
      const register = $("drills-register").value;
      let text = tf("drills_start_text", { name: s.name, speed, real: drillRealTime(s.duration_seconds || 0, speed) });
      if (s.register_people) {
        text += " " + (register === "keep" ? t("drills_start_keep")
          : tf(register === "replace" ? "drills_start_replace" : "drills_start_register", { n: s.register_people }));
      }
      setText($("drills-start-text"), text);
    }
    $("drills-start-yes").disabled = drl.starting;
    $("drills-start-busy").hidden = !drl.starting;
    setText($("drills-start-error"), errText(drl.startError));
    const started = $("drills-started");
    started.hidden = !drl.started;
    if (drl.started) setText($("drills-started-text"), tf("drills_started", { name: drl.started.name }));
  }

  function onDrillStartSubmit(ev) {
    ev.preventDefault();
    drl.startError = null;
    drl.started = null;
    if (!chosenScenario()) {
      drl.startError = { key: "drills_choose_first" };
      renderDrillStart();
      return;
    }
    drl.confirming = true;
    renderDrillStart();
    $("drills-start-yes").focus();
  }

  async function onDrillStartYes() {
    const s = chosenScenario();
    if (!s || drl.starting) return;
    const epoch = drl.epoch;
    drl.starting = true;
    renderDrillStart();
    const body = { scenario: s.key, speed: Number($("drills-speed").value) || 1, register: $("drills-register").value };
    const r = await call("POST", "/api/drills/runs", body);
    if (epoch !== drl.epoch || (r && r.gone)) return;
    drl.starting = false;
    drl.confirming = false;
    if (r && r.status === 202 && r.data) {
      drl.started = { activationId: r.data.activation_id, name: s.name };
      if (r.data.run) drl.runs = [r.data.run].concat(drl.runs.filter((x) => x.id !== r.data.run.id));
      renderDrillStart();
      renderDrillRuns();
      $("drills-show-board").focus();
      loadDrillRuns();
      await loadActivations(false);
      renderDrillActivations();
      return;
    }
    const code = r && r.data && r.data.code;
    if (r && r.status === 409 && code === "register_would_change") drl.startError = { key: "drills_conflict_register", extra: serverError(r) };
    else if (r && r.status === 409) drl.startError = { key: "drills_conflict_setup", extra: serverError(r) };
    else drl.startError = requestError(r, "drills_start_failed");
    renderDrillStart();
    $("drills-start-error").focus();
    loadDrillRuns();
  }

  // Shows a drill activation on the board (the list is fetched first: it may be new).
  async function showDrillOnBoard(id) {
    if (!app.activations.some((a) => a.id === id)) await loadActivations(false);
    if (!app.me) return;
    setView("board");
    selectActivation(id, true);
  }

  function renderDrillRuns() {
    $("drills-runs-empty").hidden = drl.runs.length > 0;
    keyedList($("drills-runs"), drl.runs, (r) => r.id, buildDrillRun, updateDrillRun);
  }

  function drillButton(action, cls) {
    const b = el("button", "btn " + cls);
    b.type = "button";
    b.dataset.action = action;
    return b;
  }

  function buildDrillRun(run) {
    const li = el("li", "drill-run");
    li.dataset.runId = String(run.id);
    const head = el("div", "drill-run-head");
    head.appendChild(el("span", "drill-run-name"));
    head.appendChild(el("span", "drill-run-state"));
    li.appendChild(head);
    const progress = document.createElement("progress");
    progress.className = "drill-run-progress";
    li.appendChild(progress);
    li.appendChild(el("p", "drill-run-numbers"));
    const actions = el("div", "drill-run-actions");
    actions.appendChild(drillButton("pause", "btn-secondary"));
    actions.appendChild(drillButton("resume", "btn-primary"));
    actions.appendChild(drillButton("stop", "btn-secondary"));
    actions.appendChild(drillButton("show", "btn-secondary"));
    li.appendChild(actions);
    const confirm = el("div", "confirm-box drill-run-stop-confirm");
    confirm.setAttribute("role", "alertdialog");
    confirm.appendChild(el("p", "drill-run-stop-text"));
    const buttons = el("div", "confirm-buttons");
    buttons.appendChild(drillButton("stop-yes", "btn-danger"));
    buttons.appendChild(drillButton("stop-no", "btn-secondary"));
    confirm.appendChild(buttons);
    li.appendChild(confirm);
    li.appendChild(el("p", "drill-run-error error"));
    const details = el("details", "drill-run-log-box");
    details.open = true;
    details.appendChild(el("summary", "drill-run-log-title"));
    details.appendChild(el("ol", "drill-run-log"));
    li.appendChild(details);
    return li;
  }

  function updateDrillRun(li, run) {
    li.dataset.state = run.state;
    li.dataset.activationId = run.activation_id === null ? "" : String(run.activation_id);
    setText(li.querySelector(".drill-run-name"), run.name);
    const state = li.querySelector(".drill-run-state");
    state.dataset.state = run.state;
    setText(state, t("drills_state_" + run.state));
    const progress = li.querySelector(".drill-run-progress");
    progress.max = Math.max(1, run.total);
    progress.value = run.done;
    setText(li.querySelector(".drill-run-numbers"), tf("drills_run_numbers", { done: run.done, total: run.total,
      failed: run.failed, time: run.drill_time, duration: run.duration, speed: run.speed, by: run.started_by }));
    const live = runIsLive(run);
    const button = (action) => li.querySelector("button[data-action=" + action + "]");
    setText(button("pause"), t("drills_pause"));
    setText(button("resume"), t("drills_resume"));
    setText(button("stop"), t("drills_stop"));
    setText(button("show"), t("drills_show"));
    setText(button("stop-yes"), t("drills_stop_yes"));
    setText(button("stop-no"), t("cancel"));
    button("pause").hidden = run.state !== "running";
    button("resume").hidden = run.state !== "paused";
    button("stop").hidden = !live;
    button("show").hidden = run.activation_id === null || !app.activations.some((a) => a.id === run.activation_id);
    const confirming = live && drl.confirmStop === run.id;
    li.querySelector(".drill-run-stop-confirm").hidden = !confirming;
    if (confirming) setText(li.querySelector(".drill-run-stop-text"), tf("drills_stop_text", { name: run.name }));
    setText(li.querySelector(".drill-run-error"), errText(drl.runErrors[run.id]));
    setText(li.querySelector(".drill-run-log-title"), t("drills_log"));
    const log = li.querySelector(".drill-run-log");
    const lines = run.log || [];
    const last = lines.length ? lines[lines.length - 1] : "";
    if (li._logCount !== lines.length || li._logLast !== last) {
      // Follow the log's end unless the reader scrolled up in it.
      const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      log.textContent = "";
      for (const line of lines) log.appendChild(el("li", null, line));
      if (atEnd) log.scrollTop = log.scrollHeight;
      li._logCount = lines.length;
      li._logLast = last;
    }
  }

  async function onDrillRunsClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    const li = btn && btn.closest("li.drill-run");
    if (!li) return;
    const id = Number(li.dataset.runId);
    const run = drl.runs.find((x) => x.id === id);
    if (!run) return;
    const action = btn.dataset.action;
    if (action === "show") { showDrillOnBoard(run.activation_id); return; }
    if (action === "stop") {
      drl.confirmStop = id;
      renderDrillRuns();
      li.querySelector("button[data-action=stop-yes]").focus();
      return;
    }
    if (action === "stop-no") {
      drl.confirmStop = null;
      renderDrillRuns();
      li.querySelector("button[data-action=stop]").focus();
      return;
    }
    const verb = action === "stop-yes" ? "stop" : action;
    if (verb !== "pause" && verb !== "resume" && verb !== "stop") return;
    const epoch = drl.epoch;
    btn.disabled = true;
    const r = await call("POST", "/api/drills/runs/" + id + "/" + verb, {});
    btn.disabled = false;
    if (epoch !== drl.epoch || (r && r.gone)) return;
    if (verb === "stop") drl.confirmStop = null;
    if (r && r.status === 200 && r.data) {
      delete drl.runErrors[id];
      drl.runs = drl.runs.map((x) => (x.id === id ? r.data : x));
    } else if (r && r.status === 409) {
      drl.runErrors[id] = { key: "drills_run_over" };
    } else {
      drl.runErrors[id] = requestError(r, "drills_control_failed");
    }
    renderDrillRuns();
    loadDrillRuns();
  }

  function renderDrillActivations() {
    if (!isAdmin()) return;
    const drills = app.activations.filter((a) => a.kind === "drill");
    $("drills-activations-empty").hidden = drills.length > 0;
    keyedList($("drills-activations"), drills, (a) => a.id, buildDrillActivation, updateDrillActivation);
    if (drl.deleting && !drills.some((a) => a.id === drl.deleting.id)) drl.deleting = null;
    $("drills-delete-confirm").hidden = !drl.deleting;
    if (drl.deleting) setText($("drills-delete-text"), tf("drills_delete_text", { name: drl.deleting.name }));
    $("drills-delete-yes").disabled = drl.deleteBusy;
    setText($("drills-delete-error"), errText(drl.deleteError));
  }

  function buildDrillActivation(a) {
    const li = el("li", "drill-activation");
    li.dataset.activationId = String(a.id);
    li.appendChild(el("span", "drill-activation-name"));
    li.appendChild(el("span", "drill-activation-status"));
    li.appendChild(drillButton("show", "btn-secondary"));
    li.appendChild(drillButton("delete", "btn-danger"));
    li.appendChild(el("span", "drill-activation-hint hint"));
    return li;
  }

  function updateDrillActivation(li, a) {
    setText(li.querySelector(".drill-activation-name"), a.name);
    setText(li.querySelector(".drill-activation-status"),
      t(a.status === "closed" ? "drills_activation_closed" : "drills_activation_open"));
    const running = drl.runs.some((x) => runIsLive(x) && x.activation_id === a.id);
    const del = li.querySelector("button[data-action=delete]");
    setText(del, t("drills_delete"));
    del.disabled = running || drl.deleteBusy;
    setText(li.querySelector("button[data-action=show]"), t("drills_show"));
    const hint = li.querySelector(".drill-activation-hint");
    setText(hint, running ? t("drills_delete_running") : "");
    hint.hidden = !running;
  }

  function onDrillActivationsClick(ev) {
    const btn = ev.target.closest("button[data-action]");
    const li = btn && btn.closest("li.drill-activation");
    if (!li) return;
    const id = Number(li.dataset.activationId);
    const a = app.activations.find((x) => x.id === id && x.kind === "drill");
    if (!a) return;
    if (btn.dataset.action === "show") { showDrillOnBoard(id); return; }
    if (btn.dataset.action === "delete") {
      drl.deleting = { id, name: a.name };
      drl.deleteError = null;
      renderDrillActivations();
      $("drills-delete-yes").focus();
    }
  }

  async function onDrillDeleteYes() {
    if (!drl.deleting || drl.deleteBusy) return;
    const { id } = drl.deleting;
    const epoch = drl.epoch;
    drl.deleteBusy = true;
    renderDrillActivations();
    const r = await call("DELETE", "/api/activations/" + id);
    if (epoch !== drl.epoch || (r && r.gone)) return;
    drl.deleteBusy = false;
    if (r && (r.status === 204 || r.status === 404)) {
      drl.deleting = null;
      drl.deleteError = null;
      await loadActivations(false);
      if (!app.me) return;
      // The board showed the deleted drill: show another activation instead.
      if (!app.activations.some((a) => a.id === app.activationId)) {
        selectActivation(pickActivation(app.activations, null, null), false);
      }
    } else {
      drl.deleteError = requestError(r, "drills_delete_failed");
    }
    renderDrillActivations();
    if (drl.deleteError) $("drills-delete-error").focus();
  }

  function bindDrillEvents() {
    $("drills-reload").addEventListener("click", () => { loadDrillScenarios(); loadDrillRuns(); });
    $("drills-scenarios").addEventListener("change", (ev) => {
      if (ev.target.name !== "drill-scenario") return;
      drl.chosen = ev.target.value;
      drl.confirming = false;
      renderDrillStart();
    });
    for (const id of ["drills-speed", "drills-register"]) $(id).addEventListener("change", renderDrillStart);
    $("drills-start-form").addEventListener("submit", onDrillStartSubmit);
    $("drills-start-yes").addEventListener("click", onDrillStartYes);
    $("drills-start-no").addEventListener("click", () => {
      drl.confirming = false;
      renderDrillStart();
      $("drills-start").focus();
    });
    $("drills-show-board").addEventListener("click", () => { if (drl.started) showDrillOnBoard(drl.started.activationId); });
    $("drills-runs").addEventListener("click", onDrillRunsClick);
    $("drills-activations").addEventListener("click", onDrillActivationsClick);
    $("drills-delete-yes").addEventListener("click", onDrillDeleteYes);
    $("drills-delete-no").addEventListener("click", () => {
      drl.deleting = null;
      renderDrillActivations();
    });
  }

  /* ---------- end of the drills section ---------- */

  /* ==========================================================================================
   * 振り返り (review) — BEGIN of the review section (tab #tab-review, panel #review-view).
   * The after-action review of an activation: GET /api/activations/{id}/review once on entering
   * the tab (and on 再計算), figures rendered here, charts inserted as the server drew them:
   * the JSON carries the very SVG the printable page (GET .../review/page, the 印刷 link) shows,
   * so there is one chart implementation (in Rust). The SVG text is parsed as XML with
   * DOMParser (no HTML parser, nothing executed) and imported; the server escapes its text.
   * No live updates: a review is a look back, recomputed on request.
   * ======================================================================================== */

  Object.assign(I18N.ja, {
    tab_review: "振り返り", review_pick: "振り返る活動", review_reload: "再計算", review_print: "印刷",
    review_failed: "振り返りを読み込めませんでした",
    review_safety_title: "安否確認", review_stages_title: "ニーズ対応の所要時間",
    review_volunteers_title: "ボランティア受付", review_shelters_title: "福祉避難所の受入",
    review_open_title: "終了時に未完了のニーズ", review_timeline_title: "時系列",
    review_comparison_title: "同じシナリオの過去の訓練との比較",
    review_comparison_empty: "比較できる同じシナリオの訓練はありません（シナリオから実行した訓練のみ比較します）",
    review_shelters_empty: "開設された福祉避難所はありません",
    review_safety_note: "確認済に数える状態: 在宅・無事、避難済、要支援・救助要請、入院中、死亡（不在・連絡不能は数えません）",
    review_col_stage: "区間", review_col_count: "件数", review_col_median: "中央値", review_col_p90: "90パーセンタイル",
    review_col_run: "訓練", review_col_opened: "開始", review_col_register: "名簿", review_col_needs: "ニーズ受付",
    review_col_dispatch: "受付→送り出し（中央値）", review_col_teams: "送り出し", review_col_volunteers: "ボランティア受付",
    review_col_open: "未完了", review_col_time: "時刻", review_col_event: "出来事",
    review_heading: "{name}（{kind}）開始 {opened}・所要 {duration}", review_scenario: "シナリオ {key}",
    review_speed: "×{speed} で再生：時間はすべて実時間です（訓練内の時間はおよそ{speed}倍、一時停止の間も含みます）",
    review_this_run: "（今回）", review_not_reached: "未達", review_none: "なし",
    review_people: "{n}人", review_count: "{n}件", review_teams_n: "{n}班",
    review_register: "名簿", review_confirmed: "確認済", review_milestone: "{p}%の確認まで",
    review_needs_received: "ニーズ受付", review_needs_open: "未完了のニーズ", review_volunteers: "ボランティア受付",
    review_teams: "送り出した班", review_by_status: "状態", review_by_category: "種類", review_by_priority: "優先度",
    review_window: "（{m}分ごと）",
    review_hm: "{h}時間{m}分", review_m: "{m}分", review_s: "{s}秒",
    stage_intake_to_matching: "受付→マッチング", stage_matching_to_dispatch: "マッチング→送り出し",
    stage_dispatch_to_return: "送り出し→帰着", stage_return_to_report: "帰着→活動報告",
    stage_intake_to_dispatch: "受付→送り出し（全体）",
    rk_activation_opened: "開始", rk_register_imported: "名簿取込", rk_announcement_posted: "お知らせ掲示",
    rk_shelter_opened: "福祉避難所 開設", rk_need_received: "ニーズ受付", rk_volunteer_checked_in: "ボランティア受付",
    rk_team_formed: "班編成", rk_team_dispatched: "送り出し", rk_team_returned: "帰着", rk_team_reported: "活動報告",
    rk_safety_recorded: "安否確認の記録", rk_assignment_made: "福祉避難所 受入決定", rk_assignment_arrived: "福祉避難所 到着",
    rk_shelter_full: "福祉避難所 満員", rk_shelter_closed: "福祉避難所 閉鎖",
    rk_disclosure_declared: "同意なし情報提供の宣言", rk_disclosure_ended: "同意なし情報提供の終了",
    rk_confirmed_50: "名簿の50%を確認", rk_confirmed_90: "名簿の90%を確認", rk_confirmed_100: "名簿の全員を確認",
    rk_activation_closed: "終了",
  });
  Object.assign(I18N.en, {
    tab_review: "Review", review_pick: "Activation to review", review_reload: "Recompute", review_print: "Print",
    review_failed: "Could not load the review",
    review_safety_title: "Safety confirmation", review_stages_title: "Time at each stage of a need",
    review_volunteers_title: "Volunteer check-ins", review_shelters_title: "Welfare shelter fill",
    review_open_title: "Needs still open at the end", review_timeline_title: "Timeline",
    review_comparison_title: "Earlier runs of the same scenario",
    review_comparison_empty: "No earlier run of this scenario to compare with (only drills run from a scenario are compared)",
    review_shelters_empty: "No welfare shelter was opened",
    review_safety_note: "Counted as confirmed: safe at home, evacuated, needs help, in hospital, deceased (not home and unreachable are not)",
    review_col_stage: "Stage", review_col_count: "Count", review_col_median: "Median", review_col_p90: "90th percentile",
    review_col_run: "Run", review_col_opened: "Started", review_col_register: "Register", review_col_needs: "Needs",
    review_col_dispatch: "Intake → dispatch (median)", review_col_teams: "Teams out", review_col_volunteers: "Volunteers",
    review_col_open: "Open", review_col_time: "Time", review_col_event: "Event",
    review_heading: "{name} ({kind}) started {opened}, ran {duration}", review_scenario: "scenario {key}",
    review_speed: "played at ×{speed}: all times are real times (in the drill's own time about {speed} times longer; pauses included)",
    review_this_run: " (this run)", review_not_reached: "not reached", review_none: "none",
    review_people: "{n}", review_count: "{n}", review_teams_n: "{n}",
    review_register: "On the register", review_confirmed: "Confirmed", review_milestone: "Time to confirm {p}%",
    review_needs_received: "Needs received", review_needs_open: "Needs open", review_volunteers: "Volunteers checked in",
    review_teams: "Teams dispatched", review_by_status: "Status", review_by_category: "Category", review_by_priority: "Priority",
    review_window: " (per {m} min)",
    review_hm: "{h} h {m} min", review_m: "{m} min", review_s: "{s} s",
    stage_intake_to_matching: "Intake → matching", stage_matching_to_dispatch: "Matching → dispatch",
    stage_dispatch_to_return: "Dispatch → return", stage_return_to_report: "Return → report",
    stage_intake_to_dispatch: "Intake → dispatch (whole)",
    rk_activation_opened: "Started", rk_register_imported: "Register imported", rk_announcement_posted: "Announcement",
    rk_shelter_opened: "Shelter opened", rk_need_received: "Need received", rk_volunteer_checked_in: "Volunteer checked in",
    rk_team_formed: "Team formed", rk_team_dispatched: "Team dispatched", rk_team_returned: "Team returned",
    rk_team_reported: "Team reported", rk_safety_recorded: "Safety recorded", rk_assignment_made: "Shelter placement",
    rk_assignment_arrived: "Arrived at shelter", rk_shelter_full: "Shelter full", rk_shelter_closed: "Shelter closed",
    rk_disclosure_declared: "Disclosure declared", rk_disclosure_ended: "Disclosure ended",
    rk_confirmed_50: "50% of the register confirmed", rk_confirmed_90: "90% of the register confirmed",
    rk_confirmed_100: "Everyone on the register confirmed", rk_activation_closed: "Closed",
  });

  // The review tab's state. `token` drops answers to requests made for another activation.
  const rev = { activationId: null, data: null, loading: false, error: null, token: 0, rendered: null, selectSig: null };

  function resetReview() {
    rev.token += 1;
    Object.assign(rev, { activationId: null, data: null, loading: false, error: null, rendered: null, selectSig: null });
  }

  // A duration in seconds as people read it; null: not reached.
  function reviewDuration(seconds) {
    if (seconds === null || seconds === undefined) return t("review_not_reached");
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
    if (h > 0) return tf("review_hm", { h, m: pad2(m) });
    if (m > 0) return tf("review_m", { m });
    return tf("review_s", { s: seconds });
  }

  // "+2h05m": an offset from the start, as the server's charts label their axis.
  function reviewOffset(seconds) {
    const minutes = Math.floor(seconds / 60), h = Math.floor(minutes / 60), m = minutes % 60;
    if (h === 0) return "+" + m + "m";
    return "+" + h + "h" + (m ? pad2(m) + "m" : "");
  }

  // The server's SVG text as a node of this document, or null if it is not one SVG element.
  function svgNode(text) {
    if (typeof text !== "string" || text === "") return null;
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    if (!root || root.localName !== "svg" || doc.getElementsByTagName("parsererror").length) return null;
    return document.importNode(root, true);
  }

  function enterReview() {
    rev.activationId = app.activationId;
    rev.data = null;
    rev.error = null;
    renderReview();
    if (rev.activationId !== null) loadReview();
  }

  async function loadReview() {
    const token = ++rev.token;
    const id = rev.activationId;
    rev.loading = true;
    rev.error = null;
    renderReview();
    const r = await call("GET", "/api/activations/" + enc(id) + "/review");
    if (token !== rev.token || (r && r.gone)) return;
    rev.loading = false;
    if (r && r.status === 200 && r.data) rev.data = r.data;
    else { rev.data = null; rev.error = requestError(r, "review_failed"); }
    rev.rendered = null;
    renderReview();
  }

  // Rebuilt only when the list or the language changed: renderBoard calls here on every board
  // event, and rebuilding the options would close a dropdown the user has open.
  function renderReviewSelect() {
    const sel = $("review-activation");
    const sig = lang + "|" + app.activations.map((a) => a.id + ":" + a.name + ":" + a.status).join("|");
    if (rev.selectSig === sig) {
      sel.value = rev.activationId === null ? "" : String(rev.activationId);
      return;
    }
    rev.selectSig = sig;
    const frag = document.createDocumentFragment();
    for (const a of app.activations) {
      const opt = document.createElement("option");
      opt.value = String(a.id);
      opt.textContent = activationLabel(a);
      frag.appendChild(opt);
    }
    sel.replaceChildren(frag);
    sel.value = rev.activationId === null ? "" : String(rev.activationId);
    sel.disabled = app.activations.length === 0;
  }

  function reviewRow(cells, cls) {
    const tr = el("tr", cls || null);
    for (const c of cells) tr.appendChild(typeof c === "object" && c !== null ? c : el("td", null, c));
    return tr;
  }

  function reviewCounts(titleKey, counts, label) {
    const table = el("table", "data-table review-counts");
    const head = el("thead");
    head.appendChild(reviewRow([el("th", null, t(titleKey)), el("th", null, t("review_col_count"))]));
    const body = el("tbody");
    const codes = Object.keys(counts || {});
    for (const code of codes) body.appendChild(reviewRow([label(code), tf("review_count", { n: counts[code] })]));
    if (!codes.length) body.appendChild(reviewRow([t("review_none"), ""]));
    table.append(head, body);
    return table;
  }

  function renderReview() {
    renderReviewSelect();
    const none = rev.activationId === null;
    $("review-no-activation").hidden = !none;
    $("review-loading").hidden = !rev.loading;
    $("review-reload").disabled = none || rev.loading;
    setText($("review-error"), errText(rev.error));
    const print = $("review-print");
    print.hidden = none;
    if (!none) print.href = "/api/activations/" + enc(rev.activationId) + "/review/page";
    const d = rev.data;
    $("review-body").hidden = !d;
    // Rebuild the figures only when the data or the language changed: renderBoard calls here
    // on every board event.
    const key = d ? lang + ":" + rev.token : null;
    if (!d || rev.rendered === key) return;
    rev.rendered = key;
    const f = d.figures, a = d.activation;
    const kind = t(a.kind === "drill" ? "kind_drill" : "kind_real");
    let heading = tf("review_heading", { name: a.name, kind, opened: formatTime(a.opened_at, new Date()),
      duration: reviewDuration(f.duration_seconds) });
    if (a.scenario) heading += " — " + tf("review_scenario", { key: a.scenario });
    if (a.speed && a.speed !== 1) heading += " — " + tf("review_speed", { speed: a.speed });
    setText($("review-heading"), heading);

    const summary = [
      ["review_register", tf("review_people", { n: f.safety.register_total }), "register"],
      ["review_confirmed", tf("review_people", { n: f.safety.confirmed_at_end }), "confirmed"],
    ];
    for (const m of f.safety.milestones) summary.push([null, reviewDuration(m.seconds), "confirm-" + m.percent, tf("review_milestone", { p: m.percent })]);
    summary.push(["review_needs_received", tf("review_count", { n: f.needs.received }), "needs-received"]);
    summary.push(["review_needs_open", tf("review_count", { n: f.needs.open_at_end }), "needs-open"]);
    summary.push(["review_volunteers", tf("review_people", { n: f.volunteers.checked_in }), "volunteers"]);
    summary.push(["review_teams", tf("review_teams_n", { n: f.teams_dispatched }), "teams"]);
    const dl = $("review-summary");
    dl.replaceChildren();
    for (const [labelKey, value, name, labelText] of summary) {
      const box = el("div", "review-figure");
      box.dataset.figure = name;
      box.append(el("dt", null, labelText || t(labelKey)), el("dd", null, value));
      dl.appendChild(box);
    }

    $("review-milestones").replaceChildren(...f.safety.milestones.map((m) =>
      reviewRow([el("th", null, tf("review_milestone", { p: m.percent })), reviewDuration(m.seconds)])));
    $("review-stages").replaceChildren(...f.stages.map((s) =>
      reviewRow([t("stage_" + s.stage), String(s.count),
        s.count ? reviewDuration(s.median_seconds) : "—", s.count ? reviewDuration(s.p90_seconds) : "—"])));

    const put = (box, svg) => { const n = svgNode(svg); box.replaceChildren(...(n ? [n] : [])); };
    put($("review-chart-safety"), d.charts.safety);
    put($("review-chart-checkins"), d.charts.checkins);
    const shelters = $("review-chart-shelters");
    shelters.replaceChildren();
    for (const c of d.charts.shelters) {
      const box = el("div", "review-chart");
      box.dataset.shelterId = String(c.shelter_id);
      put(box, c.svg);
      shelters.appendChild(box);
    }
    $("review-shelters-empty").hidden = d.charts.shelters.length > 0;

    $("review-open").replaceChildren(
      reviewCounts("review_by_status", f.needs.open_by_status, needStatusLabel),
      reviewCounts("review_by_category", f.needs.open_by_category, categoryLabel),
      reviewCounts("review_by_priority", f.needs.open_by_priority, (p) => labelOf("priority_", p)));

    const runs = d.comparison || [];
    $("review-comparison-empty").hidden = runs.length > 0;
    $("review-comparison").hidden = runs.length === 0;
    $("review-comparison-body").replaceChildren(...runs.map((c) => {
      const tr = reviewRow([
        c.name + (c.this_run ? t("review_this_run") : ""), formatTime(c.opened_at, new Date()),
        tf("review_people", { n: c.register_total }), reviewDuration(c.confirm_50_seconds),
        reviewDuration(c.confirm_90_seconds), reviewDuration(c.confirm_100_seconds),
        tf("review_count", { n: c.needs_received }), reviewDuration(c.intake_to_dispatch_median_seconds),
        tf("review_teams_n", { n: c.teams_dispatched }), tf("review_people", { n: c.volunteers_checked_in }),
        tf("review_count", { n: c.needs_open_at_end }),
      ], c.this_run ? "is-this-run" : null);
      tr.dataset.activationId = String(c.activation_id);
      return tr;
    }));

    setText($("review-timeline-title"), t("review_timeline_title") + tf("review_window", { m: f.timeline.bucket_minutes }));
    $("review-timeline").replaceChildren(...f.timeline.rows.map((r) => {
      const tr = reviewRow([reviewOffset(r.seconds), t("rk_" + r.kind), String(r.count)]);
      tr.dataset.kind = r.kind;
      return tr;
    }));
  }

  function bindReview() {
    $("review-activation").addEventListener("change", (ev) => {
      if (ev.target.value === "") return;
      rev.activationId = Number(ev.target.value);
      rev.data = null;
      loadReview();
    });
    $("review-reload").addEventListener("click", () => { if (rev.activationId !== null) loadReview(); });
  }

  /* 振り返り (review) — END of the review section. */

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t("title");
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
    for (const e of document.querySelectorAll("[data-i18n-aria-label]")) e.setAttribute("aria-label", t(e.dataset.i18nAriaLabel));
    renderStatusFilter();
    syncInsuranceFields("vol");
    syncInsuranceFields("desk");
    for (const e of document.querySelectorAll("[data-msg-key]")) renderMessage(e);
    const toggle = $("lang-toggle");
    toggle.lang = lang === "ja" ? "en" : "ja";
    toggle.setAttribute("aria-label", t("lang_toggle_label"));
    renderConnState();
    if (app.me) { renderRole(); renderActivationSelect(); renderBoard(); renderImport(); renderRegistry(); }
    if (app.me) renderDrills();
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
    $("registry-new").addEventListener("click", () => openRegistryForm(null));
    $("registry-reload").addEventListener("click", loadRegistry);
    $("registry-list").addEventListener("click", (ev) => {
      const btn = ev.target.closest("button[data-action=edit]");
      const li = btn && btn.closest("li.registry-shelter");
      const s = li && (reg.shelters || []).find((x) => String(x.id) === li.dataset.shelterId);
      if (s) openRegistryForm(s);
    });
    $("registry-form").addEventListener("submit", onRegistrySubmit);
    $("registry-form").addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !reg.saving) { ev.preventDefault(); closeRegistryForm(); }
    });
    $("registry-cancel").addEventListener("click", closeRegistryForm);
    $("registry-import-form").addEventListener("submit", (ev) => { ev.preventDefault(); runRegistryImport(false, false); });
    $("registry-import-file").addEventListener("change", onRegistryImportFileChange);
    $("registry-import-encoding").addEventListener("change", onRegistryImportFileChange);
    $("registry-import-mapping").addEventListener("change", onRegistryImportFileChange);
    $("registry-import-commit").addEventListener("click", () => runRegistryImport(true, false));
    $("registry-import-commit-valid").addEventListener("click", () => {
      reg.imp.confirming = true;
      renderRegistryImport();
      $("registry-import-confirm-yes").focus();
    });
    $("registry-import-confirm-yes").addEventListener("click", () => runRegistryImport(true, true));
    $("registry-import-confirm-no").addEventListener("click", () => {
      reg.imp.confirming = false;
      renderRegistryImport();
      $("registry-import-commit-valid").focus();
    });
    $("registry-import-again").addEventListener("click", () => {
      reg.imp.token += 1;
      Object.assign(reg.imp, { file: null, busy: null, report: null, phase: null, error: null, confirming: false });
      $("registry-import-file").value = "";
      renderRegistryImport();
      $("registry-import-file").focus();
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
    $("desk-lookup-form").addEventListener("submit", onLookupSubmit);
    $("desk-lookup").addEventListener("input", onLookupInput);
    $("desk-found").addEventListener("click", onFoundClick);
    $("desk-insurance-toggle").addEventListener("click", onInsuranceToggle);
    $("desk-insurance").addEventListener("submit", onDeskInsuranceSave);
    $("vol-form").addEventListener("submit", (ev) => onVolSubmit(ev, false));
    $("vol-conflict-checkin").addEventListener("click", onConflictCheckin);
    $("vol-conflict-register").addEventListener("click", () => onVolSubmit(null, true));
    $("vol-conflict-cancel").addEventListener("click", () => {
      desk.conflict = null;
      renderVolForm();
      $("vol-phone").focus();
    });
    $("desk-today").addEventListener("click", onDeskTodayClick);
    $("desk-today-q").addEventListener("input", renderDeskToday);
    $("desk-today-reload").addEventListener("click", loadDeskToday);
    $("need-form").addEventListener("submit", onNeedSubmit);
    $("need-phone").addEventListener("input", onNeedContactInput);
    $("need-address").addEventListener("input", onNeedContactInput);
    $("need-dups-list").addEventListener("click", (ev) => {
      const li = ev.target.closest("li.dup-item");
      if (li) showNeed(li.dataset.needId);
    });
    $("needs-list").addEventListener("click", onNeedsListClick);
    $("needs-status").addEventListener("change", (ev) => {
      nd.status = ev.target.value;
      loadNeedsList(true);
    });
    $("needs-reload").addEventListener("click", () => loadNeedsList(true));
    $("match-needs").addEventListener("click", onMatchNeedsClick);
    $("team-members").addEventListener("change", onMembersChange);
    $("team-member-q").addEventListener("input", renderTeamBuilder);
    // Enter in the filter filters; it does not form the team.
    $("team-member-q").addEventListener("keydown", (ev) => { if (ev.key === "Enter") ev.preventDefault(); });
    $("team-form").addEventListener("submit", onTeamSubmit);
    for (const status of TEAM_ACTIVE_STATUSES) {
      const list = $("teams-" + status);
      list.addEventListener("click", onTeamsClick);
      list.addEventListener("change", onTeamsChange);
      list.addEventListener("submit", onTeamsSubmit);
    }
    $("teams-reload").addEventListener("click", loadTeams);
    $("equipment-rows").addEventListener("submit", onEquipmentAdjust);
    $("equipment-form").addEventListener("submit", onEquipmentAdd);
    bindDrillEvents();
    bindReview();
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) reconnectNow(); });
  }

  async function boot() {
    const stored = storageGet(LS_LANG);
    lang = stored === "en" ? "en" : "ja";
    buildCentreControls();
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
