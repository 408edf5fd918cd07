//! Memory of the analysis on the shapes of issue 13, item 1, scaled down: many replicas with one
//! event each, and one send received by many replicas. The analysis must cost memory linear in
//! the events plus the clock entries the trace carries (none here); before the sparse clocks,
//! every replica's clock cost memory that grew with the number of replicas, so the total grew
//! faster than linearly (50 k → 0.28 GB, 200 k → 2.1 GB for `weft check`).
//!
//! Measured in this process: a global allocator wrapping [`System`] counts the bytes currently
//! allocated and their peak. For each size the trace text is built and parsed, the peak is reset
//! to the bytes allocated then (the parsed trace included), `weft_analyzer::analyze` runs, and
//! the peak above that baseline is the analysis's memory. The larger trace has 4× the replicas of
//! the smaller; its peak may be at most 1.3 × 4 times the smaller's.
//!
//! A third test holds `weft check`'s pass to dropping the clocks nothing reads again: on a
//! gossiping trace without reported clocks its peak must stay well under that of an engine that
//! keeps every clock.
//!
//! The counters are process-wide, so the measurements hold a lock: the tests of this file never
//! measure at the same time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

use weft_trace::{ReadOptions, Trace};

/// [`System`], counting the bytes allocated now and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc_zeroed`'s.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System.dealloc`'s.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is `System.realloc`'s.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// One measurement at a time (the counters are process-wide).
static MEASURING: Mutex<()> = Mutex::new(());

/// The smaller and the larger number of replicas compared.
const SMALL: usize = 50_000;
const LARGE: usize = 4 * SMALL;

/// Allowed growth of the peak per replica from the smaller trace to the larger.
const SLACK: f64 = 1.3;

/// Peak bytes allocated by `weft_analyzer::analyze` on the trace `text`, above what was
/// allocated once the trace had been parsed.
fn analysis_peak(text: &str, events: usize) -> usize {
    let trace = Trace::from_ndjson_str("shape.jsonl", text, &ReadOptions::default())
        .expect("the generated trace reads");
    let baseline = CURRENT.load(Relaxed);
    PEAK.store(baseline, Relaxed);
    let report = weft_analyzer::analyze(&trace);
    let peak = PEAK.load(Relaxed) - baseline;
    assert_eq!(report.summary.events, events as u64);
    assert_eq!(report.summary.errors, 0, "{:?}", report.violations.first());
    assert_eq!(
        report.summary.warnings,
        0,
        "{:?}",
        report.violations.first()
    );
    drop(report);
    drop(trace);
    peak
}

/// `n` replicas `r0000000`, `r0000001`, … each with one event made by `line(name)`; `first`
/// (if not empty) is the first line.
fn trace_text(first: &str, n: usize, line: impl Fn(&str) -> String) -> String {
    let mut text = String::with_capacity(first.len() + n * 64);
    text.push_str(first);
    let mut name = String::new();
    for i in 0..n {
        name.clear();
        let _ = write!(name, "r{i:07}");
        text.push_str(&line(&name));
        text.push('\n');
    }
    text
}

/// Measures the analysis of `make(SMALL)` and `make(LARGE)` (each with `extra` events beyond
/// the replicas) and asserts that the peak grows at most `SLACK` times faster than the replicas.
fn assert_linear(shape: &str, extra: usize, make: impl Fn(usize) -> String) {
    let _guard = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let mut peaks = Vec::new();
    for n in [SMALL, LARGE] {
        let text = make(n);
        let peak = analysis_peak(&text, n + extra);
        drop(text);
        println!(
            "{shape}: {n} replicas: analysis peak {:.1} MiB, {:.0} bytes per event",
            peak as f64 / (1 << 20) as f64,
            peak as f64 / (n + extra) as f64
        );
        peaks.push(peak);
    }
    let ratio = peaks[1] as f64 / peaks[0] as f64;
    let events = (LARGE + extra) as f64 / (SMALL + extra) as f64;
    println!(
        "{shape}: peak ratio {ratio:.2} for {events:.2}x the events ({:.2}x linear)",
        ratio / events
    );
    assert!(
        ratio <= SLACK * events,
        "{shape}: the analysis's peak memory grew {ratio:.2}x from {SMALL} to {LARGE} replicas \
         ({} to {} bytes), more than {SLACK} x {events:.2} (linear)",
        peaks[0],
        peaks[1]
    );
}

#[test]
fn one_event_on_each_replica_costs_memory_linear_in_the_replicas() {
    assert_linear("one local event per replica", 0, |n| {
        trace_text("", n, |r| {
            format!(r#"{{"replica":"{r}","seq":1,"kind":"local"}}"#)
        })
    });
}

#[test]
fn one_send_received_by_every_replica_costs_memory_linear_in_the_receivers() {
    assert_linear("one send, a recv on each replica", 1, |n| {
        trace_text(
            "{\"replica\":\"src\",\"seq\":1,\"kind\":\"send\",\"msg\":\"m1\"}\n",
            n,
            |r| format!(r#"{{"replica":"{r}","seq":1,"kind":"recv","msg":"m1"}}"#),
        )
    });
}

/// `replicas` replicas gossiping for `rounds` rounds without reported clocks: in each round
/// every replica sends a message, then receives the message of another replica drawn at
/// random, so implied clocks soon name every replica and every receive stores one.
fn gossip_text(replicas: usize, rounds: usize) -> String {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut seq = vec![0u64; replicas];
    let mut text = String::new();
    for round in 0..rounds {
        for (r, s) in seq.iter_mut().enumerate() {
            *s += 1;
            let _ = writeln!(
                text,
                r#"{{"replica":"r{r}","seq":{s},"kind":"send","msg":"m{round}-{r}"}}"#
            );
        }
        for (r, s) in seq.iter_mut().enumerate() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let from = (r + 1 + (x >> 33) as usize % (replicas - 1)) % replicas;
            *s += 1;
            let _ = writeln!(
                text,
                r#"{{"replica":"r{r}","seq":{s},"kind":"recv","msg":"m{round}-{from}"}}"#
            );
        }
    }
    text
}

/// Peak bytes allocated by `f`, above what was allocated before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> usize {
    let baseline = CURRENT.load(Relaxed);
    PEAK.store(baseline, Relaxed);
    drop(f());
    PEAK.load(Relaxed) - baseline
}

#[test]
fn the_check_pass_drops_the_clocks_nothing_reads_again() {
    // `weft check` (Engine::check) is fed once and read once, so its topological pass drops
    // each stored clock once its successors have read it; an engine that may be fed again
    // keeps them all. Without reported clocks no vc-mismatch check is pending to delay that
    // (scenario d of weft-bench once held every clock to the end: 2.4 GiB instead of 1.3).
    let _guard = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let trace = Trace::from_ndjson_str(
        "gossip.jsonl",
        &gossip_text(300, 30),
        &ReadOptions::default(),
    )
    .expect("the generated trace reads");
    let check = peak_of(|| weft_analyzer::Engine::check(trace.clone()));
    let kept = peak_of(|| {
        let mut engine = weft_analyzer::Engine::from_trace(trace.clone());
        (engine.report(), engine)
    });
    println!(
        "gossip, 300 replicas, {} events: check peak {:.1} MiB, every clock kept {:.1} MiB",
        trace.len(),
        check as f64 / (1 << 20) as f64,
        kept as f64 / (1 << 20) as f64
    );
    assert!(
        check * 3 < kept,
        "the check pass peaked at {check} bytes, not well under the {kept} of keeping every clock"
    );
}
