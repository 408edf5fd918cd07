//! The shell commands shown in README.md, for the tests that keep them true (shared by the
//! binary's unit tests, which parse every `weft` command, and `tests/readme.rs`, which runs
//! the ones that can run unattended).

/// One command line of a ```sh block: continuation lines joined, the comment split off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// The command text (may hold pipes, `;`, `&&`, redirections).
    pub command: String,
    /// The comment after `#`, if any.
    pub comment: String,
}

impl Shown {
    /// The exit status the comment promises (`# exit 1: ...`), else 0.
    pub fn expected_exit(&self) -> i32 {
        self.comment
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[0] == "exit")
            .and_then(|w| w[1].trim_end_matches(':').parse().ok())
            .unwrap_or(0)
    }

    /// Each `weft ...` invocation in the command, split into arguments (without `weft`).
    pub fn weft_invocations(&self) -> Vec<Vec<String>> {
        self.command
            .split(['|', ';'])
            .flat_map(|part| part.split("&&"))
            .filter_map(|part| {
                let part = part.trim();
                let part = part.split('>').next().unwrap_or(part).trim();
                let rest = part.strip_prefix("weft ")?;
                Some(words(rest))
            })
            .collect()
    }
}

/// Splits on whitespace, keeping single- or double-quoted words together.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Every command line of every ```sh block of `readme`.
pub fn commands(readme: &str) -> Vec<Shown> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh || line.trim().is_empty() {
            continue;
        }
        let line = line.trim();
        if let Some(cont) = line.strip_suffix('\\') {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        let (command, comment) = match full.find(" #") {
            Some(i) => (
                full[..i].trim().to_string(),
                full[i + 2..].trim().to_string(),
            ),
            None => (full.trim().to_string(), String::new()),
        };
        out.push(Shown { command, comment });
    }
    out
}
