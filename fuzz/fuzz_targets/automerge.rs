//! Arbitrary bytes as Automerge files through the importer: never a panic, and either events
//! that form a complete weft trace or an error naming the input (see `weft_fuzz::automerge`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = weft_fuzz::automerge::check(data);
});
