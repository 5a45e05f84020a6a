#!/usr/bin/python3
"""Warden test client in Python (Debian's python3-grpcio): health, reflection, auth, RPCs.

Usage: python_client.py STUBS_TAR TARGET CHECK...
Each CHECK is a name below; the script exits non-zero with a message on the first failure.
"""
import os
import sys
import tarfile
import tempfile

stubs_dir = tempfile.mkdtemp()
with tarfile.open(sys.argv[1]) as tar:
    tar.extractall(stubs_dir)
sys.path.insert(0, stubs_dir)

import grpc  # noqa: E402
from health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # noqa: E402
from proto import warden_pb2, warden_pb2_grpc, common_pb2  # noqa: E402

TARGET = sys.argv[2]
APP_KEY = os.environ.get("WARDEN_APP_KEY", "warden-demo-key")
ADMIN_KEY = os.environ.get("WARDEN_ADMIN_KEY", "warden-demo-admin")
channel = grpc.insecure_channel(TARGET)


def auth(key):
    return [("authorization", "Bearer " + key)]


def expect_code(fn, code, what):
    try:
        fn()
    except grpc.RpcError as error:
        if error.code() != code:
            raise SystemExit(f"{what}: expected {code}, got {error.code()}: {error.details()}")
        return error
    raise SystemExit(f"{what}: expected {code}, call succeeded")


def check_health():
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "warden.v1.Warden", "warden.v1.Admin"):
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert response.status == health_pb2.HealthCheckResponse.SERVING, (service, response)


def check_reflection():
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
    names = {s.name for r in responses for s in r.list_services_response.service}
    for wanted in ("warden.v1.Warden", "warden.v1.Admin", "grpc.health.v1.Health"):
        assert wanted in names, f"reflection lists {sorted(names)}, missing {wanted}"


def check_auth():
    stub = warden_pb2_grpc.WardenStub(channel)
    request = warden_pb2.ModerateRequest(texts=["hello"])
    expect_code(lambda: stub.Moderate(request, timeout=10), grpc.StatusCode.UNAUTHENTICATED, "no key")
    expect_code(lambda: stub.Moderate(request, metadata=auth("wrong-key"), timeout=10),
                grpc.StatusCode.UNAUTHENTICATED, "unknown key")
    expect_code(lambda: stub.Moderate(request, metadata=[("authorization", "Basic abc")], timeout=10),
                grpc.StatusCode.UNAUTHENTICATED, "garbled header")
    admin = warden_pb2_grpc.AdminStub(channel)
    expect_code(lambda: admin.ListPolicies(warden_pb2.ListPoliciesRequest(), metadata=auth(APP_KEY), timeout=10),
                grpc.StatusCode.PERMISSION_DENIED, "admin RPC with an app key")


def check_moderate():
    stub = warden_pb2_grpc.WardenStub(channel)
    response = stub.Moderate(warden_pb2.ModerateRequest(texts=["Have a nice day.", "mail me at bob@example.com"]),
                             metadata=auth(APP_KEY), timeout=30)
    assert len(response.results) == 2, response
    assert response.request_id, response
    email = response.results[1]
    assert any(r.entity_type == "EMAIL" for r in email.rules), email
    assert "bob@example.com" not in email.redacted_text, email


def check_generate():
    stub = warden_pb2_grpc.WardenStub(channel)
    request = warden_pb2.GenerateRequest(messages=[warden_pb2.Message(role=warden_pb2.USER, content="Say hi.")],
                                         sampling=warden_pb2.SamplingOptions(max_output_tokens=8, temperature=0))
    response = stub.Generate(request, metadata=auth(APP_KEY), timeout=120)
    assert response.request_id and response.usage.prompt_tokens > 0, response
    chunks = list(stub.StreamGenerate(request, metadata=auth(APP_KEY), timeout=120))
    assert chunks and chunks[-1].HasField("summary"), chunks


def check_invalid_utf8():
    # Python's protobuf will not put invalid UTF-8 in a string field, so the request is
    # serialised with a same-length placeholder and the bytes are swapped on the wire.
    valid = warden_pb2.ModerateRequest(texts=["PLACEHOLDER"]).SerializeToString()
    raw = valid.replace(b"PLACEHOLDER", b"bad \xff\xfe text")
    assert len(raw) == len(valid) and raw != valid
    moderate = channel.unary_unary("/warden.v1.Warden/Moderate", request_serializer=lambda r: r,
                                   response_deserializer=warden_pb2.ModerateResponse.FromString)
    error = expect_code(lambda: moderate(raw, metadata=auth(APP_KEY), timeout=10),
                        grpc.StatusCode.INVALID_ARGUMENT, "invalid UTF-8 in a string field")
    assert "UTF-8" in error.details(), error.details()
    garbage = expect_code(lambda: moderate(b"\xff\xff\xff\xff", metadata=auth(APP_KEY), timeout=10),
                          grpc.StatusCode.INVALID_ARGUMENT, "bytes that are no protobuf message")
    assert "could not be parsed" in garbage.details(), garbage.details()
    # The server is unharmed: a valid request still works.
    check_moderate()


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}

for name in sys.argv[3:]:
    CHECKS[name]()
    print(f"python client: {name} ok")
