#!/usr/bin/env python3
"""Regenerates the seed corpora under tests/fuzz/corpus/ from the repository's fixtures.

Run from the repository root: python3 tests/fuzz/make_corpus.py
Deterministic (fixed sampling), small (a few dozen files of at most a few KB per target).
"""
import hashlib
import json
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
TOK = os.path.join(ROOT, "tests", "data", "tokenizer")
POL = os.path.join(ROOT, "tests", "data", "policies")
MAX_SEED = 4096


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write(target, seeds):
    folder = os.path.join(OUT, target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    unique = {}
    for seed in seeds:
        if len(seed) <= MAX_SEED:
            unique[hashlib.sha1(seed).hexdigest()] = seed
    for name, seed in sorted(unique.items()):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(unique)} seeds")


def every(items, count):
    step = max(1, len(items) // count)
    return items[::step][:count]


def encode_ids(ids):
    """fuzz_util.h DecodeIds encoding: ids < 0xC0 as one byte, others as 0xE0 + 24 bits."""
    out = bytearray()
    for i in ids:
        if i < 0xC0:
            out.append(i)
        else:
            out += bytes([0xE0]) + i.to_bytes(3, "big")
    return bytes(out)


def tokenizer_seeds():
    encode = jsonl(os.path.join(TOK, "encode_cases.jsonl"))
    by_cat = {}
    for case in encode:
        by_cat.setdefault(case["cat"], []).append(case)
    seeds = [cases[0]["text"].encode("utf-8") for cases in by_cat.values()]
    seeds += [b"\xff\xfe", b"caf\xc3", b"\xe2\x82", b"\xed\xa0\x80 surrogate", b"\xc0\xaf"]
    decode = jsonl(os.path.join(TOK, "decode_cases.jsonl"))
    by_cat = {}
    for case in decode:
        by_cat.setdefault(case["cat"], []).append(case)
    for cases in by_cat.values():
        seeds += [encode_ids(c["ids"]) for c in every(cases, 2)]
    return seeds


def harmony_seeds():
    seeds = []
    for case in jsonl(os.path.join(TOK, "harmony_parse_cases.jsonl")):
        role = {"system": 0, "developer": 1, "user": 2, "assistant": 3, "tool": 4}.get(
            case.get("role") or "", 7)
        options = (role << 1) | (0 if case.get("strict", True) else 1)
        seeds.append(bytes([options]) + encode_ids(case["tokens"]))
    return seeds


def safetensors_file(tensors, data_len=None, header_extra=b""):
    header = {}
    data = bytearray()
    for name, dtype, shape, size in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + size]}
        data += bytes(range(size % 256)) * (size // 256) + bytes(range(size % 256))
        data = data[: header[name]["data_offsets"][1]]
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode() + header_extra
    blob = struct.pack("<Q", len(text)) + text + bytes(data)
    return blob if data_len is None else blob[: 8 + len(text) + data_len]


def safetensors_seeds():
    seeds = [
        safetensors_file([("w", "BF16", [2, 3], 12)]),
        safetensors_file([("a", "F32", [4], 16), ("b", "U8", [3], 3), ("c", "I64", [1], 8)]),
        safetensors_file([("x", "F16", [0, 5], 0), ("y", "BOOL", [2], 2)]),
        safetensors_file([("s", "F64", [], 8)]),
        safetensors_file([("t", "I8", [2, 2], 4), ("u", "I16", [2], 4), ("v", "I32", [1], 4)]),
        safetensors_file([("w", "BF16", [2, 3], 12)], data_len=5),  # Truncated data.
        safetensors_file([("w", "BF16", [2, 3], 12)], header_extra=b"   "),
        struct.pack("<Q", 2) + b"{}",
        struct.pack("<Q", 100) + b"{}",
        b"\x00" * 8,
        b"",
    ]
    fixture = os.path.join(ROOT, "..", "shared", "fixtures", "gpt-oss-tiny", "model.safetensors")
    if os.path.exists(fixture):
        with open(fixture, "rb") as f:
            length = struct.unpack("<Q", f.read(8))[0]
            header = f.read(length)
        if length + 8 <= MAX_SEED:
            seeds.append(struct.pack("<Q", length) + header)  # Real header, no data.
    return seeds


def policy_seeds():
    seeds = []
    folder = os.path.join(ROOT, "policies", "default")
    paths = [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".textproto")]
    paths.append(os.path.join(POL, "all_detectors.textproto"))
    for path in paths:
        with open(path, "rb") as f:
            text = f.read()
        if b"file" not in text:
            seeds.append(b"\x00" + text)
    seeds += [
        b"\x00" + b'id: "r" rules { id: "x" category: PII action: REDACT regex { pattern: "a+b" } '
        b'max_match_bytes: 32 redaction { style: KEYED_HASH hash_key: "k" } }',
        b"\x00" + b'id: "t" shadow: true rules { id: "t" category: BLOCKLIST action: BLOCK '
        b'term_list { terms: "bad word" terms: "evil" } allow { literals: "evil" } '
        b'directions: OUTPUT }',
        b"\x00" + b'id: "i" rules { id: "i" category: PROMPT_INJECTION action: FLAG '
        b'injection { min_base64_chars: 16 extra_phrases: "open sesame" } }',
        b"\x02" + b'id: "d" rules { id: "a" category: PII action: REDACT detector { type: EMAIL } }'
        b'\x00id: "d" rules { id: "b" category: PII action: FLAG detector { type: URL } }',
        b"\x01" + json.dumps({"id": "j", "rules": [{"id": "e", "category": "PII", "action": "REDACT",
                                                    "detector": {"type": "EMAIL"}}]}).encode(),
        b"\x01" + json.dumps({"id": "j2", "defaultMaxMatchBytes": 64, "rules": [
            {"id": "r", "category": "SECRETS", "action": "BLOCK", "regex": {
                "pattern": "sk-[a-z]{8,}", "view": "FOLDED", "caseInsensitive": True}},
            {"id": "h", "category": "SECRETS", "action": "REDACT", "detector": {
                "type": "HIGH_ENTROPY_SECRET", "minEntropy": 4.0},
             "redaction": {"style": "MASK", "maskKeepLast": 2}}]}).encode(),
        b"\x00" + b"rules { id: \"no set id\" }",
        b"\x01" + b"{not json",
    ]
    return seeds


