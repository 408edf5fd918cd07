//! Reading traces in any supported form, and `weft import` / `weft export`.

mod parquet;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use weft_interop::export::{self, Around, ExportOptions};
use weft_interop::shiviz::{self, ImportOptions, Imported};
use weft_trace::{expand_paths, EventId, Expanded, Input, NdjsonWriter, ReadOptions, Trace};

use crate::cli::{
    CrdtImportArgs, ExportArgs, ExportFormat, ImportFormat, InputFormat, ShivizImportArgs,
    ShivizOptions,
};
use crate::error::{CliError, Verdict};

/// CRDT libraries whose documents weft imports (`weft import FORMAT`, `--input FORMAT`).
#[derive(Clone, Copy, Debug)]
enum Crdt {
    Automerge,
    Loro,
}

impl Crdt {
    fn name(self) -> &'static str {
        match self {
            Crdt::Automerge => "automerge",
            Crdt::Loro => "loro",
        }
    }
}

/// Reads the inputs as one trace: weft-trace/1 files and directories, a ShiViz log, or a CRDT
/// document. Says on stderr what was left out of a collector's segment as in flight, and each
/// entry of a directory that is not read.
pub fn load_trace(
    inputs: &[PathBuf],
    input: InputFormat,
    shiviz_opts: &ShivizOptions,
    lenient: bool,
) -> Result<Trace, String> {
    match input {
        InputFormat::Weft => {
            let inputs = weft_inputs(inputs)?;
            let trace = Trace::read_inputs(&inputs, &weft_options(lenient))
                .map_err(|e| with_format_hint(&e))?;
            for note in in_flight_notes(&trace) {
                eprintln!("{note}");
            }
            Ok(trace)
        }
        InputFormat::Shiviz => {
            let imported = import_logs(inputs, shiviz_opts, lenient)?;
            let n = shiviz_opts.execution.unwrap_or(1);
            let text = execution_ndjson(&imported, n, inputs)?;
            let name = inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ");
            Trace::from_ndjson_str(&name, &text, &ReadOptions::default()).map_err(|e| e.to_string())
        }
        InputFormat::Automerge => crdt_trace(Crdt::Automerge, inputs),
        InputFormat::Loro => crdt_trace(Crdt::Loro, inputs),
    }
}

/// The reader's message, and when the very first line of a file is not an event (a ShiViz log,
/// a CRDT document given without `--input`) a second line saying which `--input` reads it.
fn with_format_hint(e: &weft_trace::ReadError) -> String {
    match e {
        // Not JSON, or JSON that is no object: a line with a bad field is a trace's own, and
        // so is JSON cut short (a trace whose first line was truncated is still a trace).
        weft_trace::ReadError::Malformed(m)
            if m.line == 1
                && m.place == weft_trace::Place::Line
                && ((m.reason.starts_with("invalid JSON")
                    && !m.reason.contains("EOF while parsing"))
                    || m.reason.starts_with("not a JSON object")) =>
        {
            format!(
                "{e}\nweft: {} is not weft-trace/1 NDJSON from its first line on: a ShiViz or \
                 GoVector log reads with --input shiviz (and --regex when it has no header), an \
                 Automerge or Loro document with --input automerge or --input loro",
                m.source
            )
        }
        _ => e.to_string(),
    }
}

/// How weft-trace/1 inputs are read.
pub fn weft_options(lenient: bool) -> ReadOptions {
    ReadOptions {
        lenient,
        ..ReadOptions::default()
    }
}

/// The weft-trace/1 inputs the paths name (directories expanded), having said what is skipped.
fn weft_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    let expanded = expand_paths(paths).map_err(|e| e.to_string())?;
    say_skipped(&expanded);
    Ok(expanded.inputs)
}

/// What a directory holds but is not read is said on stderr, never left out silently.
pub fn say_skipped(expanded: &Expanded) {
    for s in &expanded.skipped {
        eprintln!("weft: skipped {s}");
    }
}

/// What to say of a trace read from a directory a collector is writing: its unfinished last
/// line was not read.
pub fn in_flight_notes(trace: &Trace) -> Vec<String> {
    trace
        .in_flight()
        .iter()
        .map(|f| format!("weft: note: {f}"))
        .collect()
}

/// A CRDT document's history as a trace: imported, written as weft-trace/1 and read back like
/// any trace file (so every check the reader makes applies).
fn crdt_trace(crdt: Crdt, inputs: &[PathBuf]) -> Result<Trace, String> {
    let text = crdt_ndjson(crdt, inputs)?;
    Trace::from_ndjson_str(&joined(inputs), &text, &ReadOptions::default())
        .map_err(|e| e.to_string())
}

fn joined(inputs: &[PathBuf]) -> String {
    inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The files' bytes by name as given (`-` is stdin).
fn read_files(inputs: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::with_capacity(inputs.len());
    for p in inputs {
        let name = p.display().to_string();
        let bytes = if p.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("-: {e}"))?;
            bytes
        } else {
            std::fs::read(p).map_err(|e| format!("{name}: {e}"))?
        };
        files.push((name, bytes));
    }
    Ok(files)
}

