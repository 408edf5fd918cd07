//! Command-line paths to inputs: `-`, files, and directories walked for trace files (links
//! followed once, hidden directories and other entries skipped with a reason, a collector's
//! last segment recognised). Separate because it touches only the file system, never a line.

use std::io;
use std::path::{Path, PathBuf};

use super::{Input, ReadError};

/// File names a directory contributes: `*.jsonl`, `*.ndjson`, those gzipped, and `*.parquet`.
pub fn is_trace_file_name(name: &str) -> bool {
    [".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".parquet"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// The `N` of a collector segment's file name, `segment-N.jsonl` (N in decimal digits).
pub fn segment_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(".jsonl")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// An entry of a directory given as input that is not read, and why: said to the user, never
/// left out silently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The entry, as reached from the directory given.
    pub path: PathBuf,
    /// Why it is not read.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// What command-line paths expand to ([`expand_paths`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The inputs to read, in order.
    pub inputs: Vec<Input>,
    /// The entries of the directories that are not read, in the order met.
    pub skipped: Vec<Skipped>,
}

/// [`expand_paths`]'s inputs, without the entries it skipped.
pub fn expand_inputs<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Input>, ReadError> {
    expand_paths(paths).map(|e| e.inputs)
}

/// Expands command-line paths: `-` is stdin, a file is itself, no path at all is stdin, and a
/// directory is every trace file ([`is_trace_file_name`]) in it and in its subdirectories, in
/// path order (entries sorted by name at each level).
///
/// Symbolic links are followed, to files and to directories; a directory reached again (a link
/// loop, or two links to one directory) is not read again, nor is a file reached again through
/// a link. Hidden directories (`.git`) are not entered. Every entry that is not read is in
/// [`Expanded::skipped`] with the reason — other file names, special files (fifos, sockets,
/// devices), hidden directories, repeats — except a collector's lock file
/// ([`crate::collector_dir::LOCK_FILE`]). A directory that cannot be listed, and a trace file
/// whose link leads nowhere, are errors, like an unreadable file.
///
/// A directory holding `segment-N.jsonl` files is a collector's data directory: its
/// highest-numbered segment becomes an [`Input::LastSegment`], the one a running collector
/// appends to. A segment created after the listing is not read.
pub fn expand_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Expanded, ReadError> {
    if paths.is_empty() {
        return Ok(Expanded {
            inputs: vec![Input::Stdin],
            skipped: Vec::new(),
        });
    }
    let mut out = Expanded::default();
    for p in paths {
        let p = p.as_ref();
        if p == Path::new("-") {
            out.inputs.push(Input::Stdin);
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|error| ReadError::Io {
            input: p.display().to_string(),
            error,
        })?;
        if meta.is_dir() {
            expand_dir(p, &mut out)?;
        } else {
            out.inputs.push(Input::File(p.to_path_buf()));
        }
    }
    if out.inputs.is_empty() {
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.as_ref().display().to_string())
            .collect();
        return Err(ReadError::Empty {
            inputs: format!(
                "{} (no *.jsonl, *.ndjson, *.jsonl.gz or *.parquet file in it)",
                names.join(", ")
            ),
        });
    }
    Ok(out)
}

/// One directory being listed by [`expand_dir`].
struct Frame {
    dir: PathBuf,
    canonical: PathBuf,
    entries: std::vec::IntoIter<(std::ffi::OsString, std::fs::FileType)>,
    /// Its own trace files.
    here: Vec<PathBuf>,
}

/// The error for `path` from an I/O error.
fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ReadError {
    let input = path.display().to_string();
    move |error| ReadError::Io { input, error }
}

/// Lists directory `dir` (whose canonical path is `canonical`), its entries sorted by name.
fn open(dir: PathBuf, canonical: PathBuf) -> Result<Frame, ReadError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let kind = entry.file_type().map_err(io_err(&entry.path()))?;
        entries.push((entry.file_name(), kind));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Frame {
        dir,
        canonical,
        entries: entries.into_iter(),
        here: Vec::new(),
    })
}

/// Adds the trace files of the tree under `root` to `out` (see [`expand_paths`]): a depth-first
/// walk taking each directory's entries by name, so files come in path order and the first
/// path to a file or directory reached twice is the one kept.
fn expand_dir(root: &Path, out: &mut Expanded) -> Result<(), ReadError> {
    use std::collections::{HashMap, HashSet};
    // Directories and files already taken, by canonical path → the path they were taken by: a
    // link loop ends, and nothing is read twice through links.
    let canonical_root = std::fs::canonicalize(root).map_err(io_err(root))?;
    let mut dirs_seen: HashMap<PathBuf, PathBuf> = HashMap::new();
    dirs_seen.insert(canonical_root.clone(), root.to_path_buf());
    let mut files_seen: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut last_segments: HashSet<PathBuf> = HashSet::new();
    // An explicit stack: any depth without recursion.
    let mut stack = vec![open(root.to_path_buf(), canonical_root)?];
    while let Some(top) = stack.last_mut() {
        let Some((name, kind)) = top.entries.next() else {
            // This directory's own segments decide whether it is a collector's.
            let done = stack.pop().expect("the top frame");
            let number = |f: &PathBuf| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(segment_number)
            };
            let last = done.here.iter().filter_map(number).max();
            if last.is_some() {
                let of_last = done.here.into_iter().filter(|f| number(f) == last);
                last_segments.extend(of_last);
            }
            continue;
        };
        let path = top.dir.join(&name);
        let text = name.to_string_lossy();
        let trace_name = is_trace_file_name(&text);
        let mut skip = |reason: String| {
            out.skipped.push(Skipped {
                path: path.clone(),
                reason,
            })
        };
        let (is_dir, is_file) = if kind.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(m) => (m.is_dir(), m.is_file()),
                Err(error) if trace_name => {
                    return Err(ReadError::Io {
                        input: path.display().to_string(),
                        error,
                    })
                }
                Err(error) => {
                    skip(format!("a symbolic link that cannot be followed ({error})"));
                    continue;
                }
            }
        } else {
            (kind.is_dir(), kind.is_file())
        };
        if !is_dir && !is_file {
            skip("not a regular file".to_string());
            continue;
        }
        if is_file && !trace_name {
            if text != crate::collector_dir::LOCK_FILE {
                skip(
                    "not a trace file (.jsonl, .ndjson, .jsonl.gz, .ndjson.gz or .parquet)"
                        .to_string(),
                );
            }
            continue;
        }
        if is_dir && text.starts_with('.') {
            skip("a hidden directory (not entered)".to_string());
            continue;
        }
        let canonical = if kind.is_symlink() {
            std::fs::canonicalize(&path).map_err(io_err(&path))?
        } else {
            top.canonical.join(&name)
        };
        let seen = if is_dir {
            &mut dirs_seen
        } else {
            &mut files_seen
        };
        if let Some(first) = seen.get(&canonical) {
            let what = if is_dir { "directory" } else { "file" };
            skip(format!(
                "the same {what} as {} (read once)",
                first.display()
            ));
            continue;
        }
        seen.insert(canonical.clone(), path.clone());
        if is_dir {
            stack.push(open(path, canonical)?);
        } else {
            top.here.push(path.clone());
            files.push(path);
        }
    }
    out.inputs.extend(files.into_iter().map(|f| {
        if last_segments.contains(&f) {
            Input::LastSegment(f)
        } else {
            Input::File(f)
        }
    }));
    Ok(())
}
