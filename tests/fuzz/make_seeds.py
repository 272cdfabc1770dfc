#!/usr/bin/python3
"""Write the seed corpora under tests/fuzz/corpus/<target>/ (committed; the
suite's short fuzz runs start from them).

    tests/fuzz/make_seeds.py RAW_SEGMENT SPOOL_DIR

RAW_SEGMENT is a segment a live run wrote (tapio-collector --raw-dir DIR),
SPOOL_DIR a spool a run against an unreachable server left (--server
127.0.0.1:1 --set server.batch_size=2 --set delivery.spool_dir=...). The
seeds for responses and the metrics HTTP parser are written from scratch.
Seeds stay small: the fuzzer mutates them, it does not need whole files.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def zrun_decode(src, out_len):
    out, i = bytearray(), 0
    while i < len(src):
        c = src[i]
        i += 1
        if c < 0x80:
            out += src[i:i + c + 1]
            i += c + 1
        else:
            out += bytes((c & 0x3F) + 1 if c < 0xC0 else ((c & 0x3F) + 1) * 64)
    return bytes(out[:out_len])


def frames(seg):
    off, out = 40, []
    while off + 16 <= len(seg):
        crc, stored, rec, ts = struct.unpack_from("<IHHQ", seg, off)
        if stored == 0 or off + 16 + stored > len(seg):
            break
        out.append((seg[off:off + 16 + stored], seg[off + 16:off + 16 + stored], stored, rec))
        off += 16 + stored
    return out


def raw_seeds(path):
    seg = open(path, "rb").read()
    fr = frames(seg)
    body = b"".join(f[0] for f in fr[:12])
    put("raw_segment", "whole-head", b"\x00" + seg[:40] + body)
    put("raw_segment", "frames", b"\x01" + body)
    put("raw_segment", "frames-crc", b"\x02" + body)
    put("raw_segment", "frames-flip", b"\x03\x10\x00" + body)
    put("raw_segment", "header-only", b"\x00" + seg[:40])
    # One record of each type seen, decoded from its frame, for the decoder.
    seen = set()
    for _, payload, stored, rec in fr:
        record = payload if stored == rec else zrun_decode(payload, rec)
        if len(record) < 28:
            continue
        kind = struct.unpack_from("<I", record, 24)[0]
        if kind in seen:
            continue
        seen.add(kind)
        put("decode", "type-%04x" % kind, record)


def spool_seeds(d):
    files = sorted((os.path.getsize(os.path.join(d, n)), n) for n in os.listdir(d)
                   if n.endswith(".batch"))
    for size, name in files[:3]:
        put("spool", name, open(os.path.join(d, name), "rb").read())


def response_seeds():
    tapio = lambda *fs: b"".join(fs)
    put("responses", "acks", tapio(field(1, 0, 7), field(1, 0, 8), field(1, 0, 2**63)))
    put("responses", "acks-packed", field(1, 2, varint(5) + varint(6) + varint(7)))
    put("responses", "rejection", field(2, 2, field(1, 0, 9) + field(2, 2, b"bad\r\n\x1b[31mx")))
    put("responses", "control", field(3, 2, field(1, 0, 5)))
    put("responses", "control-zero", field(3, 2, b""))
    put("responses", "control-absurd", field(3, 2, field(1, 0, 0xFFFFFFFF)))
    put("responses", "mixed", field(1, 0, 1) + field(2, 2, field(1, 0, 2)) + field(3, 2, field(1, 0, 1)))
    put("responses", "otlp-partial",
        field(1, 2, field(1, 0, 3) + field(2, 2, b"too old\n\x07")))
    put("responses", "empty", b"")


def http_seeds():
    reqs = {
        "get-metrics": b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "head-healthz": b"HEAD /healthz HTTP/1.0\r\n\r\n",
        "healthz-json": b"GET /healthz?format=json HTTP/1.1\r\nAccept: application/json\r\n\r\n",
        "livez-lf": b"GET /livez HTTP/1.1\nHost: y\n\n",
        "post": b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "bad-version": b"GET / HTTP/2.0\r\n\r\n",
        "bad-header": b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        "partial": b"GET /metrics HTTP/1.1\r\nHost: ",
    }
    for k, v in reqs.items():
        put("metrics_http", k, v)


def cgroup_seeds():
    paths = {
        "docker": "/system.slice/docker-" + "ab" * 32 + ".scope",
        "containerd-pod": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                          "1234abcd_5678_90ef_1234_567890abcdef.slice/cri-containerd-" + "cd" * 32 + ".scope",
        "cgroupfs-pod": "/kubepods/besteffort/pod1234abcd-5678-90ef-1234-567890abcdef/" + "ef" * 32,
        "podman": "/machine.slice/libpod-" + "01" * 32 + ".scope/container",
        "host": "/user.slice/user-0.slice/session-1.scope",
    }
    for k, v in paths.items():
        put("cgroup_path", k, v.encode())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    raw_seeds(sys.argv[1])
    spool_seeds(sys.argv[2])
    response_seeds()
    http_seeds()
    cgroup_seeds()


if __name__ == "__main__":
    main()
