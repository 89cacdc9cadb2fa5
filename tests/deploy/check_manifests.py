#!/usr/bin/env python3
"""Checks what the schema validators cannot see in the deployment files: the references between
them and the properties docs/DEPLOY.md promises.

  python3 tests/deploy/check_manifests.py

- Dockerfile: base images pinned (a version tag or a digest, never `latest`), no ADD of a URL, a
  numeric non-root USER in the final stage, HEALTHCHECK and STOPSIGNAL SIGTERM, /data a VOLUME
  with KILN_DIR=/data, the runtime stage copies the binary from the `build` stage.
- deploy/compose.yaml: every depends_on names a service; a service depended on with
  `service_healthy` has a healthcheck (its own, or the image's: it builds ../Dockerfile); every
  `${VAR}` is in .env.example or has a default; named volumes are declared; the mounted nginx.conf
  exists and its upstream names exactly the Kiln services, on the port they listen on.
- deploy/k8s: selectors match the pod labels (Service, PodDisruptionBudget), probes and the
  Service's targetPort name a container port, every secretKeyRef names a key of the example
  Secret, the pod runs as uid 10001 with a read-only root filesystem, 30 s of grace and a preStop
  pause shorter than it, and 3 replicas.

Prints one line per failure and exits 1, or prints "N passed, 0 failed" and exits 0.
"""
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
failures = []
passed = 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)


# ---- Dockerfile -------------------------------------------------------------------------------
def dockerfile_instructions(text):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def check_dockerfile():
    ins = dockerfile_instructions((REPO / "Dockerfile").read_text())
    stages = []  # (image, name, [instructions])
    for word, rest in ins:
        if word == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            stages.append((m.group(1), (m.group(2) or "").lower(), []))
        elif stages:
            stages[-1][2].append((word, rest))
    check(len(stages) >= 2, "Dockerfile: a multi-stage build (build, runtime)")
    names = [s[1] for s in stages]
    check(names[:1] == ["build"] and names[-1] == "runtime", f"Dockerfile: stages build … runtime, not {names}")
    for image, _, _ in stages:
        if image.lower() in names:
            continue
        tag = image.split("@")[0].rpartition("/")[2].partition(":")[2]
        pinned = "@sha256:" in image or (tag and tag != "latest" and re.search(r"\d", tag))
        check(pinned, f"Dockerfile: FROM {image} is not pinned (a version tag or a digest)")
    for word, rest in ins:
        if word == "ADD":
            check(not re.search(r"https?://", rest), f"Dockerfile: ADD of a URL: {rest}")
    final = stages[-1][2]
    users = [rest for word, rest in final if word == "USER"]
    check(bool(users), "Dockerfile: the runtime stage sets USER")
    if users:
        uid = users[-1].split(":")[0]
        check(uid.isdigit() and uid != "0", f"Dockerfile: USER {users[-1]} is not a numeric non-root uid")
        check(uid == "10001", f"Dockerfile: USER {users[-1]}, the docs say uid 10001")
    words = [w for w, _ in final]
    check("HEALTHCHECK" in words, "Dockerfile: no HEALTHCHECK in the runtime stage")
    check(("STOPSIGNAL", "SIGTERM") in final, "Dockerfile: STOPSIGNAL SIGTERM missing")
    check(any(w == "VOLUME" and "/data" in r for w, r in final), "Dockerfile: /data is not a VOLUME")
    check(any(w == "ENV" and re.search(r"\bKILN_DIR=/data\b", r) for w, r in final), "Dockerfile: ENV KILN_DIR=/data missing")
    check(any(w == "EXPOSE" and "8090" in r for w, r in final), "Dockerfile: EXPOSE 8090 missing")
    check(any(w == "COPY" and "--from=build" in r and r.split()[-1] == "/usr/local/bin/kiln" for w, r in final),
          "Dockerfile: the runtime stage does not COPY --from=build the binary to /usr/local/bin/kiln")
    hc = next((r for w, r in final if w == "HEALTHCHECK"), "")
    check("/api/health" in hc and "curl" not in hc and "wget" not in hc, "Dockerfile: HEALTHCHECK must GET /api/health without curl/wget")
    labels = " ".join(r for w, r in final if w == "LABEL")
    for key in ("title", "description", "version", "revision", "licenses"):
        check(f"org.opencontainers.image.{key}=" in labels, f"Dockerfile: label org.opencontainers.image.{key} missing")


# ---- compose ----------------------------------------------------------------------------------
def env_example():
    names = set()
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        m = re.match(r"#?\s*([A-Z_][A-Z0-9_]*)=", line)
        if m:
            names.add(m.group(1))
    return names


