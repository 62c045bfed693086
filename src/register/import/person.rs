//! A person of the register in canonical form, and how one decoded row becomes one: each
//! cell is trimmed and read by its field's parser; every cell that cannot be read is
//! reported on its own, and a row with any such cell produces no person.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::InvalidCell;
use super::columns::{Columns, Field};
use super::dates::birth_date;
use super::decode::{DecodedRecord, Decoding};
use super::kana::full_width_katakana;
use super::values::{self, Sex, trim};

/// One person of the support-needed register (避難行動要支援者名簿), as imported.
/// `care_level` and `disability` are 要配慮個人情報, the most sensitive category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    /// The municipality's 宛名番号: identifies the person across exports (never My Number).
    pub resident_id: String,
    pub name: String,
    /// The reading, half-width katakana made full width.
    pub name_kana: Option<String>,
    /// Serialised as `YYYY-MM-DD`.
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    /// `NNN-NNNN`.
    pub postal_code: Option<String>,
    pub address: String,
    /// Digits and dashes in ASCII; otherwise free text.
    pub phone: Option<String>,
    pub district: Option<String>,
    /// 要支援1–2 and 要介護1–5 with ASCII digits; other values as given.
    pub care_level: Option<String>,
    pub disability: Option<String>,
    pub support_reasons: Option<String>,
    /// Null when the export leaves it blank, which counts as not consented.
    pub consent: Option<bool>,
    pub supporters: Option<String>,
    pub designated_shelter: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub notes: Option<String>,
}

/// Reads the cells of one row that has as many cells as the header. Problems go to
/// `invalid`, one per cell; `None` when there was any.
pub(crate) fn read_person(
    line: usize,
    record: &DecodedRecord,
    columns: &Columns,
    decoding: Decoding,
    today: NaiveDate,
    invalid: &mut Vec<InvalidCell>,
) -> Option<Person> {
    let mut row = Row {
        line,
        columns,
        cells: [None; Field::COUNT],
        undecodable: [false; Field::COUNT],
        problems: Vec::new(),
    };
    // Bytes that do not decode spoil the whole row, whichever column they are in: the
    // export was damaged there, and the other cells may not be what they seem.
    for (index, cell) in record.cells().enumerate() {
        if let Err(undecodable) = cell {
            row.reject_at(index, &undecodable.shown, undecodable.reason(decoding));
        }
    }
    for field in Field::ALL {
        let Some(index) = columns.index(field) else {
            continue;
        };
        match record.get(index) {
            Some(Ok(text)) => {
                let text = trim(text);
                if !text.is_empty() {
                    row.cells[field as usize] = Some(text);
                }
            }
            // Already reported; noted so that a required field is not also called blank.
            Some(Err(_)) => row.undecodable[field as usize] = true,
            None => unreachable!("rows are checked to have as many cells as the header"),
        }
    }

    let person = Person {
        resident_id: row.required(Field::ResidentId),
        name: row.required(Field::Name),
        name_kana: row
            .text(Field::NameKana)
            .map(|t| full_width_katakana(t).into_owned()),
        birth_date: row.parsed(Field::BirthDate, |t| birth_date(t, today)),
        sex: row.parsed(Field::Sex, values::sex).flatten(),
        postal_code: row.parsed(Field::PostalCode, values::postal_code),
        address: row.required(Field::Address),
        phone: row
            .text(Field::Phone)
            .map(|t| values::phone(t).into_owned()),
        district: row.owned(Field::District),
        care_level: row
            .text(Field::CareLevel)
            .map(|t| values::care_level(t).into_owned()),
        disability: row.owned(Field::Disability),
        support_reasons: row.owned(Field::SupportReasons),
        consent: row.parsed(Field::Consent, values::consent).flatten(),
        supporters: row.owned(Field::Supporters),
        designated_shelter: row.owned(Field::DesignatedShelter),
        latitude: row.parsed(Field::Latitude, |t| values::coordinate(t, 90.0, "緯度")),
        longitude: row.parsed(Field::Longitude, |t| values::coordinate(t, 180.0, "経度")),
        notes: row.owned(Field::Notes),
    };
    if row.problems.is_empty() {
        return Some(person);
    }
    // Reported left to right, as staff read the row in a spreadsheet.
    row.problems.sort_by_key(|(index, _)| *index);
    invalid.extend(row.problems.into_iter().map(|(_, cell)| cell));
    None
}

/// The trimmed cells of one row by field, and the problems found in them so far.
struct Row<'a> {
    line: usize,
    columns: &'a Columns,
    /// None where the file has no such column, or the cell is blank or undecodable.
    cells: [Option<&'a str>; Field::COUNT],
    undecodable: [bool; Field::COUNT],
    /// (column index, problem); empty, and so unallocated, for a good row.
    problems: Vec<(usize, InvalidCell)>,
}

impl<'a> Row<'a> {
    fn reject(&mut self, field: Field, value: &str, reason: String) {
        let index = self
            .columns
            .index(field)
            .expect("only present columns are read");
        self.reject_at(index, value, reason);
    }

    fn reject_at(&mut self, index: usize, value: &str, reason: String) {
        let cell = InvalidCell {
            line: self.line,
            column: self.columns.name(index),
            value: value.to_owned(),
            reason,
        };
        self.problems.push((index, cell));
    }

    fn text(&self, field: Field) -> Option<&'a str> {
        self.cells[field as usize]
    }

    fn owned(&self, field: Field) -> Option<String> {
        self.text(field).map(str::to_owned)
    }

    /// A field without which the row names or finds no one.
    fn required(&mut self, field: Field) -> String {
        match self.text(field) {
            Some(text) => text.to_owned(),
            None => {
                if !self.undecodable[field as usize] {
                    let reason = format!("{}は必須です。空欄にはできません", field.label());
                    self.reject(field, "", reason);
                }
                String::new()
            }
        }
    }

    /// A non-blank cell read by `parse`; a refusal becomes one invalid cell.
    fn parsed<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let text = self.text(field)?;
        match parse(text) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.reject(field, text, reason);
                None
            }
        }
    }
}
