//! JavaScript regexes (as ShiViz takes them) turned into ones the `regex` crate accepts: apart
//! because it is a character-level translator that knows nothing of logs.

/// Turns a JavaScript regex (as ShiViz takes it) into one the `regex` crate accepts with the same
/// meaning, as far as the `regex` crate can express it.
///
/// JavaScript reads a `{` or `}` that does not form a repetition (`{n}`, `{n,}`, `{n,m}`) as a
/// literal brace, and GoVector's own regex relies on it (`{.*}`); the `regex` crate rejects it, so
/// such braces are escaped (outside character classes, where they are literal in both). Named
/// groups `(?<name>...)` are kept. ShiViz matches with the flags `gm`, so multi-line mode is
/// switched on (`^`/`$` match at line ends); "global" is how [`import`] iterates.
///
/// Smaller differences are smoothed over too: `\<` and `\>` (word boundaries in the `regex`
/// crate, literal in JavaScript) become `<` and `>`; an escaped letter JavaScript does not know
/// (`\a`, `\e`, `\z`, ...) becomes the letter; `\cX` and `\0` become hex escapes; `[\b]` becomes
/// a backspace; `[]` (never matches) and `[^]` (any character) get equivalents; and `[`, `&`, `~`
/// inside a class, which the `regex` crate reads as nested classes and set operations, are
/// escaped. What the `regex` crate cannot do (look-around, back-references) stays, and fails to
/// compile with the `regex` crate's explanation.
///
/// [`import`]: super::import
pub fn translate_regex(js: &str) -> String {
    let chars: Vec<char> = js.chars().collect();
    let mut out = String::with_capacity(js.len() + 16);
    out.push_str("(?m)");
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i) else {
                    // A trailing backslash is an error in JavaScript too: keep it so that it
                    // fails to compile.
                    out.push('\\');
                    continue;
                };
                i += 1;
                translate_escape(&mut out, n, in_class, &chars, &mut i);
            }
            '[' if !in_class => match (chars.get(i), chars.get(i + 1)) {
                (Some(']'), _) => {
                    out.push_str(r"[^\s\S]");
                    i += 1;
                }
                (Some('^'), Some(']')) => {
                    out.push_str(r"[\s\S]");
                    i += 2;
                }
                (Some('^'), _) => {
                    out.push_str("[^");
                    in_class = true;
                    i += 1;
                }
                _ => {
                    out.push('[');
                    in_class = true;
                }
            },
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                out.push(']');
                in_class = false;
            }
            ']' => out.push_str(r"\]"),
            '{' if !in_class => match repetition_len(&chars[i - 1..]) {
                Some(len) => {
                    out.extend(&chars[i - 1..i - 1 + len]);
                    i += len - 1;
                }
                None => out.push_str(r"\{"),
            },
            '}' if !in_class => out.push_str(r"\}"),
            _ => out.push(c),
        }
    }
    out
}

/// Translates the character after a backslash (at `chars[*i - 1]`), consuming what follows it
/// when the escape is longer (`\cX`).
fn translate_escape(out: &mut String, n: char, in_class: bool, chars: &[char], i: &mut usize) {
    match n {
        // Escapes both dialects read alike.
        c if "dDwWsSfnrtvxupPk123456789".contains(c) => {
            out.push('\\');
            out.push(n);
        }
        'b' if in_class => out.push_str(r"\x08"),
        'b' | 'B' if !in_class => {
            out.push('\\');
            out.push(n);
        }
        'c' => match chars.get(*i) {
            Some(&l) if l.is_ascii_alphabetic() => {
                out.push_str(&format!(r"\x{:02X}", (l as u8) % 32));
                *i += 1;
            }
            // JavaScript reads a `\c` without a letter as a backslash and a `c`.
            _ => out.push_str(r"\\c"),
        },
        '0' if !chars.get(*i).is_some_and(|d| d.is_ascii_digit()) => out.push_str(r"\x00"),
        '0' => out.push_str(r"\0"),
        // An escaped letter JavaScript gives no meaning is the letter (`\a` is "a", `\z` is "z"),
        // where the `regex` crate would read a bell, an anchor or an error.
        l if l.is_ascii_alphabetic() => out.push(l),
        // `\<` and `\>` are literal in JavaScript, word boundaries in the `regex` crate.
        '<' | '>' => out.push(n),
        p if p.is_ascii_punctuation() => {
            out.push('\\');
            out.push(p);
        }
        // An escaped space, control or non-ASCII character is that character.
        other => out.push(other),
    }
}

/// The length of a repetition `{n}`, `{n,}` or `{n,m}` at the start of `s`, if there is one.
fn repetition_len(s: &[char]) -> Option<usize> {
    let mut j = 1;
    let digits = |j: &mut usize| {
        let from = *j;
        while s.get(*j).is_some_and(|c| c.is_ascii_digit()) {
            *j += 1;
        }
        *j > from
    };
    if !digits(&mut j) {
        return None;
    }
    if s.get(j) == Some(&',') {
        j += 1;
        digits(&mut j);
    }
    (s.get(j) == Some(&'}')).then_some(j + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_len_accepts_only_repetitions() {
        let r = |s: &str| repetition_len(&s.chars().collect::<Vec<_>>());
        assert_eq!(r("{2}x"), Some(3));
        assert_eq!(r("{2,}"), Some(4));
        assert_eq!(r("{2,13}"), Some(6));
        assert_eq!(r("{,3}"), None);
        assert_eq!(r("{}"), None);
        assert_eq!(r("{.*}"), None);
        assert_eq!(r("{2"), None);
    }
}
