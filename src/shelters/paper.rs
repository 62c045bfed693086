//! The shelters' paper fallback: a printable assignment list per shelter (print CSS, no
//! external assets) stamped with who printed it and when, with a box to tick at arrival; and
//! the CSV export of assignments, safe to open in Excel. Both are audited and follow the
//! same rules as the screens: an operator gets only their own shelter.

use std::fmt::Write as _;

use super::assignments::{self, AssignedPerson, ShelterList};
use crate::activations::Activation;
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::register::paper::{escape, jst, jst_offset, neutralise};
use crate::store::Store;

pub fn status_label(status: &str) -> &'static str {
    match status {
        "assigned" => "受入予定",
        "arrived" => "到着",
        "not_arrived" => "未到着",
        "left" => "退所",
        "transferred" => "移送",
        _ => "",
    }
}

fn care(p: &AssignedPerson) -> String {
    [p.care_level.as_deref(), p.disability.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ")
}

fn latest_note(p: &AssignedPerson) -> String {
    p.updates.last().map(|u| u.note.clone()).unwrap_or_default()
}

/// The printable list of one shelter's people.
pub async fn print(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    shelter_id: i64,
) -> Result<String> {
    let list = assignments::list_for_shelter(
        store,
        user,
        activation,
        shelter_id,
        "shelter.assignments.print",
    )
    .await?;
    Ok(print_html(user, activation, &list))
}

fn print_html(user: &CurrentUser, activation: &Activation, list: &ShelterList) -> String {
    let printed = jst(list.read_at);
    let shelter = &list.shelter;
    let title = format!("福祉避難所 受入者一覧 {}", escape(&shelter.name));
    let drill = if activation.kind == "drill" {
        "<p class=\"drill\">訓練 DRILL — これは訓練です</p>"
    } else {
        ""
    };
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}</title><link rel=\"stylesheet\" href=\"/print.css\"></head><body>\
         {drill}<header><h1>{title}</h1><p class=\"stamp\">印刷: {who} {printed}（取扱注意・個人情報）</p>\
         <p>{activation} ／ 定員 {capacity}人 ／ 受入予定 {assigned}人 ／ 到着 {arrived}人</p></header><table><thead><tr>\
         <th>到着</th><th>氏名 / フリガナ</th><th>生年月日・性別</th><th>住所</th><th>電話</th><th>要介護度・障害</th>\
         <th>支援が必要な理由</th><th>避難支援者</th><th>状況</th><th>メモ</th></tr></thead><tbody>",
        who = escape(&user.username),
        activation = escape(&activation.name),
        capacity = shelter.capacity,
        assigned = shelter.assigned,
        arrived = shelter.arrived,
    );
    for p in &list.people {
        let sex = match p.sex.as_deref() {
            Some("male") => "男",
            Some("female") => "女",
            _ => "",
        };
        let _ = write!(
            html,
            "<tr><td class=\"box\">{}</td><td><b>{}</b><br><small>{}</small></td><td>{} {}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"memo\">{}</td></tr>",
            if p.status == "arrived" { "☑" } else { "□" },
            escape(&p.name),
            escape(p.name_kana.as_deref().unwrap_or("")),
            escape(p.birth_date.as_deref().unwrap_or("")),
            sex,
            escape(&p.address),
            escape(p.phone.as_deref().unwrap_or("")),
            escape(&care(p)),
            escape(p.support_reasons.as_deref().unwrap_or("")),
            escape(p.supporters.as_deref().unwrap_or("")),
            status_label(&p.status),
            escape(&latest_note(p)),
        );
    }
    if list.hidden > 0 {
        let _ = write!(
            html,
            "<tr><td colspan=\"10\">情報提供に同意していない方 {}人は表示されていません</td></tr>",
            list.hidden
        );
    }
    let _ = write!(
        html,
        "</tbody></table><footer>印刷: {} {} — saigai-vc</footer></body></html>",
        escape(&user.username),
        printed
    );
    html
}

/// The assignments of one shelter as CSV (UTF-8 with BOM): (file name, bytes).
pub async fn export(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    shelter_id: i64,
) -> Result<(String, Vec<u8>)> {
    let list = assignments::list_for_shelter(
        store,
        user,
        activation,
        shelter_id,
        "shelter.assignments.export",
    )
    .await?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let header = [
        "福祉避難所",
        "宛名番号",
        "氏名",
        "フリガナ",
        "生年月日",
        "住所",
        "電話番号",
        "地区",
        "要介護度",
        "障害",
        "支援が必要な理由",
        "避難支援者",
        "状況",
        "割当理由",
        "割当者",
        "割当日時",
        "最新メモ",
    ];
    writer.write_record(header).map_err(anyhow::Error::from)?;
    for p in &list.people {
        let cells = [
            list.shelter.name.clone(),
            p.resident_id.clone(),
            p.name.clone(),
            p.name_kana.clone().unwrap_or_default(),
            p.birth_date.clone().unwrap_or_default(),
            p.address.clone(),
            p.phone.clone().unwrap_or_default(),
            p.district.clone().unwrap_or_default(),
            p.care_level.clone().unwrap_or_default(),
            p.disability.clone().unwrap_or_default(),
            p.support_reasons.clone().unwrap_or_default(),
            p.supporters.clone().unwrap_or_default(),
            status_label(&p.status).to_string(),
            p.reason.clone(),
            p.assigned_by.clone(),
            jst(p.assigned_at),
            latest_note(p),
        ];
        writer
            .write_record(cells.iter().map(|c| neutralise(c).into_owned()))
            .map_err(anyhow::Error::from)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    let stamp = chrono::Utc::now()
        .with_timezone(&jst_offset())
        .format("%Y%m%d-%H%M");
    Ok((format!("assignments-{shelter_id}-{stamp}.csv"), bytes))
}
