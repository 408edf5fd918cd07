//! `weft-bench automerge`: importing a large Automerge document (`weft_interop::automerge`, what
//! `weft import automerge` runs) against the `automerge` crate loading the same bytes.
//!
//! Builds, in process and deterministically, a document of `--ops` ops (1M by default) made by
//! `--peers` peers: 40% map puts over `--keys` keys of the root map, 10% deletes of them, 20%
//! increments of a root counter, 30% one-character text inserts at random places, committed
//! every 10 ops, with a random pair of peers syncing every 1,000 ops and a full merge at the
//! end. It is saved (`save()`, a compressed document chunk) and as all its changes concatenated
//! (`getChanges`). Then, each best of `--repeat`:
//!
//! * **automerge load (save)** — `Automerge::load` of the saved document;
//! * **automerge load (changes)** — `Automerge::load` of the changes: each decoded and applied;
//! * **automerge history** — loading the save and decoding its whole history back
//!   (`get_changes` and `Change::decode` of each), the library's part of weft's import;
//! * **weft import** — `weft_interop::automerge::for_each_event` on the save (load, history,
//!   paths, events), the events counted and dropped as they come (what streaming does);
//! * **weft import + NDJSON** — the same, every event serialized as a trace line into memory
//!   (what `weft import automerge -o FILE` does, less the disk).
//!
//! There is no pass/fail target: the issue asks for the import to be "comparable" to the
//! library loading the document, and the ratios are printed for the README.

use crate::gen::Rng;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ReadDoc, ScalarValue, ROOT};
use weft_interop::automerge::{for_each_event, ImportOptions};

/// What to build and how often to measure.
#[derive(Clone, Debug)]
pub struct AutomergeOptions {
    pub ops: usize,
    pub peers: usize,
    pub keys: usize,
    pub repeat: usize,
}

/// Builds the document described in the module docs and returns the peers merged. Plain
/// `Automerge` transactions, not `AutoCommit` (which also logs patches for every op).
pub fn build(o: &AutomergeOptions) -> Result<Automerge> {
    let actor = |i: usize| ActorId::from(&(1000 + i as u64).to_be_bytes()[..]);
    let mut first = Automerge::new().with_actor(actor(0));
    let mut tx = first.transaction();
    tx.put(&ROOT, "n", ScalarValue::counter(0))?;
    let text = tx.put_object(&ROOT, "t", ObjType::Text)?;
    tx.commit();
    let mut docs: Vec<Automerge> = (0..o.peers.max(1))
        .map(|i| first.fork().with_actor(actor(i)))
        .collect();
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut done = 3;
    while done < o.ops {
        let p = rng.index(docs.len());
        let mut tx = docs[p].transaction();
        for _ in 0..10 {
            let key = format!("k{}", rng.index(o.keys));
            match rng.index(10) {
                0..=3 => tx.put(&ROOT, key.as_str(), rng.index(1000) as i64)?,
                4 => {
                    if tx.get(&ROOT, key.as_str())?.is_some() {
                        tx.delete(&ROOT, key.as_str())?
                    } else {
                        tx.put(&ROOT, key.as_str(), "new")?
                    }
                }
                5 | 6 => tx.increment(&ROOT, "n", 1)?,
                _ => {
                    let at = rng.index(tx.length(&text) + 1);
                    tx.splice_text(&text, at, 0, "x")?;
                }
            }
        }
        tx.commit();
        done += 10;
        if done % 1000 < 10 {
            let (a, b) = (rng.index(docs.len()), rng.index(docs.len()));
            if a != b {
                // What b lacks of a's history, as a sync would send it (not a whole copy).
                let heads = docs[b].get_heads();
                let missing = docs[a].get_changes(&heads);
                docs[b].apply_changes(missing)?;
            }
        }
    }
    let mut merged = docs[0].clone();
    for d in &mut docs[1..] {
        merged.merge(d)?;
    }
    Ok(merged)
}

fn best<T>(repeat: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Duration, T)> {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let out = f()?;
        let t = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| t < *b) {
            best = Some((t, out));
        }
    }
    Ok(best.expect("at least one run"))
}

/// Builds the document, measures, prints a table; returns the exit status (0).
pub fn run(o: &AutomergeOptions) -> Result<i32> {
    let start = Instant::now();
    let doc = build(o).context("building the document")?;
    let saved = doc.save();
    let changes: Vec<u8> = doc
        .get_changes(&[])
        .iter()
        .flat_map(|c| c.raw_bytes().to_vec())
        .collect();
    let ops = doc.get_changes(&[]).iter().map(|c| c.len()).sum::<usize>();
    println!(
        "document: {ops} ops in {} changes by {} peers, built in {:.1} s; save {:.1} MiB, changes {:.1} MiB",
        doc.get_changes(&[]).len(),
        o.peers,
        start.elapsed().as_secs_f64(),
        saved.len() as f64 / 1048576.0,
        changes.len() as f64 / 1048576.0
    );
    drop(doc);
    let (load_save, _) = best(o.repeat, || Ok(Automerge::load(&saved)?.get_heads().len()))?;
    let (load_changes, _) = best(o.repeat, || {
        Ok(Automerge::load(&changes)?.get_heads().len())
    })?;
    let (history, decoded) = best(o.repeat, || {
        let d = Automerge::load(&saved)?;
        Ok(d.get_changes(&[])
            .iter()
            .map(|c| c.decode().operations.len())
            .sum::<usize>())
    })?;
    let input = vec![("bench.automerge".to_string(), saved)];
    let (weft, events) = best(o.repeat, || {
        Ok(for_each_event(&input, &ImportOptions::default(), drop)?)
    })?;
    let (weft_ndjson, bytes) = best(o.repeat, || {
        let mut out = Vec::with_capacity(events as usize * 200);
        let mut failed = None;
        for_each_event(&input, &ImportOptions::default(), |e| {
            if let Err(err) = serde_json::to_writer(&mut out, &e) {
                failed.get_or_insert(err);
            }
            out.push(b'\n');
        })?;
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(out.len()),
        }
    })?;
    println!(
        "history: {decoded} ops decoded, {events} events, NDJSON {:.1} MiB",
        bytes as f64 / 1048576.0
    );
    println!(
        "{:<28} {:>9} {:>14}",
        "measurement (best of N)", "time", "vs load(save)"
    );
    for (name, t) in [
        ("automerge load (save)", load_save),
        ("automerge load (changes)", load_changes),
        ("automerge history", history),
        ("weft import", weft),
        ("weft import + NDJSON", weft_ndjson),
    ] {
        println!(
            "{name:<28} {:>7.0} ms {:>13.2}x",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / load_save.as_secs_f64()
        );
    }
    if let Some(rss) = crate::sys::peak_rss() {
        println!("peak RSS: {:.0} MiB", rss as f64 / 1048576.0);
    }
    Ok(0)
}
