//! Summaries of samples in seconds (mean, max, nearest-rank percentile) and milliseconds as
//! text, shared by the child's measurement and the report.

pub(super) fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

pub(super) fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Nearest-rank percentile (`p` in 0..=1).
pub(super) fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = (p * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Seconds as milliseconds with one decimal.
pub(super) fn ms(s: f64) -> String {
    format!("{:.1} ms", s * 1e3)
}
