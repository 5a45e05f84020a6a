#!/usr/bin/python3
"""A StreamGenerate client that stops reading (Debian's python3-grpcio).

Usage: stalled_reader.py STUBS_TAR TARGET stall|hold

The channel keeps HTTP/2 flow control tight (no BDP probing, a 1 KB stream window), so
once the client has not read about 1 KB of chunks the server's Write blocks.
  stall: opens such a stream and never reads; wants the server to cancel it (audit record
         CANCELLED within 60 s, the client then sees CANCELLED after the buffered chunks),
         then a normal Generate to succeed (the stalled call's model slot was freed).
  hold:  opens such a stream, prints "holding" once the server has started writing, and
         holds it (never reading) until killed.
Expects app "demo" (key warden-demo-key, max_output_tokens >= 2000) on a model that
answers with well over 1 KB, and the admin key warden-demo-admin. Exits non-zero naming
the failed check.
"""
import sys
import tarfile
import tempfile
import time

stubs_dir = tempfile.mkdtemp()
with tarfile.open(sys.argv[1]) as tar:
    tar.extractall(stubs_dir)
sys.path.insert(0, stubs_dir)

import grpc  # noqa: E402
from proto import warden_pb2 as w, warden_pb2_grpc as wg  # noqa: E402

TARGET, MODE = sys.argv[2], sys.argv[3]
APP = [("authorization", "Bearer warden-demo-key")]
ADMIN = [("authorization", "Bearer warden-demo-admin")]
TIGHT = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 1024)]


def fail(what):
    raise SystemExit("FAIL: " + what)


def request(max_output_tokens):
    return w.GenerateRequest(messages=[w.Message(role=w.USER, content="Tell me everything.")],
                             sampling=w.SamplingOptions(max_output_tokens=max_output_tokens, temperature=0))


def open_stalled_stream():
    stalled = wg.WardenStub(grpc.insecure_channel(TARGET, options=TIGHT))
    call = stalled.StreamGenerate(request(2000), metadata=APP, timeout=600)
    call.initial_metadata()  # Sent with the first chunk: the server is writing.
    return call


def cancelled_streams():
    admin = wg.AdminStub(grpc.insecure_channel(TARGET))
    records = admin.QueryAudit(w.QueryAuditRequest(app_id="demo"), metadata=ADMIN, timeout=30).records
    return [r for r in records if r.rpc == w.STREAM_GENERATE and r.finish_reason == w.CANCELLED]


def stall():
    call = open_stalled_stream()
    deadline = time.time() + 60
    while not cancelled_streams():
        if time.time() > deadline:
            fail("a stream whose client stopped reading was not cancelled by the server within 60 s")
        time.sleep(0.5)
    chunks = 0
    try:
        for _ in call:
            chunks += 1
        fail(f"the stalled stream ended normally after {chunks} chunks")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            fail(f"the stalled stream ended with {error.code()}: {error.details()}")
    if chunks == 0:
        fail("the stalled stream sent nothing before it was cancelled")
    statuses = [r.status for r in cancelled_streams()]
    if statuses != ["CANCELLED"]:
        fail(f"the stalled stream's audit record says {statuses}, not the CANCELLED its client got")
    warden = wg.WardenStub(grpc.insecure_channel(TARGET))
    try:
        response = warden.Generate(request(3), metadata=APP, timeout=60)
    except grpc.RpcError as error:
        fail(f"normal request after the stalled stream: {error.code()}: {error.details()}")
    if response.finish_reason != w.LENGTH:
        fail(f"normal request after the stalled stream: {response}")
    print(f"stalled stream cancelled by the server after {chunks} chunks; a normal request was served")


def hold():
    call = open_stalled_stream()
    print("holding", flush=True)
    time.sleep(3600)
    call.cancel()


{"stall": stall, "hold": hold}[MODE]()
