//! Bytes through the whole register import as the server reads an uploaded file: the first
//! look (BOM, UTF-8 or CP932), the CSV parse, the header mapping and every row's cells.
//!
//! The first byte chooses the encoding the staff member asked for (auto, UTF-8, CP932)
//! and whether the input carries a mapping file: if so, the mapping's TOML comes first and
//! ends at the first `\n%%\n`, and the CSV follows. The property: no panic and no hang,
//! and every refusal names where it is: a line inside the file, and for a row's problem
//! its line and a column (or the whole row). The same file read in chunks of one person, as an import commits it,
//! gives the same people and problems as reading it at once.

#![no_main]

use libfuzzer_sys::fuzz_target;
use saigai_vc::register::import::{
    EncodingChoice, FileError, ImportOptions, RegisterFile, parse_mapping, parse_register,
};

const MAPPING_END: &[u8] = b"\n%%\n";

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let encoding = match choice % 3 {
        0 => EncodingChoice::Auto,
        1 => EncodingChoice::Utf8,
        _ => EncodingChoice::Cp932,
    };
    let (mapping, csv) = if choice & 0x80 != 0 {
        let Some(at) = rest
            .windows(MAPPING_END.len())
            .position(|w| w == MAPPING_END)
        else {
            return;
        };
        let Ok(toml) = std::str::from_utf8(&rest[..at]) else {
            return;
        };
        match parse_mapping(toml) {
            Ok(mapping) => (Some(mapping), &rest[at + MAPPING_END.len()..]),
            Err(FileError::BadMapping { reason }) => {
                assert!(!reason.is_empty());
                return;
            }
            Err(other) => panic!("a mapping refused with {other:?}"),
        }
    } else {
        (None, rest)
    };
    let options = ImportOptions {
        encoding,
        mapping,
        // Fixed, so that a finding replays the same way on another day.
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        ..ImportOptions::default()
    };
    // Lines as an editor counts them: the header is line 1, and `\r\n`, `\n` and a lone `\r`
    // each end a line.
    let lines = csv
        .iter()
        .zip(std::iter::once(&0).chain(csv))
        .filter(|&(&b, &before)| b == b'\r' || (b == b'\n' && before != b'\r'))
        .count()
        + 1;

    let parsed = match parse_register(csv, &options) {
        Ok(parsed) => parsed,
        Err(err) => {
            match &err {
                FileError::NotCsv { line, reason } => {
                    assert!(*line <= lines, "NotCsv line {line} of {lines}");
                    assert!(!reason.is_empty());
                }
                FileError::UndecodableHeader { line, column, .. } => {
                    assert!((1..=lines).contains(line), "header line {line} of {lines}");
                    assert!(*column >= 1);
                }
                FileError::MissingColumns { missing } => assert!(!missing.is_empty()),
                FileError::DuplicateColumns { duplicates } => assert!(!duplicates.is_empty()),
                FileError::Empty => {}
                FileError::BadMapping { .. } => panic!("the file refused for its mapping: {err:?}"),
            }
            // The message shown to staff can be built.
            assert!(!err.to_string().is_empty());
            return;
        }
    };

    let mut problem_lines: Vec<usize> = parsed.invalid.iter().map(|p| p.line).collect();
    for problem in &parsed.invalid {
        assert!(
            (2..=lines).contains(&problem.line),
            "problem on line {} of {lines}: {problem:?}",
            problem.line
        );
        assert!(!problem.column.is_empty() && !problem.reason.is_empty());
    }
    for (line, _) in &parsed.records {
        assert!(
            (2..=lines).contains(line),
            "record on line {line} of {lines}"
        );
    }
    problem_lines.dedup();
    // Every data row is either a person or has problems; problems are in line order.
    assert!(
        problem_lines.windows(2).all(|w| w[0] < w[1]),
        "problems out of order"
    );
    assert_eq!(
        parsed.records.len() + problem_lines.len(),
        parsed.rows,
        "rows neither read nor refused"
    );
    for (line, _) in &parsed.records {
        assert!(
            problem_lines.binary_search(line).is_err(),
            "line {line} both read and refused"
        );
    }

    // Streaming, one person at a time, gives the same answer as all at once.
    let file =
        RegisterFile::open(std::io::Cursor::new(csv), &options).expect("opened once, opens again");
    assert_eq!(file.rows(), parsed.rows);
    let mut rows = file.read_rows().expect("the second reading starts");
    let mut people = Vec::new();
    loop {
        let mut chunk = Vec::new();
        let more = rows
            .read_people(&mut chunk, 1)
            .expect("the second reading reads");
        assert!(chunk.len() <= 1);
        people.extend(chunk);
        if !more {
            break;
        }
    }
    let problems = rows.finish();
    assert_eq!(problems.invalid, parsed.invalid);
    assert_eq!(people, parsed.records);
});
