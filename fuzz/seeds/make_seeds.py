#!/usr/bin/env python3
"""Writes the seed inputs of the OTLP fuzz targets (run from anywhere; no dependencies).

Each seed is a small, valid request that exercises the weft mapping: records with and without
`weft.seq`, every `weft.*` attribute, values of every OTLP type, resource fallbacks. The
protobuf seeds are encoded by hand here (field numbers from opentelemetry-proto's .proto files);
the JSON seeds are the same requests in the OTLP/JSON mapping.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(tag, wire, payload):
    key = varint(tag << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 1:
        return key + payload
    if wire == 2:
        return key + varint(len(payload)) + payload
    if wire == 5:
        return key + payload
    raise ValueError(wire)


def msg(*fields):
    return b"".join(fields)


# ---- AnyValue / KeyValue, as (protobuf bytes, JSON) pairs ----

def s(v):
    return field(1, 2, v.encode()), {"stringValue": v}


def b(v):
    return field(2, 0, int(v)), {"boolValue": v}


def i(v):
    return field(3, 0, v), {"intValue": str(v)}


def d(v):
    return field(4, 1, struct.pack("<d", v)), {"doubleValue": v}


def arr(*vals):
    return field(5, 2, msg(*(field(1, 2, p) for p, _ in vals))), {
        "arrayValue": {"values": [j for _, j in vals]}
    }


def kvl(*kvs):
    return field(6, 2, msg(*(field(1, 2, p) for p, _ in kvs))), {
        "kvlistValue": {"values": [j for _, j in kvs]}
    }


def by(v):
    import base64
    return field(7, 2, v), {"bytesValue": base64.b64encode(v).decode()}


def kv(key, val):
    p, j = val
    return msg(field(1, 2, key.encode()), field(2, 2, p)), {"key": key, "value": j}


def resource(*kvs):
    return msg(*(field(1, 2, p) for p, _ in kvs)), {"attributes": [j for _, j in kvs]}


def log(attrs, t=1000, body=None):
    p = msg(field(1, 1, struct.pack("<Q", t)), *(field(6, 2, a) for a, _ in attrs))
    j = {"timeUnixNano": str(t), "attributes": [a for _, a in attrs]}
    if body is not None:
        p += field(5, 2, body[0])
        j["body"] = body[1]
    return p, j


def span(attrs, t=1000):
    p = msg(
        field(1, 2, bytes(range(16))),
        field(2, 2, bytes(range(8))),
        field(5, 2, b"op"),
        field(7, 1, struct.pack("<Q", t)),
        field(8, 1, struct.pack("<Q", t + 5)),
        *(field(9, 2, a) for a, _ in attrs),
    )
    j = {
        "traceId": bytes(range(16)).hex(),
        "spanId": bytes(range(8)).hex(),
        "name": "op",
        "startTimeUnixNano": str(t),
        "endTimeUnixNano": str(t + 5),
        "attributes": [a for _, a in attrs],
    }
    return p, j


def request(kind, resources):
    """kind: 'logs' or 'traces'; resources: [(resource or None, [[record, ...] per scope])]."""
    outer, scopes_key, recs_key = {
        "logs": ("resourceLogs", "scopeLogs", "logRecords"),
        "traces": ("resourceSpans", "scopeSpans", "spans"),
    }[kind]
    pb = b""
    js = []
    for res, scopes in resources:
        rp = b""
        rj = {}
        if res is not None:
            rp += field(1, 2, res[0])
            rj["resource"] = res[1]
        rj[scopes_key] = []
        for recs in scopes:
            sp = msg(field(1, 2, field(1, 2, b"scope")), *(field(2, 2, p) for p, _ in recs))
            rp += field(2, 2, sp)
            rj[scopes_key].append({"scope": {"name": "scope"}, recs_key: [j for _, j in recs]})
        pb += field(1, 2, rp)
        js.append(rj)
    return pb, {outer: js}


SVC = resource(kv("service.name", s("svc")), kv("service.instance.id", s("node-1")))

FULL = [
    kv("weft.replica", s("r1")),
    kv("weft.seq", i(4)),
    kv("weft.kind", s("write")),
    kv("weft.lamport", i(9)),
    kv("weft.vc", kvl(kv("r1", i(4)), kv("r2", i(2)))),
    kv("weft.parents", arr(s("r2@2"), s("x@y@7"))),
    kv("weft.key", s("doc")),
    kv("weft.op", s("add")),
    kv("weft.value", kvl(kv("n", d(1.5)), kv("b", b(True)), kv("raw", by(b"\x00\xff")))),
    kv("http.route", s("/v1")),
]
SEND = [kv("weft.seq", i(1)), kv("weft.kind", s("send")), kv("weft.msg", s("m1"))]
RECV = [
    kv("weft.replica", s("r2")),
    kv("weft.seq", s("2")),
    kv("weft.kind", s("recv")),
    kv("weft.msg", s("m1")),
    kv("weft.vc", s('{"r1":1,"r2":2}')),
]
BAD = [kv("weft.seq", i(0)), kv("weft.kind", s("nope"))]
PLAIN = [kv("http.method", s("GET"))]

SEEDS = {
    "full": [(SVC, [[FULL]])],
    "send_recv": [(SVC, [[SEND, RECV], [PLAIN]]), (None, [[BAD]])],
    "mixed": [(resource(kv("service.name", s("a"))), [[SEND, PLAIN, BAD, FULL]])],
}


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


for name, shape in SEEDS.items():
    for kind, make in (("logs", log), ("traces", span)):
        res = [(r, [[make(a) for a in scope] for scope in scopes]) for r, scopes in shape]
        if kind == "logs" and name == "full":
            res[0][1][0].append(log(SEND, t=2000, body=kvl(kv("msg", s("hello")))))
        pb, js = request(kind, res)
        write(os.path.join(HERE, f"otlp_proto_{kind}", f"{name}.bin"), pb)
        write(os.path.join(HERE, "otlp_json", f"{kind}_{name}.json"), json.dumps(js).encode())
