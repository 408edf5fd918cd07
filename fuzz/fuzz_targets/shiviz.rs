//! Arbitrary bytes as ShiViz logs with arbitrary `--regex` / `--delimiter` options (split at NUL
//! bytes: `log \0 regex \0 delimiter \0 log ...`), through the importer: never a panic, and
//! either events that read back as weft-trace/1 or an error that says where (see
//! `weft_fuzz::shiviz`). `shiviz.dict` holds tokens of the logs and regexes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = weft_fuzz::shiviz::check(data);
});
