//! String interning: replica names, message ids and keys are stored once and referred to by a
//! dense `u32`, so that millions of events cost a few bytes each and compare by integer.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// A dense id handed out by an [`Interner`]; ids are assigned in first-seen order.
pub type Sym = u32;

/// Maps strings to dense [`Sym`]s and back.
///
/// Each string is allocated once, shared by the table, its index and the [`LocalInterner`]s in
/// front of it (a string met by a parsing thread used to cost four allocations).
#[derive(Debug, Default, Clone)]
pub struct Interner {
    names: Vec<Arc<str>>,
    ids: FxHashMap<Arc<str>, Sym>,
}

impl Interner {
    /// The id of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> Sym {
        self.intern_shared(s).0
    }

    /// The id of `s` and its shared copy, adding it when new.
    fn intern_shared(&mut self, s: &str) -> (Sym, Arc<str>) {
        if let Some((name, &id)) = self.ids.get_key_value(s) {
            return (id, Arc::clone(name));
        }
        let id = Sym::try_from(self.names.len()).expect("more than 2^32 distinct strings");
        let shared: Arc<str> = s.into();
        self.names.push(Arc::clone(&shared));
        self.ids.insert(Arc::clone(&shared), id);
        (id, shared)
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.ids.get(s).copied()
    }

    /// The string of `id`. Panics on an id this interner did not hand out (a programming error).
    pub fn resolve(&self, id: Sym) -> &str {
        &self.names[id as usize]
    }

    /// The shared copy of the string of `id` (a reference count, not an allocation). Panics
    /// like [`Interner::resolve`].
    pub fn resolve_shared(&self, id: Sym) -> &Arc<str> {
        &self.names[id as usize]
    }

    /// How many distinct strings are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// An [`Interner`] shared by the threads that parse one trace, so that every thread hands out
/// the same id for the same string.
pub type SharedInterner = std::sync::Arc<std::sync::Mutex<Interner>>;

/// One thread's view of a [`SharedInterner`]: a private cache in front of the shared table, so
/// that the lock is taken only the first time this thread meets a string.
#[derive(Debug)]
pub struct LocalInterner {
    shared: SharedInterner,
    ids: FxHashMap<Arc<str>, Sym>,
    strs: Vec<Option<(Arc<str>, u64)>>,
    /// A hashing cache ([`LocalInterner::hashing`]): the content hashes of the strings met on
    /// the current line, by id.
    hashing: Option<Vec<u64>>,
}

impl LocalInterner {
    /// A cache in front of `shared`.
    pub fn new(shared: SharedInterner) -> Self {
        LocalInterner {
            shared,
            ids: FxHashMap::default(),
            strs: Vec::new(),
            hashing: None,
        }
    }

    /// A cache that keeps no strings: its ids name the strings met since the last
    /// [`LocalInterner::start_line`], and give their [`LocalInterner::content_hash`] only (no
    /// [`LocalInterner::resolve`]). For a checker that needs a line's fingerprint, not its
    /// strings: interning every message id and key of every request cost the collector
    /// allocations and cache misses on tables that only grew.
    pub fn hashing() -> Self {
        LocalInterner {
            hashing: Some(Vec::new()),
            ..LocalInterner::new(SharedInterner::default())
        }
    }

    /// A new line starts: a hashing cache forgets the ids of the last one.
    pub fn start_line(&mut self) {
        if let Some(hashes) = &mut self.hashing {
            hashes.clear();
        }
    }

    /// The id of `s`, adding it to the shared table when new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(hashes) = &mut self.hashing {
            hashes.push(crate::hash::hash_str(s));
            return (hashes.len() - 1) as Sym;
        }
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let (id, name) = self
            .shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .intern_shared(s);
        if self.strs.len() <= id as usize {
            self.strs.resize(id as usize + 1, None);
        }
        self.strs[id as usize] = Some((Arc::clone(&name), crate::hash::hash_str(s)));
        self.ids.insert(name, id);
        id
    }

    /// How many strings this cache holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when this cache holds no string.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The string of an id this cache handed out. Panics for a hashing cache, which keeps no
    /// strings (a programming error).
    pub fn resolve(&self, id: Sym) -> &str {
        &self.strs[id as usize]
            .as_ref()
            .expect("an id handed out by this cache")
            .0
    }

    /// A hash of the content of an id this cache handed out: the same for the same string in
    /// every process, unlike the id.
    pub fn content_hash(&self, id: Sym) -> u64 {
        if let Some(hashes) = &self.hashing {
            return hashes[id as usize];
        }
        self.strs[id as usize]
            .as_ref()
            .expect("an id handed out by this cache")
            .1
    }
}