/// Imports CRDT documents into weft-trace/1 text.
fn crdt_ndjson(crdt: Crdt, inputs: &[PathBuf]) -> Result<String, String> {
    let files = read_files(inputs)?;
    let doc = CrdtDoc::load(crdt, &files, false)?;
    let bytes = doc.write(&files, Vec::new()).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// A CRDT document read and checked, not yet written: every input error is found before any
/// output is opened.
enum CrdtDoc {
    Automerge(Box<weft_interop::automerge::Automerge>),
    Loro(Box<weft_interop::loro::Prepared>),
}

impl CrdtDoc {
    /// Reads `files` as one document; an error is `FILE: reason`. `allow_pending`: Loro changes
    /// whose dependencies no file holds are left out instead of refused.
    fn load(
        crdt: Crdt,
        files: &[(String, Vec<u8>)],
        allow_pending: bool,
    ) -> Result<CrdtDoc, String> {
        match crdt {
            Crdt::Automerge => weft_interop::automerge::load(files)
                .map(|d| CrdtDoc::Automerge(Box::new(d)))
                .map_err(|e| e.to_string()),
            Crdt::Loro => {
                let opts = weft_interop::loro::ImportOptions { allow_pending };
                weft_interop::loro::prepare(files, &opts)
                    .map(|d| CrdtDoc::Loro(Box::new(d)))
                    .map_err(|e| e.to_string())
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            CrdtDoc::Automerge(_) => Crdt::Automerge.name(),
            CrdtDoc::Loro(_) => Crdt::Loro.name(),
        }
    }

    /// Writes the history to `out` as weft-trace/1, with a header naming the importer and the
    /// inputs. The events are written as they are made (a million-op document is never a
    /// million events in memory).
    fn write<W: Write>(&self, files: &[(String, Vec<u8>)], out: W) -> std::io::Result<W> {
        let mut meta = serde_json::Map::new();
        meta.insert("name".into(), format!("weft import {}", self.name()).into());
        let names: Vec<serde_json::Value> = files.iter().map(|(n, _)| n.clone().into()).collect();
        meta.insert("inputs".into(), names.into());
        let mut w = NdjsonWriter::with_header(out, &meta)?;
        match self {
            CrdtDoc::Automerge(doc) => {
                let opts = weft_interop::automerge::ImportOptions::default();
                let mut failed = None;
                weft_interop::automerge::emit(doc, &opts, |e| {
                    if failed.is_none() {
                        failed = w.write(&e).err();
                    }
                });
                if let Some(err) = failed {
                    return Err(err);
                }
            }
            CrdtDoc::Loro(doc) => {
                let mut failed = None;
                weft_interop::loro::emit(&doc.doc, &doc.plan, |e| {
                    if failed.is_none() {
                        failed = w.write(&e).err();
                    }
                });
                if let Some(err) = failed {
                    return Err(err);
                }
            }
        }
        w.finish()
    }
}

/// Reads the log files (or stdin) and imports them as one log, reporting what was skipped and
/// every clock problem on stderr.
fn import_logs(inputs: &[PathBuf], o: &ShivizOptions, lenient: bool) -> Result<Imported, String> {
    // Read as bytes, so that text that is not UTF-8 is reported where it is (file:line), not
    // as an I/O error without a place.
    let mut texts = Vec::new();
    for p in inputs {
        let mut bytes = Vec::new();
        let name = p.display().to_string();
        if p.as_os_str() == "-" {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("-: {e}"))?;
        } else {
            bytes = std::fs::read(p).map_err(|e| format!("{name}: {e}"))?;
        }
        texts.push((name, bytes));
    }
    let opts = ImportOptions {
        regex: o.regex.clone(),
        delimiter: o.delimiter.clone(),
        lenient,
    };
    let imported = shiviz::import_bytes(&texts, &opts).map_err(|e| e.to_string())?;
    if imported.skipped_lines > 0 {
        let at: Vec<String> = imported
            .skipped_samples
            .iter()
            .map(|(f, l)| format!("{f}:{l}"))
            .collect();
        eprintln!(
            "weft: {} lines matched no event and were skipped (first: {})",
            imported.skipped_lines,
            at.join(", ")
        );
    }
    for e in &imported.executions {
        for p in &e.problems {
            eprintln!("weft: warning: {p}");
        }
    }
    Ok(imported)
}

/// The NDJSON of execution `n` (1-based), saying on stderr how many others there were.
fn execution_ndjson(imported: &Imported, n: usize, inputs: &[PathBuf]) -> Result<String, String> {
    let total = imported.executions.len();
    if total == 0 {
        let files: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "{}: no line matched the regex `{}`, so there are no events: a log without a \
             header line needs --regex, with the named groups host, clock and event written for \
             its lines (as ShiViz asks)",
            files.join(", "),
            imported.regex
        ));
    }
    let Some(exec) = n.checked_sub(1).and_then(|i| imported.executions.get(i)) else {
        return Err(format!(
            "--execution {n}: the log has {total} execution{}",
            if total == 1 { "" } else { "s" }
        ));
    };
    if total > 1 {
        eprintln!(
            "weft: the log has {total} executions; using execution {n}{} (--execution N picks another, weft import shiviz --split DIR writes them all)",
            exec.name.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
        );
    }
    Ok(shiviz::to_ndjson(
        exec,
        &header(imported, inputs, n, exec.name.as_deref()),
    ))
}

