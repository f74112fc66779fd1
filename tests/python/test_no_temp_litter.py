"""A run of the C++ CLI leaves nothing behind in $TMPDIR, $HOME or the working directory (issue #9.6).

ONNX Runtime 1.30 (the npm build scripts/get_onnxruntime.sh installs) starts Microsoft's 1DS telemetry
when the first OrtEnv is created: an empty $TMPDIR/mat-debug-<pid>.log and a .ses file per process, plus a
device id and event cache under ~/.cache/Microsoft. src/runtime/ort_env.cpp sets ORT_DISABLE_TELEMETRY=1
before that. ORT also skips telemetry when it sees a CI variable (CI, GITHUB_ACTIONS, ...), so the test
removes those from the child's environment: otherwise it would pass under CI without the fix.
"""

from __future__ import annotations

import os
import subprocess

# The CI variables ONNX Runtime 1.30 checks (strings of libonnxruntime.so), and its own switches.
SUPPRESSING_VARS = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL",
                    "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER",
                    "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "ORT_DISABLE_TELEMETRY", "ORT_RUNNING_UNIT_TESTS")


def test_synth_leaves_no_files_in_tmpdir_home_or_cwd(tmp_path, vibevoice_bin, tiny_model):
    tmp, home, work = tmp_path / "tmp", tmp_path / "home", tmp_path / "work"
    for d in (tmp, home, work):
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in SUPPRESSING_VARS}
    env.update(TMPDIR=str(tmp), HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    out = tmp_path / "out.wav"
    cmd = [str(vibevoice_bin), "synth", "--model", str(tiny_model), "--voice", "synthetic", "--text", "Hello.",
           "--threads", "1", "--quiet", "--max-seconds", "0.5", "-o", str(out)]
    res = subprocess.run(cmd, env=env, cwd=work, capture_output=True, timeout=300)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    assert out.read_bytes()[:4] == b"RIFF"  # the run really created sessions and synthesized
    left = sorted(str(p.relative_to(tmp_path)) for d in (tmp, home, work) for p in d.rglob("*"))
    assert left == [], f"the run left files behind: {left}"