def detector_texts():
    return [c["text"].encode("utf-8") for c in jsonl(os.path.join(POL, "detector_cases.jsonl"))]


def normalizer_seeds():
    texts = detector_texts()
    encode = jsonl(os.path.join(TOK, "encode_cases.jsonl"))
    texts += [c["text"].encode("utf-8") for c in encode
              if c["cat"] in ("multilingual", "combining", "emoji", "trap")][:20]
    texts += ["ﬁle ＡＢＣ ǅ ẞ ﷺ İ 𝐀".encode(), "p4$$w0rd раypal".encode(), b"\xff bad"]
    return [bytes([i % 16]) + t for i, t in enumerate(texts)]


def stream_scanner_seeds():
    seeds = []
    for i, text in enumerate(detector_texts()):
        direction = i % 2
        chunking = [b"", b"\x01\x07", b"\x03\x01\x05\x00", b"\x02\x40\x02"][i % 4]
        header = bytes([direction, len(chunking) and chunking[0]]) + chunking[1:]
        seeds.append(header + text)
    return seeds


def main():
    write("tokenizer", tokenizer_seeds())
    write("harmony", harmony_seeds())
    write("safetensors", safetensors_seeds())
    write("policy_loader", policy_seeds())
    write("normalizer", normalizer_seeds())
    write("stream_scanner", stream_scanner_seeds())


if __name__ == "__main__":
    main()