def check_compose():
    raw = (DEPLOY / "compose.yaml").read_text()
    doc = yaml.safe_load(raw)
    services = doc["services"]
    defined = env_example()
    for m in re.finditer(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}", raw):
        name, mod = m.group(1), m.group(2) or ""
        check(name in defined or mod.startswith((":-", "-")), f"compose: ${{{name}}} is neither in .env.example nor defaulted")
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for dep, how in deps.items():
            check(dep in services, f"compose: {name} depends on unknown service {dep}")
            if dep in services and how.get("condition") == "service_healthy":
                target = services[dep]
                builds_ours = (target.get("build") or {}).get("dockerfile") == "Dockerfile" and \
                    (DEPLOY / target["build"]["context"] / "Dockerfile").resolve() == REPO / "Dockerfile"
                check("healthcheck" in target or builds_ours, f"compose: {name} waits for {dep} to be healthy, which has no healthcheck")
        for vol in svc.get("volumes") or []:
            src = vol.split(":")[0] if isinstance(vol, str) else vol.get("source")
            if src.startswith((".", "/")):
                check((DEPLOY / src).exists(), f"compose: {name} mounts {src}, which does not exist")
            else:
                check(src in (doc.get("volumes") or {}), f"compose: {name} uses the undeclared volume {src}")
    kiln = sorted(n for n, s in services.items() if re.fullmatch(r"kiln-\d+", n))
    check(len(kiln) == 3, f"compose: three Kiln nodes, not {kiln}")
    for n in kiln:
        env = services[n].get("environment") or {}
        check("KILN_DATABASE_URL" in env and "KILN_REDIS_URL" in env, f"compose: {n} lacks KILN_DATABASE_URL or KILN_REDIS_URL")
    check(services["postgres"]["image"].startswith("postgres:16"), "compose: PostgreSQL 16")
    check(services["redis"]["image"].startswith("redis:7"), "compose: Redis 7")
    # nginx's upstream: the Kiln services, at the port the image listens on
    conf = (DEPLOY / "nginx.conf").read_text()
    upstream = re.search(r"upstream\s+kiln\s*\{(.*?)\}", conf, re.S)
    check(bool(upstream), "nginx.conf: no `upstream kiln` block")
    if upstream:
        servers = sorted(re.findall(r"^\s*server\s+([\w.-]+):8090\b", upstream.group(1), re.M))
        check(servers == kiln, f"nginx.conf: upstream servers {servers} are not the compose nodes {kiln}")
    for directive in ("proxy_buffering off", "proxy_next_upstream error timeout", "proxy_http_version 1.1",
                      "proxy_set_header Upgrade $http_upgrade", "proxy_set_header Connection $connection_upgrade"):
        check(directive in conf, f"nginx.conf: `{directive}` missing")


# ---- Kubernetes -------------------------------------------------------------------------------
def check_k8s():
    objs = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                objs[doc["kind"]] = doc
    for kind in ("Deployment", "Service", "Secret", "PodDisruptionBudget"):
        check(kind in objs, f"k8s: no {kind}")
    if not all(k in objs for k in ("Deployment", "Service", "Secret", "PodDisruptionBudget")):
        return
    dep, svc, secret, pdb = objs["Deployment"], objs["Service"], objs["Secret"], objs["PodDisruptionBudget"]
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    subset = lambda sel: all(labels.get(k) == v for k, v in sel.items())  # noqa: E731
    check(spec["replicas"] == 3, "k8s: 3 replicas")
    check(subset(spec["selector"]["matchLabels"]), "k8s: the Deployment's selector does not match its pods")
    check(subset(svc["spec"]["selector"]), "k8s: the Service's selector does not match the pods")
    check(subset(pdb["spec"]["selector"]["matchLabels"]), "k8s: the PodDisruptionBudget's selector does not match the pods")
    (ctr,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in ctr["ports"]}
    check(ports.get("http") == 8090, "k8s: container port http = 8090")
    check(svc["spec"]["ports"][0]["targetPort"] in ports, "k8s: the Service's targetPort is not a container port")
    for probe in ("readinessProbe", "livenessProbe"):
        get = (ctr.get(probe) or {}).get("httpGet") or {}
        check(get.get("path") == "/api/health" and get.get("port") in ports, f"k8s: {probe} is not GET /api/health on the container's port")
    keys = set((secret.get("stringData") or {}) | (secret.get("data") or {}))
    refs = [e["valueFrom"]["secretKeyRef"] for e in ctr["env"] if "secretKeyRef" in (e.get("valueFrom") or {})]
    for ref in refs:
        check(ref["name"] == secret["metadata"]["name"] and ref["key"] in keys, f"k8s: secretKeyRef {ref} is not in the example Secret")
    db = next((e for e in ctr["env"] if e["name"] == "KILN_DATABASE_URL"), {})
    check("secretKeyRef" in (db.get("valueFrom") or {}), "k8s: KILN_DATABASE_URL comes from a secretKeyRef")
    psc, csc = pod.get("securityContext") or {}, ctr.get("securityContext") or {}
    check(psc.get("runAsNonRoot") and psc.get("runAsUser") == 10001, "k8s: the pod runs as non-root uid 10001")
    check(csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False, "k8s: read-only root, no privilege escalation")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"], "k8s: capabilities dropped")
    grace = pod.get("terminationGracePeriodSeconds")
    check(grace == 30, "k8s: terminationGracePeriodSeconds 30")
    cmd = (((ctr.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
    pause = int(cmd[1]) if cmd[:1] == ["sleep"] and len(cmd) == 2 else None
    check(pause is not None and 0 < pause and pause + 20 <= (grace or 0), "k8s: a preStop sleep that leaves Kiln its 20 s within the grace period")
    mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts") or []}
    check(mounts.get("/data") in {v["name"] for v in pod.get("volumes") or []}, "k8s: /data is a volume")
    res = ctr.get("resources") or {}
    check("requests" in res and "memory" in res.get("limits", {}), "k8s: resources (requests, a memory limit)")


check_dockerfile()
check_compose()
check_k8s()
for f in failures:
    print(f"FAIL {f}")
print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
