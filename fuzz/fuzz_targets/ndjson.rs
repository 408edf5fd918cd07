//! Arbitrary bytes as an NDJSON body: `LineChecker` on each line and `Ingest::check_ndjson` on
//! the whole, against a line-by-line model (see `weft_fuzz::ndjson`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| weft_fuzz::ndjson(body));