fn header(
    imported: &Imported,
    inputs: &[PathBuf],
    n: usize,
    name: Option<&str>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut h = serde_json::Map::new();
    h.insert("name".into(), "weft import shiviz".into());
    let files: Vec<serde_json::Value> = inputs
        .iter()
        .map(|p| p.display().to_string().into())
        .collect();
    h.insert("inputs".into(), files.into());
    h.insert("regex".into(), imported.regex.clone().into());
    h.insert("execution".into(), n.into());
    if let Some(name) = name {
        h.insert("trace".into(), name.into());
    }
    h
}

/// `weft import FORMAT ...`.
pub fn import(format: &ImportFormat) -> Result<Verdict, CliError> {
    match format {
        ImportFormat::Shiviz(a) => import_shiviz(a),
        ImportFormat::Automerge(a) => import_crdt(Crdt::Automerge, a, false),
        ImportFormat::Loro(a) => import_crdt(Crdt::Loro, &a.common, a.allow_pending),
    }
    .map_err(|e| e.within("weft import"))?;
    Ok(Verdict::Pass)
}

/// `weft import automerge|loro`: the document read and checked first (an input error leaves no
/// output file), then streamed to the output file or stdout (`weft import ... | head` is not an
/// error).
fn import_crdt(crdt: Crdt, a: &CrdtImportArgs, allow_pending: bool) -> Result<(), CliError> {
    let files = read_files(&a.inputs)?;
    let doc = CrdtDoc::load(crdt, &files, allow_pending)?;
    match a.out.as_deref() {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?;
            doc.write(&files, std::io::BufWriter::new(f))
                .map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(())
        }
        _ => {
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            doc.write(&files, stdout)
                .map_err(|e| CliError::stdout("stdout", &e))?;
            Ok(())
        }
    }
}

fn import_shiviz(a: &ShivizImportArgs) -> Result<(), CliError> {
    let imported = import_logs(&a.inputs, &a.shiviz, a.lenient)?;
    if let Some(dir) = &a.split {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut used = std::collections::BTreeSet::new();
        for (i, exec) in imported.executions.iter().enumerate() {
            let n = i + 1;
            let mut stem = exec
                .name
                .as_deref()
                .map(file_stem)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("execution-{n}"));
            if !used.insert(stem.clone()) {
                stem = format!("{stem}-{n}");
                used.insert(stem.clone());
            }
            let path = dir.join(format!("{stem}.jsonl"));
            let text =
                shiviz::to_ndjson(exec, &header(&imported, &a.inputs, n, exec.name.as_deref()));
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!(
                "weft import: execution {n}: {} events → {}",
                exec.events.len(),
                path.display()
            );
        }
        return Ok(());
    }
    let text = execution_ndjson(&imported, a.shiviz.execution.unwrap_or(1), &a.inputs)?;
    write_out(a.out.as_deref(), &text)
}

/// A file name from an execution name: letters, digits, `-`, `_` and `.` kept, the rest `_`.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('.')
        .to_string()
}

fn write_out(out: Option<&Path>, text: &str) -> Result<(), CliError> {
    match out {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        _ => {
            let mut stdout = std::io::stdout().lock();
            // `weft export ... | head` is not an error.
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| CliError::stdout("stdout", &e))?;
        }
    }
    Ok(())
}

/// `weft export`.
pub fn export(a: &ExportArgs) -> Result<Verdict, CliError> {
    run_export(a).map_err(|e| e.within("weft export"))?;
    Ok(Verdict::Pass)
}

fn run_export(a: &ExportArgs) -> Result<(), CliError> {
    if a.to == ExportFormat::Parquet {
        return parquet::export(a);
    }
    let around = match &a.around {
        Some(text) => Some(Around {
            event: EventId::parse_text(text)
                .ok_or_else(|| format!("--around {text}: expected REPLICA@SEQ, e.g. r2@17"))?,
            depth: a.depth,
        }),
        None => None,
    };
    let trace = load_trace(&a.inputs, a.input, &a.shiviz, a.lenient)?;
    let analysis = weft_analyzer::analyze_full(&trace);
    let opts = ExportOptions {
        transitive_reduction: a.transitive_reduction,
        around,
    };
    let text = match a.to {
        ExportFormat::Shiviz => export::shiviz(&trace, &analysis, &opts),
        ExportFormat::Dot => export::dot(&trace, &analysis, &opts),
        ExportFormat::Mermaid => export::mermaid(&trace, &analysis, &opts),
        ExportFormat::Parquet => unreachable!("written by parquet::export above"),
    }
    .map_err(|e| e.to_string())?;
    write_out(a.out.as_deref(), &text)
}
