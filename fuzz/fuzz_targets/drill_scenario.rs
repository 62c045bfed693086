//! Bytes as a drill scenario's text through [`Scenario::parse`]: the TOML, then every check
//! of the scenario (offsets, kinds, shelters, districts, counts, the register it names).
//!
//! Register files are looked for beside the repository's register fixtures, so a scenario
//! naming `utf8_valid.csv` or `problems.csv` reaches the import too. The property: no
//! panic and no hang, and a refused scenario lists at least one problem, each on a line
//! of the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use saigai_vc::drills::Scenario;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A scenario may name any file to read as its register. Device files would only stall
    // the fuzzer (the scenario's author is trusted with the paths), and TOML's \u escapes
    // could spell one out, so inputs that could name them are left aside.
    if ["/dev", "/proc", "/sys", "\\u", "\\U"]
        .iter()
        .any(|s| text.contains(s))
    {
        return;
    }
    let base = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/register"
    ));
    let lines = text.matches('\n').count() + 1;
    if let Err(problems) = Scenario::parse(text, "fuzz.toml", base) {
        assert!(!problems.0.is_empty(), "refused without a reason");
        for problem in &problems.0 {
            assert!(
                (1..=lines).contains(&problem.line),
                "problem on line {} of {lines}: {}",
                problem.line,
                problem.reason
            );
            assert_eq!(problem.file, "fuzz.toml");
            assert!(!problem.reason.is_empty());
        }
        assert!(!problems.to_string().is_empty());
    }
});
