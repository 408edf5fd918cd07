// Writes the Automerge fixtures that interop/tests/automerge_js.rs imports, with Automerge's
// own JavaScript package (the version pinned in package.json), so weft is tested on files as
// JavaScript apps store them, not only on what the Rust crate writes. Deterministic: fixed
// actors, fixed times (seconds, as the JS API records them), a seeded random generator.
//
//   cd interop/tests/automerge_data && npm install && node make_fixtures.mjs
//
// Writes: todo.automerge (save()), todo.changes (getAllChanges() concatenated),
// base.automerge + later.incremental (save(), then saveIncremental() after more edits),
// peers.automerge (three peers, random edits and syncs), and expected.json: what the JS
// library itself shows for the keys the test checks (getConflicts, the value, counters).
import * as A from "@automerge/automerge";
import { writeFileSync } from "node:fs";

const T0 = 1767225600; // 2026-01-01T00:00:00Z, in seconds
const expected = [];

// The weft key of a path: segments escaped as in a JSON pointer, joined with "/".
const weftKey = (path) =>
  path.map((s) => String(s).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

// Records what JS shows at `path` (the parent object, then the key).
function record(file, doc, path) {
  let parent = doc;
  for (const seg of path.slice(0, -1)) parent = parent[seg];
  const key = path[path.length - 1];
  const v = parent[key];
  const entry = { file, path, key: weftKey(path) };
  const conflicts = A.getConflicts(parent, key);
  entry.conflicts = conflicts ? Object.keys(conflicts).sort() : null;
  if (v instanceof A.Counter) entry.counter = v.value;
  else if (v === null || ["string", "number", "boolean"].includes(typeof v)) entry.shown = v;
  else if (v === undefined) entry.deleted = true;
  expected.push(entry);
}

const concat = (chunks) => Buffer.concat(chunks.map((c) => Buffer.from(c)));

// 1. A todo list edited by two peers offline, then merged.
let alice = A.init({ actor: "aa".repeat(16) });
alice = A.change(alice, { message: "first todo", time: T0 }, (d) => {
  d.todos = [{ title: "milk", done: false }];
  d.likes = new A.Counter(0);
  d.note = "draft";
  d.owner = "alice";
});
let bob = A.clone(alice, { actor: "bb".repeat(8) });
alice = A.change(alice, { message: "done", time: T0 + 60 }, (d) => {
  d.todos[0].done = true;
  d.likes.increment(2);
  delete d.note;
  A.splice(d.todos[0], ["title"], 4, 0, " and eggs");
});
bob = A.change(bob, { message: "not sure", time: T0 + 30 }, (d) => {
  d.todos[0].done = "maybe";
  d.likes.increment(5);
  d.owner = "bob";
  d.note = "final";
  A.splice(d.todos[0], ["title"], 0, 1, "M");
});
bob = A.change(bob, { time: T0 + 90 }, (d) => {
  d.todos.push({ title: "bread", done: false });
  d.likes.increment(-1);
});
let todo = A.merge(alice, bob);
writeFileSync("todo.automerge", A.save(todo));
writeFileSync("todo.changes", concat(A.getAllChanges(todo)));
for (const p of [["todos", 0, "done"], ["todos", 1, "done"], ["likes"], ["note"], ["owner"]]) {
  record("todo.automerge", todo, p);
}

// 2. A save, then an incremental save of a third peer's later edits.
let carol = A.clone(todo, { actor: "cc".repeat(16) });
writeFileSync("base.automerge", A.save(carol));
carol = A.change(carol, { message: "resolve", time: T0 + 120 }, (d) => {
  d.todos[0].done = true;
  d.owner = "carol";
  d.likes.increment(10);
});
writeFileSync("later.incremental", A.saveIncremental(carol));
for (const p of [["todos", 0, "done"], ["owner"], ["likes"]]) record("later.incremental", carol, p);

// 3. Three peers, random edits and syncs (a seeded xorshift, so the file is reproducible).
let seed = 0x9e3779b9;
const rand = (n) => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
};
const KEYS = ["k0", "k1", "k2", "k3", "k4"];
const first = A.change(A.init({ actor: "01" }), { time: T0 }, (d) => {
  d.m = {};
  d.l = [];
  d.t = "";
  d.c = new A.Counter(1);
});
let peers = [first, A.clone(first, { actor: "0100" }), A.clone(first, { actor: "abcd" })];
for (let step = 0; step < 300; step++) {
  const i = rand(3);
  const what = rand(10);
  if (what === 9) {
    const j = rand(3);
    if (j !== i) peers[i] = A.merge(peers[i], peers[j]);
    continue;
  }
  peers[i] = A.change(peers[i], { time: T0 + 10 + step }, (d) => {
    const k = KEYS[rand(KEYS.length)];
    switch (what) {
      case 0: case 1: d[k] = rand(4) === 0 ? null : `v${step}`; break;
      case 2: if (k in d) delete d[k]; break;
      case 3: d.c.increment(rand(7) - 3); break;
      case 4: d.m[k] = rand(100); break;
      case 5: if (k in d.m) delete d.m[k]; break;
      case 6: d.l.splice(rand(d.l.length + 1), 0, step); break;
      case 7: if (d.l.length) d.l.splice(rand(d.l.length), 1); break;
      default: A.splice(d, ["t"], rand(d.t.length + 1), rand(2), String.fromCharCode(97 + rand(26)));
    }
  });
}
// A last offline round: every peer writes the same keys (and one deletes), so the merge ends in
// conflicts, and in a delete concurrent with puts.
peers = peers.map((p, i) =>
  A.change(p, { message: `offline ${i}`, time: T0 + 400 }, (d) => {
    d.k0 = `last ${i}`;
    d.m.k1 = i;
    if (i === 2) delete d.k1;
    else d.k1 = i === 0 ? true : 1.5;
    d.c.increment(i);
  }),
);
let merged = peers.reduce((a, b) => A.merge(a, b));
writeFileSync("peers.automerge", A.save(merged));
for (const k of KEYS) { record("peers.automerge", merged, [k]); record("peers.automerge", merged, ["m", k]); }
record("peers.automerge", merged, ["c"]);

writeFileSync("expected.json", JSON.stringify({ entries: expected }, null, 1) + "\n");
