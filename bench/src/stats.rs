//! Summaries of samples in seconds (mean, max, nearest-rank percentile) and milliseconds as
//! text: one implementation for every scenario that times frames, batches or requests.

pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

pub fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Nearest-rank percentile (`p` in 0..=1).
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = (p * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Seconds as milliseconds with `decimals` decimals: `ms(0.01234, 2)` is `12.34 ms`.
pub fn ms(s: f64, decimals: usize) -> String {
    format!("{:.*} ms", decimals, s * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[3.0], 0.99), 3.0);
        assert_eq!(percentile(&[], 0.99), 0.0);
        assert_eq!(max(&v), 100.0);
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(ms(0.01234, 2), "12.34 ms");
        assert_eq!(ms(0.01234, 1), "12.3 ms");
    }
}
