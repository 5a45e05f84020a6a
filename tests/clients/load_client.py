#!/usr/bin/python3
"""Load generator for Warden: N concurrent clients for a bounded time against a real server.

Usage: load_client.py STUBS_TAR TARGET --clients N --seconds S --acked FILE [--moderate_p99_ms FILE]
Each client loops over a mix of StreamGenerate (some cancelled early, some with tight
deadlines), Moderate (1 KB texts) and oversize requests. Every request whose client got a
final message (a stream summary or a unary response) has its request id appended to
--acked (flushed immediately, so the list survives a SIGKILL of the server mid-run).
Prints one JSON line of counts and Moderate latency percentiles. Exits non-zero only on
unexpected errors (a status other than OK, CANCELLED, DEADLINE_EXCEEDED,
RESOURCE_EXHAUSTED, UNAVAILABLE).
"""
import argparse
import json
import random
import sys
import tarfile
import tempfile
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("stubs")
parser.add_argument("target")
parser.add_argument("--clients", type=int, default=8)
parser.add_argument("--seconds", type=float, default=10)
parser.add_argument("--acked", required=True)
parser.add_argument("--verify", action="store_true",
                    help="instead of load: check that every id in --acked has exactly one final audit record")
parser.add_argument("--admin_key", default="warden-demo-admin")
parser.add_argument("--key", default="warden-demo-key")
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

stubs_dir = tempfile.mkdtemp()
with tarfile.open(args.stubs) as tar:
    tar.extractall(stubs_dir)
sys.path.insert(0, stubs_dir)
import grpc  # noqa: E402
from proto import warden_pb2, warden_pb2_grpc  # noqa: E402

if args.verify:
    admin = warden_pb2_grpc.AdminStub(grpc.insecure_channel(args.target))
    metadata = [("authorization", "Bearer " + args.admin_key)]
    ids = [line.strip() for line in open(args.acked) if line.strip()]
    missing = 0
    for request_id in ids:
        response = admin.QueryAudit(warden_pb2.QueryAuditRequest(request_id=request_id, page_size=10),
                                    metadata=metadata, timeout=30)
        if len(response.records) != 1:
            missing += 1
            print("audit records for", request_id, ":", len(response.records), file=sys.stderr)
        elif response.records[0].status == "IN_PROGRESS":
            # A stream's first record, never replaced by its final one although the client
            # got the summary.
            missing += 1
            print("audit record for", request_id, "still IN_PROGRESS", file=sys.stderr)
    print(json.dumps({"acked": len(ids), "unique": len(set(ids)), "missing_or_duplicated": missing}))
    sys.exit(1 if missing or len(set(ids)) != len(ids) else 0)

EXPECTED = {grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.UNAVAILABLE}
lock = threading.Lock()
acked_file = open(args.acked, "a", buffering=1)
counts = {"requests": 0, "acked": 0, "cancelled": 0, "expected_errors": 0, "unexpected_errors": 0}
moderate_ms = []
TEXT = ("The quarterly report covers revenue, churn and hiring plans for the next year. " * 14)[:1024]


def ack(request_id):
    with lock:
        counts["acked"] += 1
        acked_file.write(request_id + "\n")


def note(key):
    with lock:
        counts[key] += 1


def client(index):
    rng = random.Random(args.seed * 1000 + index)
    channel = grpc.insecure_channel(args.target)
    stub = warden_pb2_grpc.WardenStub(channel)
    metadata = [("authorization", "Bearer " + args.key)]
    deadline = time.time() + args.seconds
    while time.time() < deadline:
        note("requests")
        kind = rng.random()
        try:
            if kind < 0.45:
                start = time.perf_counter()
                response = stub.Moderate(warden_pb2.ModerateRequest(texts=[TEXT]), metadata=metadata, timeout=30)
                with lock:
                    moderate_ms.append((time.perf_counter() - start) * 1000)
                ack(response.request_id)
            elif kind < 0.85:
                request = warden_pb2.GenerateRequest(
                    messages=[warden_pb2.Message(role=warden_pb2.USER, content="Tell me a story %d" % rng.randint(0, 99))],
                    sampling=warden_pb2.SamplingOptions(max_output_tokens=rng.randint(2, 12), temperature=0.7,
                                                        seed=rng.randint(0, 1000)))
                timeout = 0.05 if rng.random() < 0.15 else 60
                call = stub.StreamGenerate(request, metadata=metadata, timeout=timeout)
                cancel_after = rng.randint(1, 3) if rng.random() < 0.2 else None
                for n, chunk in enumerate(call):
                    if chunk.HasField("summary"):
                        ack(chunk.summary.request_id)
                    if cancel_after is not None and n + 1 >= cancel_after:
                        call.cancel()
                        note("cancelled")
                        break
            else:
                # Oversize: the demo app allows 1 MiB.
                stub.Moderate(warden_pb2.ModerateRequest(texts=["x" * (2 << 20)]), metadata=metadata, timeout=30)
                note("unexpected_errors")  # Must have been refused.
        except grpc.RpcError as error:
            if error.code() in EXPECTED:
                note("expected_errors")
            else:
                note("unexpected_errors")
                print("unexpected:", error.code(), error.details(), file=sys.stderr)


threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
moderate_ms.sort()


def percentile(p):
    return round(moderate_ms[min(len(moderate_ms) - 1, int(p * len(moderate_ms)))], 2) if moderate_ms else None


print(json.dumps(dict(counts, clients=args.clients, seconds=args.seconds, moderate_count=len(moderate_ms),
                      moderate_p50_ms=percentile(0.5), moderate_p99_ms=percentile(0.99))))
sys.exit(1 if counts["unexpected_errors"] else 0)
