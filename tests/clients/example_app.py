#!/usr/bin/python3
"""What an app does with Warden, in Python (the README's example; run by the e2e test).

Usage: example_app.py STUBS_DIR_OR_TAR TARGET
Stubs: protoc -I. --python_out=OUT --grpc_out=OUT --plugin=protoc-gen-grpc=$(which grpc_python_plugin) \
           proto/common.proto proto/warden.proto     (Debian: python3-grpcio, protobuf-compiler-grpc)
"""
import os
import sys
import tarfile
import tempfile

stubs = sys.argv[1]
if stubs.endswith(".tar"):  # the test passes Bazel's tar of the generated stubs
    with tarfile.open(stubs) as tar:
        stubs = tempfile.mkdtemp()
        tar.extractall(stubs)
sys.path.insert(0, stubs)

import grpc  # noqa: E402
from proto import common_pb2, warden_pb2, warden_pb2_grpc  # noqa: E402

channel = grpc.insecure_channel(sys.argv[2])  # grpc.secure_channel(...) when the server has TLS
warden = warden_pb2_grpc.WardenStub(channel)
key = [("authorization", "Bearer " + os.environ.get("WARDEN_API_KEY", "warden-demo-key"))]

# 1. Check user text before using it: one result per text, in order.
checked = warden.Moderate(warden_pb2.ModerateRequest(texts=["mail bob@example.com", "Nice weather."]),
                          metadata=key, timeout=10)
for result in checked.results:
    action = common_pb2.Action.Name(result.action)
    print(f"moderate: {action} {result.redacted_text!r}")  # use redacted_text when REDACT
    if result.action == common_pb2.BLOCK:
        print("  refused:", [s for s in result.categories if s.flagged], [r.rule_id for r in result.rules])

# 2. Generate through Warden: input and output are checked; a stream only carries text that
#    passed the output checks, and always ends with a summary holding both decisions.
request = warden_pb2.GenerateRequest(
    messages=[warden_pb2.Message(role=warden_pb2.USER, content="Say hello.")],
    sampling=warden_pb2.SamplingOptions(max_output_tokens=16))
try:
    for chunk in warden.StreamGenerate(request, metadata=key, timeout=120):
        if chunk.HasField("delta"):
            sys.stdout.write(chunk.delta.text)
        elif chunk.HasField("summary"):
            summary = chunk.summary
            print(f"\ngenerate: {warden_pb2.FinishReason.Name(summary.finish_reason)}"
                  f" output={common_pb2.Action.Name(summary.output_decision.action)}"
                  f" request_id={summary.request_id}")
            if summary.finish_reason == warden_pb2.BLOCKED:  # not an error: the decision says why
                blocked = summary.input_decision if summary.input_decision.action == common_pb2.BLOCK \
                    else summary.output_decision
                print("  blocked:", blocked.message)
except grpc.RpcError as error:  # bad request, limits, auth: the message names the field or limit
    print(f"generate failed: {error.code().name}: {error.details()}")
    sys.exit(1)
