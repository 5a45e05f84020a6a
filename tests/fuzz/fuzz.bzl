"""warden_fuzzer: a libFuzzer target plus its regression test for the normal suite."""

def warden_fuzzer(name, deps, data = []):
    """Defines <name>_fuzzer_lib, <name>_fuzzer (manual) and <name>_fuzzer_regression_test.

    Args:
      name: the target's short name; the source is <name>_fuzzer.cc, the seed corpus
        corpus/<name>/ and the crash reproducers regressions/<name>/.
      deps: libraries under test.
      data: runtime data the fuzzer loads (runfiles).
    """
    fuzzer = name + "_fuzzer"
    native.cc_library(
        name = fuzzer + "_lib",
        testonly = True,
        srcs = [fuzzer + ".cc"],
        data = data,
        deps = deps + [":fuzz_util"],
        alwayslink = True,
    )

    # No main(): only buildable with -fsanitize=fuzzer (scripts/fuzz.sh), so `bazel test
    # //...` must skip it.
    native.cc_binary(
        name = fuzzer,
        testonly = True,
        data = data,
        tags = ["manual"],
        deps = [":" + fuzzer + "_lib"],
    )

    native.cc_test(
        name = fuzzer + "_regression_test",
        size = "small",
        args = [
            "tests/fuzz/corpus/" + name,
            "tests/fuzz/regressions/" + name,
        ],
        data = native.glob(["corpus/%s/**" % name, "regressions/%s/**" % name]) + data,
        deps = [
            ":" + fuzzer + "_lib",
            ":regression_main",
        ],
    )
