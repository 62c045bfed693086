//! `parse_register` over whole files: the fixtures in `tests/fixtures/register/` (see
//! `make_fixtures.py` there for the ones that are not plain UTF-8) and small inline files.
//! Each test checks what staff would check after an import: which people came in, from
//! which line, and which cells were refused and why.

use std::path::Path;

use chrono::NaiveDate;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn options() -> ImportOptions {
    ImportOptions {
        encoding: EncodingChoice::Auto,
        mapping: None,
        today: today(),
        progress: Progress::default(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/register")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn parse_fixture(name: &str) -> ParsedRegister {
    parse_register(&fixture(name), &options()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn lines(parsed: &ParsedRegister) -> Vec<usize> {
    parsed.records.iter().map(|(line, _)| *line).collect()
}

fn person<'a>(parsed: &'a ParsedRegister, resident_id: &str) -> &'a Person {
    parsed
        .records
        .iter()
        .map(|(_, p)| p)
        .find(|p| p.resident_id == resident_id)
        .unwrap_or_else(|| panic!("no record for {resident_id}: {parsed:#?}"))
}

/// A person with only the required fields, to build expectations from.
fn bare(resident_id: &str, name: &str, address: &str) -> Person {
    Person {
        resident_id: resident_id.into(),
        name: name.into(),
        name_kana: None,
        birth_date: None,
        sex: None,
        postal_code: None,
        address: address.into(),
        phone: None,
        district: None,
        care_level: None,
        disability: None,
        support_reasons: None,
        consent: None,
        supporters: None,
        designated_shelter: None,
        latitude: None,
        longitude: None,
        notes: None,
    }
}

fn assert_no_replacement_character(parsed: &ParsedRegister) {
    let json = serde_json::to_string(parsed).unwrap();
    assert!(
        !json.contains('\u{FFFD}'),
        "no U+FFFD is ever stored or shown: {json}"
    );
}

#[test]
fn utf8_export_reads_every_field_into_its_canonical_form() {
    let parsed = parse_fixture("utf8_valid.csv");
    assert_eq!(parsed.encoding, "utf-8", "encoding detected");
    assert_eq!(parsed.rows, 4, "four data rows");
    assert_eq!(lines(&parsed), [2, 3, 4, 5], "one record per line");
    assert!(
        parsed.invalid.is_empty(),
        "no problems: {:#?}",
        parsed.invalid
    );
    assert!(parsed.unmapped_columns.is_empty(), "every column is known");

    let yamada = Person {
        name_kana: Some("ヤマダ タロウ".into()),
        birth_date: date(1940, 3, 1),
        sex: Some(Sex::Male),
        postal_code: Some("222-0033".into()),
        phone: Some("045-000-1234".into()),
        district: Some("新横浜地区".into()),
        care_level: Some("要介護2".into()),
        support_reasons: Some("一人暮らし・歩行困難".into()),
        consent: Some(true),
        supporters: Some("山田 花子（長女）".into()),
        designated_shelter: Some("新横浜小学校".into()),
        latitude: Some(35.5070),
        longitude: Some(139.6176),
        ..bare("100001", "山田 太郎", "横浜市港北区新横浜二丁目5番地")
    };
    assert_eq!(
        person(&parsed, "100001"),
        &yamada,
        "昭和 date, 〒, ﾊﾝｶｸ kana, 要介護２"
    );

    let takahashi = person(&parsed, "100002");
    assert_eq!(
        takahashi.name, "髙橋 﨑子",
        "extension ideographs kept as they are"
    );
    assert_eq!(
        takahashi.name_kana.as_deref(),
        Some("タカハシ サキコ"),
        "kana"
    );
    assert_eq!(takahashi.birth_date, date(1938, 11, 3), "1938/11/3");
    assert_eq!(takahashi.sex, Some(Sex::Female), "女");
    assert_eq!(
        takahashi.postal_code.as_deref(),
        Some("223-0061"),
        "7 digits"
    );
    assert_eq!(
        takahashi.address, "横浜市港北区日吉本町一丁目1番1号　日吉ハイツ101",
        "an ideographic space inside an address is kept"
    );
    assert_eq!(
        takahashi.phone.as_deref(),
        Some("045-000-5678"),
        "full-width phone"
    );
    assert_eq!(takahashi.care_level.as_deref(), Some("要支援1"), "要支援1");
    assert_eq!(
        takahashi.disability.as_deref(),
        Some("視覚障害1級"),
        "disability"
    );
    assert_eq!(takahashi.consent, Some(true), "○ is consent");
    assert_eq!(takahashi.supporters, None, "blank supporters");
    assert_eq!(
        (takahashi.latitude, takahashi.longitude),
        (None, None),
        "no coordinates"
    );
    assert_eq!(
        takahashi.notes.as_deref(),
        Some("夜間は長男宅（同区内）"),
        "notes"
    );

    let sato = person(&parsed, "100003");
    assert_eq!(sato.birth_date, date(1945, 8, 15), "S20.8.15");
    assert_eq!(sato.sex, Some(Sex::Male), "1 is male");
    assert_eq!(sato.phone, None, "blank phone");
    assert_eq!(
        sato.support_reasons.as_deref(),
        Some("在宅酸素療法, 電源が必要"),
        "a quoted comma"
    );
    assert_eq!(sato.consent, Some(false), "無 is no consent");
    assert_eq!(
        sato.supporters.as_deref(),
        Some("民生委員 鈴木, 隣人 田中"),
        "supporters"
    );

    let suzuki = person(&parsed, "100004");
    assert_eq!(
        suzuki.name, "鈴木 ハナ",
        "full-width spaces around the name trimmed"
    );
    assert_eq!(
        suzuki.name_kana.as_deref(),
        Some("すずき はな"),
        "hiragana kept"
    );
    assert_eq!(suzuki.birth_date, date(1945, 5, 5), "19450505");
    assert_eq!(suzuki.sex, Some(Sex::Female), "2 is female");
    assert_eq!(suzuki.postal_code, None, "blank postal code");
    assert_eq!(suzuki.care_level.as_deref(), Some("要介護5"), "要介護5");
    assert_eq!(suzuki.consent, None, "blank consent is unknown");
}

#[test]
fn bom_crlf_export_with_aliases_unknown_columns_and_blank_lines() {
    let parsed = parse_fixture("utf8_bom_crlf.csv");
    assert_eq!(parsed.encoding, "utf-8-bom", "BOM detected");
    assert_eq!(parsed.rows, 3, "blank lines are not rows");
    assert_eq!(lines(&parsed), [2, 5, 7], "lines count the blank ones");
    assert!(
        parsed.invalid.is_empty(),
        "blank lines are never invalid: {:#?}",
        parsed.invalid
    );
    assert_eq!(
        parsed.unmapped_columns,
        ["世帯番号"],
        "unknown column listed"
    );

    let ono = person(&parsed, "500001");
    assert_eq!(
        ono.address, "横浜市港北区篠原町1番",
        "住所又は居所 → address"
    );
    assert_eq!(ono.name, "大野 清", "名前 → name");
    assert_eq!(ono.phone.as_deref(), Some("045-000-5001"), "連絡先 → phone");
    assert_eq!(ono.consent, Some(true), "同意 column, はい");
    assert_eq!(
        ono.name_kana.as_deref(),
        Some("おおの きよし"),
        "ふりがな column"
    );
    let tomoko = person(&parsed, "500002");
    assert_eq!(tomoko.consent, Some(false), "いいえ");
    assert_eq!(
        tomoko.name_kana.as_deref(),
        Some("オオノ トモコ"),
        "half-width kana"
    );
    assert_eq!(
        person(&parsed, "500003"),
        &bare("500003", "石井 稔", "横浜市港北区岸根町3番")
    );
}

#[test]
fn quoted_fields_hold_commas_quotes_and_line_breaks() {
    let parsed = parse_fixture("quoted_newlines.csv");
    assert_eq!(
        lines(&parsed),
        [2, 4, 7],
        "each record's first line, quoted breaks counted"
    );
    assert_eq!(parsed.rows, 4, "the unclosed record counts as a row");

    let ichiro = person(&parsed, "300001");
    assert_eq!(
        ichiro.support_reasons.as_deref(),
        Some("歩行困難\n車いす使用"),
        "a line break inside quotes"
    );
    assert_eq!(
        ichiro.notes.as_deref(),
        Some("連絡は長女へ, 平日は\"デイサービス\"利用"),
        "a comma and doubled quotes inside quotes"
    );
    assert_eq!(
        person(&parsed, "300002").notes.as_deref(),
        Some("夫と同居\n日中は独居"),
        "a trailing line break is trimmed, the inner one kept"
    );
    assert_eq!(
        person(&parsed, "300003").address,
        "横浜市港北区綱島東二丁目2番, 綱島コーポ203",
        "a quoted address with a comma"
    );

    assert_eq!(parsed.invalid.len(), 1, "{:#?}", parsed.invalid);
    let open = &parsed.invalid[0];
    assert_eq!(
        (open.line, open.column.as_str()),
        (8, WHOLE_ROW),
        "where the quote opens"
    );
    assert!(
        open.reason.contains("引用符") && open.reason.contains("閉じられていない"),
        "the reason names the unclosed quote: {}",
        open.reason
    );
    assert!(
        !parsed
            .records
            .iter()
            .any(|(_, p)| p.resident_id == "300004"),
        "the swallowed rows are not imported as one"
    );
}

#[test]
fn cp932_export_with_microsoft_extensions_and_half_width_kana() {
    for choice in [EncodingChoice::Auto, EncodingChoice::Cp932] {
        let parsed = parse_register(
            &fixture("cp932.csv"),
            &ImportOptions {
                encoding: choice,
                ..options()
            },
        )
        .unwrap();
        let case = format!("{choice:?}");
        assert_eq!(parsed.encoding, "cp932", "{case}: encoding");
        assert_eq!(lines(&parsed), [2, 3, 4], "{case}: lines");
        assert!(parsed.invalid.is_empty(), "{case}: {:#?}", parsed.invalid);

        let takagi = person(&parsed, "400001");
        assert_eq!(takagi.name, "髙木 﨑太郎", "{case}: 髙 and 﨑");
        assert_eq!(
            takagi.name_kana.as_deref(),
            Some("タカギ サキタロウ"),
            "{case}: ｷﾞ"
        );
        assert_eq!(
            takagi.address, "横浜市金沢区能見台通1番①",
            "{case}: 能 (0x5C trail) and ①"
        );
        assert_eq!(
            takagi.disability.as_deref(),
            Some("身体障害者手帳№12"),
            "{case}: №"
        );
        assert_eq!(takagi.birth_date, date(1937, 5, 6), "{case}: 昭和12年");

        let watanabe = person(&parsed, "400002");
        assert_eq!(watanabe.name, "渡辺 ソノ", "{case}: ソ (0x5C trail)");
        assert_eq!(
            watanabe.name_kana.as_deref(),
            Some("ワタナベ ソノ"),
            "{case}: ﾍﾞ"
        );
        assert_eq!(
            watanabe.notes.as_deref(),
            Some("表札は旧姓"),
            "{case}: 表 (0x5C trail)"
        );
        assert_eq!(watanabe.consent, Some(true), "{case}: あり");

        let miyazaki = person(&parsed, "400003");
        assert_eq!(
            miyazaki.name_kana.as_deref(),
            Some("ミヤザキ ヒョウコ"),
            "{case}: ｻﾞ, ｮ"
        );
        assert_eq!(
            miyazaki.address, "横浜市金沢区富岡西3丁目, 富岡ハイツ②",
            "{case}: a quoted comma in CP932"
        );
        assert_eq!(
            miyazaki.notes.as_deref(),
            Some("ﾍﾙﾊﾟｰ週3回"),
            "{case}: half-width kana outside the reading are kept as written"
        );
        assert_eq!(miyazaki.birth_date, date(1934, 12, 24), "{case}: S9.12.24");
    }
}

#[test]
fn cp932_export_with_bad_bytes_refuses_only_that_row() {
    let parsed = parse_fixture("cp932_bad_bytes.csv");
    assert_eq!(parsed.encoding, "cp932", "still CP932");
    assert_eq!(parsed.rows, 3, "three rows");
    assert_eq!(
        lines(&parsed),
        [2, 4],
        "the rows around the damaged one import"
    );

    let problems: Vec<(usize, &str, &str)> = parsed
        .invalid
        .iter()
        .map(|c| (c.line, c.column.as_str(), c.value.as_str()))
        .collect();
    assert_eq!(
        problems,
        [(3, "氏名", "渡辺 \\xFF子"), (3, "備考", "\\x82")],
        "each undecodable cell of line 3, shown with its bad bytes"
    );
    for cell in &parsed.invalid {
        assert!(
            cell.reason.contains("CP932") && cell.reason.contains("0x"),
            "the reason names the encoding and the bytes: {}",
            cell.reason
        );
    }
    assert_no_replacement_character(&parsed);
}

#[test]
fn utf8_export_with_one_damaged_row_is_still_read_as_utf8() {
    let parsed = parse_fixture("utf8_bad_row.csv");
    assert_eq!(
        parsed.encoding, "utf-8",
        "the header only makes sense as UTF-8"
    );
    assert_eq!(lines(&parsed), [2, 4], "the good rows import");
    assert_eq!(parsed.invalid.len(), 1, "{:#?}", parsed.invalid);
    let cell = &parsed.invalid[0];
    assert_eq!(
        (cell.line, cell.column.as_str()),
        (3, "氏名"),
        "the damaged cell"
    );
    assert!(
        cell.reason.contains("UTF-8"),
        "reason names UTF-8: {}",
        cell.reason
    );
    assert_no_replacement_character(&parsed);
}

#[test]
fn a_damaged_utf8_file_with_ascii_headers_is_not_read_as_cp932() {
    // Both encodings read an ASCII header; the body decides. Read as CP932, 山田 would
    // turn silently into other characters.
    let mut bytes = "resident_id,name,address\n1,山田 太郎,横浜市港北区\n2,"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"\xFF");
    bytes.extend_from_slice(",森,横浜市\n3,髙橋 﨑子,横浜市港北区日吉\n".as_bytes());
    let parsed = parse_register(&bytes, &options()).unwrap();
    assert_eq!(parsed.encoding, "utf-8", "mostly UTF-8");
    assert_eq!(
        parsed.records,
        [
            (2, bare("1", "山田 太郎", "横浜市港北区")),
            (4, bare("3", "髙橋 﨑子", "横浜市港北区日吉")),
        ],
        "the intact rows read correctly"
    );
    assert_eq!(
        parsed.invalid.len(),
        1,
        "line 3 refused: {:#?}",
        parsed.invalid
    );
    assert_eq!(parsed.invalid[0].line, 3, "the damaged line");
}

#[test]
fn municipal_headers_need_their_mapping_file() {
    let bytes = fixture("municipal_headers.csv");
    let err = parse_register(&bytes, &options()).unwrap_err();
    let FileError::MissingColumns { missing } = &err else {
        panic!("without the mapping the required columns are missing, got {err:?}");
    };
    let fields: Vec<&str> = missing.iter().map(|m| m.field).collect();
    assert_eq!(
        fields,
        ["resident_id", "name", "address"],
        "all three named"
    );

    let text = String::from_utf8(fixture("municipal_mapping.toml")).unwrap();
    let mapping = parse_mapping(&text).expect("the fixture mapping is valid");
    let parsed = parse_register(
        &bytes,
        &ImportOptions {
            mapping: Some(mapping),
            ..options()
        },
    )
    .expect("with the mapping the file imports");
    assert_eq!(lines(&parsed), [2, 3], "both rows");
    assert!(parsed.invalid.is_empty(), "{:#?}", parsed.invalid);
    assert_eq!(
        parsed.unmapped_columns,
        ["自治会", "登録日"],
        "unmapped columns"
    );
    let kazuo = Person {
        name_kana: Some("オカダ カズオ".into()),
        birth_date: date(1933, 4, 10),
        phone: Some("045-000-3001".into()),
        designated_shelter: Some("高田小学校".into()),
        consent: Some(true),
        ..bare("K-0001", "岡田 和夫", "横浜市港北区高田東一丁目2番")
    };
    assert_eq!(
        person(&parsed, "K-0001"),
        &kazuo,
        "every mapped column read"
    );
    assert_eq!(
        person(&parsed, "K-0002").consent,
        Some(false),
        "同意区分 無"
    );
}

#[test]
fn every_problem_is_reported_by_line_column_and_reason() {
    let parsed = parse_fixture("problems.csv");
    assert_eq!(parsed.rows, 10, "blank lines (6 and 10) are not rows");
    assert_eq!(lines(&parsed), [13], "only the one good row imports");
    let expected: &[(usize, &str, &str, &str)] = &[
        (2, "宛名番号", "200001", "2, 9 行目"),
        (3, "生年月日", "昭和65年1月1日", "昭和の期間外"),
        (3, "郵便番号", "222-00", "7桁"),
        (3, "情報提供同意", "たぶん", "同意は"),
        (3, "緯度", "95.0", "緯度は"),
        (4, "氏名", "", "必須"),
        (4, "生年月日", "1950-02-30", "存在しない"),
        (4, "性別", "X", "性別は"),
        (4, "宛名番号", "200003", "4, 12 行目"),
        (5, "宛名番号", "", "必須"),
        (5, "住所", "", "必須"),
        (7, WHOLE_ROW, "", "見出しは9列、この行は8列"),
        (8, WHOLE_ROW, "", "見出しは9列、この行は10列"),
        (9, "宛名番号", "200001", "2, 9 行目"),
        (11, "生年月日", "平成元年1月7日", "平成の期間外"),
        (12, "宛名番号", "200003", "4, 12 行目"),
    ];
    for (i, cell) in parsed.invalid.iter().enumerate() {
        let Some((line, column, value, needle)) = expected.get(i) else {
            panic!("unexpected problem {cell:?}");
        };
        let case = format!("problem {i} ({line} {column})");
        assert_eq!(cell.line, *line, "{case}: line");
        assert_eq!(cell.column, *column, "{case}: column");
        if *column != WHOLE_ROW {
            assert_eq!(cell.value, *value, "{case}: value");
        }
        assert!(
            cell.reason.contains(needle),
            "{case}: reason {:?} should say {needle:?}",
            cell.reason
        );
    }
    assert_eq!(
        parsed.invalid.len(),
        expected.len(),
        "{:#?}",
        parsed.invalid
    );
    assert!(
        parsed.invalid[0].reason.contains("宛名番号"),
        "the shared-id reason names the column: {}",
        parsed.invalid[0].reason
    );
    assert!(
        parsed.invalid[11].value.starts_with("200005,加藤 四郎"),
        "a wrong-count row shows its cells: {}",
        parsed.invalid[11].value
    );
}

#[test]
fn files_that_cannot_be_imported_are_refused_with_a_reason() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("an empty file", b"", "空"),
        ("only line ends", b"\r\n\n\n", "空"),
        ("only a BOM", b"\xEF\xBB\xBF", "空"),
        ("only commas and spaces", b",,,\n  , ,\n", "空"),
        ("an .xlsx workbook", b"PK\x03\x04\x14\x00\x06\x00", ".xlsx"),
        (
            "an old .xls workbook",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            ".xls",
        ),
        ("UTF-16 text", b"\xFF\xFE\xB9\x5B\x0D\x54", "UTF-16"),
        ("a NUL on line 3", b"a,b,c\n1,2,3\n4,\x00,6\n", "3行目"),
        (
            "tab-separated",
            "宛名番号\t氏名\t住所\n1\t2\t3\n".as_bytes(),
            "タブ区切り",
        ),
        (
            "no required column",
            "氏名,電話番号\n山田,045\n".as_bytes(),
            "宛名番号",
        ),
        (
            "two columns for the name",
            "宛名番号,氏名,名前,住所\n1,a,b,c\n".as_bytes(),
            "「氏名」と「名前」",
        ),
    ];
    for (case, bytes, needle) in cases {
        let err = parse_register(bytes, &options()).expect_err(case);
        let message = err.to_string();
        assert!(
            message.contains(needle),
            "{case}: {message:?} should say {needle:?}"
        );
    }
}

