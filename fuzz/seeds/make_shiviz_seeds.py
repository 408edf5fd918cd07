#!/usr/bin/env python3
"""Writes the seed inputs of the `shiviz` fuzz target (run from anywhere; no dependencies).

An input is `log [\\0 regex [\\0 delimiter [\\0 log]...]]` (see fuzz/src/shiviz.rs). The seeds are
the heads of the two real logs (fixtures/shiviz, copies of shared/logs; cut short so that
libFuzzer's inputs stay small and fast), the broadcast log with its regex, the small logs written
for interop/tests/import.rs (one ShiViz rule each), and a few messy ones: several inputs, a
delimiter option, CRLF with a byte-order mark, text that is not UTF-8. interop/tests/fuzz_seeds.rs
replays them through the harness and checks what each imports to.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(HERE, "shiviz")

# The regex shared/logs/README.md gives for simple-reliable-broadcast.log.
BROADCAST_REGEX = (
    r"\[\w+\] \[(?<date>([^ ]+ [^ ]+))\] [^ ]+ \[akka://Broadcast/user/(?<host>\w+)\] "
    r"(?<clock>.*\}) (?<event>.*)"
)


def read(*path):
    with open(os.path.join(ROOT, *path), "rb") as f:
        return f.read()


def head(data, lines):
    return b"".join(data.splitlines(keepends=True)[:lines])


def main():
    os.makedirs(OUT, exist_ok=True)
    echo = read("fixtures", "shiviz", "trace_log_shiviz.txt")
    bcast = read("fixtures", "shiviz", "simple-reliable-broadcast.log")
    data = lambda name: read("interop", "tests", "import_data", name)
    seeds = {
        # The header and the first 24 events (two lines each).
        "echo-head.log": head(echo, 2 + 2 * 24),
        "broadcast-head-with-regex": head(bcast, 12) + b"\0" + BROADCAST_REGEX.encode(),
        # Without its regex: matches nothing, every line skipped.
        "broadcast-head.log": head(bcast, 6),
        "clock-forms.log": data("import-clock-forms.log"),
        "counter-problems.log": data("import-counter-problems.log"),
        "executions.log": data("import-executions.log"),
        "header-js.log": data("import-header-js.log"),
        "malformed.log": data("import-malformed.log"),
        "noise.log": data("import-noise.log"),
        # Two inputs joined execution by execution, no options.
        "two-inputs": b'a {"a":1}\nsend\n' + b"\0\0\0" + b'b {"a":1, "b":1}\nrecv\n',
        # The executions log's body, split by a delimiter option.
        "delimiter-option": b"\n".join(data("import-executions.log").split(b"\n")[2:])
        + b"\0\0"
        + rb"^=== run (?<trace>\S+) ===$",
        "crlf-bom.log": b"\xef\xbb\xbf" + head(echo, 8).replace(b"\n", b"\r\n"),
        "latin1.log": b'a {"a":1}\nsend\nb {"a":1, "b":1}\nrecv \xe9t\xe9\n',
    }
    for name, body in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    main()
