//! Arbitrary bytes as a Loro document through the importer: never a panic that escapes, and
//! either a complete weft history or an error naming the input (see `weft_fuzz::loro`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = weft_fuzz::loro::check(data);
});