#[test]
fn a_forced_encoding_that_does_not_fit_the_header_is_named() {
    let err = parse_register(
        &fixture("cp932.csv"),
        &ImportOptions {
            encoding: EncodingChoice::Utf8,
            ..options()
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        FileError::UndecodableHeader {
            line: 1,
            column: 1,
            encoding: "UTF-8"
        },
        "CP932 bytes forced through UTF-8"
    );
    assert!(
        err.to_string().contains("1行目"),
        "the message gives the line: {err}"
    );
}

#[test]
fn header_lines_are_trimmed_and_may_follow_blank_lines() {
    let text = "\n\n\u{FEFF} 宛名番号\u{3000},氏名 ,\u{3000}住所\nA1,山田,横浜市\n";
    let parsed = parse_register(text.as_bytes(), &options()).unwrap();
    assert_eq!(
        parsed.encoding, "utf-8",
        "a BOM after blank lines is no file BOM"
    );
    assert_eq!(
        parsed.records,
        [(4, bare("A1", "山田", "横浜市"))],
        "the record is on line 4"
    );
}

#[test]
fn a_header_only_file_has_no_rows() {
    let parsed = parse_register("宛名番号,氏名,住所\n".as_bytes(), &options()).unwrap();
    assert_eq!(
        (parsed.rows, parsed.records.len()),
        (0, 0),
        "nothing to import, no error"
    );
}

#[test]
fn undecodable_bytes_in_an_ignored_column_still_refuse_the_row() {
    let bytes = b"\x88\xb6\x96\xbc\x94\xd4\x8d\x86,\x8e\x81\x96\xbc,\x8fZ\x8f\x8a,memo\r\n1,a,b,\xFF\r\n2,c,d,ok\r\n";
    let parsed = parse_register(bytes, &options()).unwrap();
    assert_eq!(parsed.encoding, "cp932", "CP932 header");
    assert_eq!(lines(&parsed), [3], "only the clean row imports");
    let cell = &parsed.invalid[0];
    assert_eq!(
        (cell.line, cell.column.as_str(), cell.value.as_str()),
        (2, "memo", "\\xFF"),
        "the damaged cell is named by its header"
    );
}

#[test]
fn line_endings_do_not_change_the_result() {
    let lf = "宛名番号,氏名,住所,備考\n1,山田,横浜市,\"a\nb\"\n2,森,川崎市,\n";
    let crlf = lf.replace('\n', "\r\n");
    // Old Mac exports end lines with a lone CR; an editor shows them as lines, and so must
    // the line numbers in the import report.
    let cr = lf.replace('\n', "\r");
    let a = parse_register(lf.as_bytes(), &options()).unwrap();
    let b = parse_register(crlf.as_bytes(), &options()).unwrap();
    let c = parse_register(cr.as_bytes(), &options()).unwrap();
    assert_eq!(lines(&a), [2, 4], "LF lines");
    assert_eq!(lines(&b), [2, 4], "CRLF lines");
    assert_eq!(lines(&c), [2, 4], "CR lines");
    assert_eq!(
        a.records[1].1, c.records[1].1,
        "same person with CR line ends"
    );
    let refused = "宛名番号,氏名,住所\r1,山田,横浜市\r2,\u{0},川崎市\r";
    let err = parse_register(refused.as_bytes(), &options()).unwrap_err();
    assert!(
        err.to_string().contains("3行目"),
        "NUL after CR lines: {err}"
    );
    assert_eq!(
        a.records[0].1.notes.as_deref(),
        Some("a\nb"),
        "LF inside quotes"
    );
    assert_eq!(
        b.records[0].1.notes.as_deref(),
        Some("a\r\nb"),
        "CRLF inside quotes kept as written"
    );
    assert_eq!(a.records[1].1, b.records[1].1, "same person either way");
}

#[test]
fn errors_serialise_with_a_kind_for_the_http_layer() {
    let value = serde_json::to_value(FileError::MissingColumns {
        missing: vec![MissingColumn {
            field: "address",
            accepted: vec!["住所".into()],
        }],
    })
    .unwrap();
    assert_eq!(
        value,
        serde_json::json!({"kind": "missing_columns", "missing": [{"field": "address", "accepted": ["住所"]}]}),
        "tagged JSON"
    );
    assert_eq!(
        serde_json::to_value(FileError::Empty).unwrap(),
        serde_json::json!({"kind": "empty"}),
        "unit variant"
    );
}

#[test]
fn reading_a_few_people_at_a_time_gives_what_reading_them_at_once_gives() {
    for name in [
        "utf8_valid.csv",
        "utf8_bom_crlf.csv",
        "quoted_newlines.csv",
        "cp932.csv",
        "cp932_bad_bytes.csv",
        "utf8_bad_row.csv",
        "problems.csv",
    ] {
        let whole = parse_fixture(name);
        for chunk in [1, 2, 3] {
            let case = format!("{name}, {chunk} at a time");
            let file = RegisterFile::open(std::io::Cursor::new(fixture(name)), &options())
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(
                (file.encoding(), file.rows()),
                (whole.encoding, whole.rows),
                "{case}: settled by the first reading"
            );
            let mut rows = file.read_rows().unwrap();
            let (mut records, mut people) = (Vec::new(), Vec::new());
            while rows.read_people(&mut people, chunk).unwrap() {
                assert_eq!(people.len(), chunk, "{case}: a full chunk");
                records.append(&mut people);
            }
            records.append(&mut people);
            assert_eq!(records, whole.records, "{case}: people");
            assert_eq!(rows.finish().invalid, whole.invalid, "{case}: problems");
        }
    }
}
