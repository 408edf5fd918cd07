//! Values as the panes write them: wall clocks as UTC dates, signed durations, counts with
//! thousands separators, and a reported vector clock sorted by replica name.
//!
//! Separate because several panes write the same values the same way.

use weft_trace::Sym;

use crate::model::Model;

/// Nanoseconds since the epoch as UTC text, to the microsecond.
pub fn wall_text(ns: i64) -> String {
    // Every i64 of nanoseconds (years 1677 to 2262) is a date `time` represents.
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .expect("an i64 of nanoseconds is within time's range");
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// A duration in ns with its sign, in the analyzer's units (`+1.250 s`, `-40.000 ms`).
pub fn signed_duration(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    format!(
        "{sign}{}",
        weft_analyzer::human_ns(u128::from(ns.unsigned_abs()))
    )
}

/// Most vector-clock entries the details pane lists (the rest are counted).
pub(super) const MAX_VC_SHOWN: usize = 64;

/// A reported clock's entries, by replica name.
pub(super) fn sorted_vc(m: &Model, n: u32) -> Vec<(Sym, u64)> {
    let mut v: Vec<(Sym, u64)> = m.vc(n).collect();
    v.sort_by(|a, b| m.name(a.0).cmp(m.name(b.0)));
    v
}

/// `n` with a comma every three digits.
pub(super) fn thousands(n: u64) -> String {
    use num_format::{Locale, ToFormattedString as _};
    n.to_formatted_string(&Locale::en)
}

#[cfg(test)]
mod wall_tests {
    use super::wall_text;

    #[test]
    fn wall_clocks_read_as_utc_dates_on_both_sides_of_the_epoch() {
        assert_eq!(wall_text(0), "1970-01-01 00:00:00.000000Z");
        assert_eq!(
            wall_text(1_700_000_000_123_456_789),
            "2023-11-14 22:13:20.123456Z"
        );
        assert_eq!(wall_text(-1), "1969-12-31 23:59:59.999999Z");
        assert_eq!(
            wall_text(951_782_400_000_000_000),
            "2000-02-29 00:00:00.000000Z"
        );
        assert_eq!(wall_text(i64::MIN), "1677-09-21 00:12:43.145224Z");
    }
}
