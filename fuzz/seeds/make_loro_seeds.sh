#!/bin/sh
# Seeds for the `loro` fuzz target: the documents loro-crdt wrote for interop's tests (a
# snapshot, a shallow snapshot, two peers' update files), one cut short, and a file that is
# not Loro at all. Run from fuzz/seeds/.
set -e
src=../../interop/tests/loro_data
mkdir -p loro
cp "$src/todo.loro" "$src/todo-shallow.loro" "$src/peer-1.update" "$src/peer-9.update" loro/
head -c 600 "$src/todo.loro" > loro/todo-truncated.loro
printf 'not a loro document\n' > loro/text.txt
