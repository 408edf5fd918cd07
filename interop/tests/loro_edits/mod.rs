//! The document edits the random Loro histories of `loro.rs` and `loro_stream.rs` are made of
//! (the two draw different mixes of them: the agreement test commits after every step, the
//! streaming test at random points).

use loro::{ExportMode, LoroDoc, LoroMap};

/// Inserts `s` into the text `t` at `at` (modulo its length + 1).
pub fn type_at(doc: &LoroDoc, at: u8, s: &str) {
    let t = doc.get_text("t");
    t.insert(at as usize % (t.len_unicode() + 1), s).unwrap();
}

/// Deletes up to `n` characters of the text `t` from `at` (modulo its length), if it has any.
pub fn erase_at(doc: &LoroDoc, at: u8, n: u8) {
    let t = doc.get_text("t");
    let len = t.len_unicode();
    if len > 0 {
        let at = at as usize % len;
        t.delete(at, (n as usize).min(len - at)).unwrap();
    }
}

/// Pushes a map into the list `todos` and sets its `done`.
pub fn push_todo(doc: &LoroDoc, done: bool) {
    let todo = doc
        .get_list("todos")
        .push_container(LoroMap::new())
        .unwrap();
    todo.insert("done", done).unwrap();
}

/// `to` imports what `from` has and it lacks.
pub fn sync(from: &LoroDoc, to: &LoroDoc) {
    let bytes = from.export(ExportMode::updates(&to.oplog_vv())).unwrap();
    to.import(&bytes).unwrap();
}
