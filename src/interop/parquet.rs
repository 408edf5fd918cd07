//! `weft export --to parquet`: the trace as a Parquet file (schema: `weft_trace::parquet`).

use std::io::{IsTerminal, Write};
use std::path::Path;

use weft_trace::{expand_paths, ReadOptions};

use crate::cli::{ExportArgs, InputFormat};
use crate::error::{is_broken_pipe, CliError};

/// Writes the inputs' trace as Parquet to `-o FILE` (or to stdout when it is not a terminal),
/// with every copy of an event the duplicate rule dropped, so that checking the file gives the
/// report checking the inputs gives.
pub fn export(a: &ExportArgs) -> Result<(), CliError> {
    if a.around.is_some() || a.transitive_reduction {
        return Err(CliError::bare(
            "--around and --transitive-reduction shape diagrams; --to parquet writes the whole trace",
        ));
    }
    let out = a.out.as_deref().filter(|p| p.as_os_str() != "-");
    if out.is_none() && std::io::stdout().is_terminal() {
        return Err(CliError::bare(
            "Parquet is binary: give -o FILE, or redirect stdout to a file",
        ));
    }
    let trace = crate::interop::load_trace(&a.inputs, a.input, &a.shiviz, a.lenient)?;
    // Only weft-trace/1 inputs can hold copies of an event (importers write each event once).
    let copies = if a.input == InputFormat::Weft {
        let inputs = expand_paths(&a.inputs).map_err(|e| e.to_string())?.inputs;
        let opts = ReadOptions {
            lenient: a.lenient,
            ..ReadOptions::default()
        };
        weft_trace::parquet::dropped_copies(&trace, &inputs, &opts).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    match out {
        Some(p) => write_file(p, |f| weft_trace::parquet::write(&trace, &copies, f))?,
        None => {
            let stdout = std::io::BufWriter::new(std::io::stdout());
            weft_trace::parquet::write(&trace, &copies, stdout)
                .and_then(|mut w| w.flush().map_err(Into::into))
                // `weft export --to parquet ... | head -c 4` is not an error.
                .map_err(|e| {
                    if is_broken_pipe(&e) {
                        CliError::BrokenPipe
                    } else {
                        CliError::bare(format!("stdout: {e}"))
                    }
                })?;
        }
    }
    Ok(())
}

/// Writes `path` through a temporary file beside it, renamed over it once complete: a failed
/// export leaves no half-written file (a reader would take it for a damaged trace).
fn write_file(
    path: &Path,
    write: impl FnOnce(
        std::io::BufWriter<std::fs::File>,
    )
        -> Result<std::io::BufWriter<std::fs::File>, weft_trace::parquet::WriteError>,
) -> Result<(), String> {
    let shown = path.display();
    let name = path
        .file_name()
        .ok_or_else(|| format!("{shown}: not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let f = std::fs::File::create(&tmp).map_err(|e| format!("{shown}: {e}"))?;
        let w = write(std::io::BufWriter::new(f)).map_err(|e| format!("{shown}: {e}"))?;
        let f = w
            .into_inner()
            .map_err(|e| format!("{shown}: {}", e.error()))?;
        f.sync_all().map_err(|e| format!("{shown}: {e}"))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{shown}: {e}"))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
