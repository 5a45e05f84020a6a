"""One repository rule that exposes the Debian system libraries as cc_library targets.

Link flags come from `pkg-config` where the package ships a .pc file; the few libraries
without one are listed once here. Headers live in /usr/include, which the compiler
searches already, so the targets only carry link options.
"""

# target name -> (pkg-config modules, fallback link flags when pkg-config has no module)
_LIBS = {
    "absl": (["absl_status", "absl_statusor", "absl_strings", "absl_str_format",
              "absl_synchronization", "absl_time", "absl_hash", "absl_flat_hash_map",
              "absl_flags", "absl_flags_parse", "absl_random_random", "absl_cord",
              "absl_span", "absl_optional"], []),
    "protobuf": (["protobuf"], []),
    "grpc": (["grpc++"], ["-lgrpc++_reflection", "-lgrpcpp_channelz"]),
    "re2": (["re2"], []),
    "dnnl": ([], ["-ldnnl"]),
    "gtest": (["gtest"], []),
    "gtest_main": (["gtest_main"], []),
    "benchmark": (["benchmark"], ["-lbenchmark_main"]),
    "sqlite3": (["sqlite3"], []),
    "icu": (["icu-uc", "icu-i18n"], []),
    "json": ([], []),  # nlohmann-json3-dev, header only
    "pthread": ([], ["-lpthread"]),
}

def _pkg_config_libs(ctx, modules):
    if not modules:
        return []
    result = ctx.execute(["pkg-config", "--libs"] + modules)
    if result.return_code != 0:
        fail("pkg-config failed for %s: %s\nRun scripts/setup.sh to install the Debian packages." %
             (modules, result.stderr))
    return result.stdout.strip().split(" ")

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, spec in _LIBS.items():
        modules, extra = spec
        flags = [f for f in (_pkg_config_libs(ctx, modules) + extra) if f]
        lines.append("cc_library(")
        lines.append("    name = %r," % name)
        lines.append("    linkopts = %r," % flags)
        lines.append(")")
        lines.append("")
    ctx.file("BUILD", "\n".join(lines))
    ctx.file("WORKSPACE", "")

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)
