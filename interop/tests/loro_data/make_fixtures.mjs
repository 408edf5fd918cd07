// Writes the Loro documents weft's tests import (interop/tests/loro_input.rs, `js_fixtures_*`),
// with Loro's own JavaScript package, as an app stores them:
//
//   todo.loro           snapshot of a three-peer todo app after all peers merged
//   todo-shallow.loro   shallow snapshot of the same document, rooted after the first round
//   peer-<id>.update    each peer's own changes as an update export (mode "updates-in-range")
//
// Deterministic: fixed peer ids, commit timestamps and messages, so running it again gives the
// same bytes. Run: npm install && node make_fixtures.mjs (node_modules is not committed).
import { LoroDoc, LoroMap } from "loro-crdt";
import { writeFileSync } from "node:fs";

// 9 and 10 sort differently as decimal strings and as numbers; Loro orders them numerically.
const ids = [1n, 9n, 10n];
const peers = ids.map((id) => {
  const d = new LoroDoc();
  d.setPeerId(id);
  return d;
});
const [a, b, c] = peers;
let clock = 1_700_000_000;
const commit = (d, message) => d.commit({ message, timestamp: clock++ });
const sync = (from, to) => to.import(from.export({ mode: "update", from: to.oplogVersion() }));
const syncAll = () => { for (const x of peers) for (const y of peers) if (x !== y) sync(x, y); };

// Round 1: peer 1 creates the list and two todos; everyone merges.
const todos = a.getList("todos");
for (const title of ["buy milk", "write tests"]) {
  const t = todos.pushContainer(new LoroMap());
  t.set("title", title);
  t.set("done", false);
}
a.getText("notes").insert(0, "shopping");
a.getCounter("likes").increment(1);
commit(a, "first todos");
syncAll();
const shallowRoot = a.frontiers();

// Round 2, concurrently (each peer's ops get Lamport 15, 16, ...):
// - 9 and 10 both set prefs/theme first, at Lamport 15: Loro picks peer 10 ("light"), though
//   "9" > "10" as strings;
// - 1 renames todo 0 at Lamport 15, 10 renames it at 16: 10 wins by Lamport;
// - 10 sets prefs/lang at 17, 9 sets it at 17 and deletes it at 18: the delete wins;
// - 9 ticks todo 0 (no one else touches done); everyone likes; both edit the notes.
// (Loro records no op for a set to the value a key already has, so every set here changes it.)
b.getMap("prefs").set("theme", "dark");
c.getMap("prefs").set("theme", "light");
a.getList("todos").get(0).set("title", "buy oat milk");
c.getList("todos").get(0).set("title", "buy soy milk");
b.getList("todos").get(0).set("done", true);
c.getMap("prefs").set("lang", "en");
b.getMap("prefs").set("lang", "de");
b.getMap("prefs").delete("lang");
a.getCounter("likes").increment(2);
b.getCounter("likes").increment(5);
c.getCounter("likes").decrement(1);
b.getText("notes").insert(0, "weekly ");
c.getText("notes").insert(8, " list");
commit(a, "rename");
commit(b, "dark, done, no lang, like");
commit(c, "light, soy, en");
syncAll();

// Round 3: 10 clears the finished todo, 1 adds another.
c.getList("todos").delete(1, 1);
const t = a.getList("todos").pushContainer(new LoroMap());
t.set("title", "call mom");
commit(c, "clear");
commit(a, "add");
syncAll();

writeFileSync("todo.loro", a.export({ mode: "snapshot" }));
writeFileSync("todo-shallow.loro", a.export({ mode: "shallow-snapshot", frontiers: shallowRoot }));
const vv = a.oplogVersion().toJSON();
for (const id of ids) {
  const end = vv.get(String(id));
  const bytes = a.export({ mode: "updates-in-range", spans: [{ id: { peer: String(id), counter: 0 }, len: end }] });
  writeFileSync(`peer-${id}.update`, bytes);
}
console.log(JSON.stringify(a.toJSON()));
