//! Keys named by their path from a document's root, as both CRDT importers write them.
//!
//! A weft key is one string, so a path's segments are joined with `/` and each is escaped as in
//! a JSON pointer (RFC 6901): `~` → `~0`, `/` → `~1`. Without it, the key `a/b` of a map and the
//! key `b` of its child map `a` would be one weft key, and their writes would be compared as
//! one register's.

use std::borrow::Cow;

/// A map key, list index or root name as one path segment: `~` → `~0` and `/` → `~1`.
pub fn escape_segment(s: &str) -> Cow<'_, str> {
    if s.contains(['~', '/']) {
        s.replace('~', "~0").replace('/', "~1").into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_escape_as_json_pointers_do() {
        assert_eq!(escape_segment("plain"), "plain");
        assert_eq!(escape_segment("a/b"), "a~1b");
        assert_eq!(escape_segment("~/"), "~0~1");
    }
}
