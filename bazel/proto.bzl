"""warden_proto_library: C++ (and optionally gRPC) code from .proto files via Debian's protoc."""

def warden_proto_library(name, srcs, deps = [], grpc = False, visibility = None):
    """Generates `<name>` (cc_library) from `srcs` (.proto files in this package).

    Imports are resolved from the workspace root, so `import "proto/x.proto";` works.
    `deps` are other warden_proto_library targets whose headers the generated code includes.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    cmd = "protoc -I. --cpp_out=$(GENDIR) "
    if grpc:
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=$$(which grpc_cpp_plugin) "
    cmd += " ".join(["$(location %s)" % s for s in srcs])
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = cmd,
    )
    native.filegroup(name = name + "_srcs", srcs = srcs + [d + "_srcs" for d in deps], visibility = visibility)
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        copts = ["-Wno-unused-parameter"],
        visibility = visibility,
    )
