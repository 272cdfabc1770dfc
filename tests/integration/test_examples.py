"""The deployment examples hold together: Kubernetes manifests parse as
strict YAML with the fields a cluster needs, the agent validates the
ConfigMap's config and rules, the capabilities match the systemd unit's,
the Dockerfile follows the rules hadolint would apply (hadolint and
kubeconform are not packaged for Debian), the OpenTelemetry Collector
pipeline is complete. Nothing here needs a cluster or a Docker engine."""
import os
import re
import shutil
import subprocess
import tempfile

import yaml

from tapio import BIN, SOURCE_DIR, Collector, TestFailure, check, require_root, run_tests

EX = os.path.join(SOURCE_DIR, "examples")
K8S = os.path.join(EX, "kubernetes")


class StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice (PyYAML keeps the last)."""


def _mapping(loader, node, deep=False):
    seen = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise TestFailure("%s: duplicate key %r" % (k.start_mark, key))
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.load_all(f, Loader=StrictLoader) if d is not None]


def docs_by_kind():
    out = {}
    for name in sorted(os.listdir(K8S)):
        if not name.endswith(".yaml") or name == "kustomization.yaml":
            continue
        for d in load_all(os.path.join(K8S, name)):
            for k in ("apiVersion", "kind", "metadata"):
                check(k in d, "%s: a document without %s" % (name, k))
            check(d["metadata"].get("name"), "%s: %s without metadata.name" % (name, d["kind"]))
            out.setdefault(d["kind"], []).append(d)
    return out


def unit_caps():
    for line in open(os.path.join(EX, "systemd/tapio-collector.service")):
        if line.startswith("CapabilityBoundingSet="):
            return sorted(c[len("CAP_"):] for c in line.split("=", 1)[1].split())
    raise TestFailure("the unit has no CapabilityBoundingSet")


def dig(d, path):
    for p in path.split("."):
        check(isinstance(d, dict) and p in d, "missing field %s" % path)
        d = d[p]
    return d


def test_kubernetes_manifests():
    kinds = docs_by_kind()
    for k in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"):
        check(k in kinds, "no %s in examples/kubernetes" % k)
    ns = kinds["Namespace"][0]["metadata"]["name"]
    ds = kinds["DaemonSet"][0]
    check(ds["apiVersion"] == "apps/v1" and ds["metadata"]["namespace"] == ns, "DaemonSet namespace")
    spec = dig(ds, "spec.template.spec")
    check(dig(ds, "spec.selector.matchLabels").items() <= dig(ds, "spec.template.metadata.labels").items(),
          "selector does not match the pod labels")
    check(spec.get("hostPID") is True, "hostPID is not true")
    sa = spec.get("serviceAccountName")
    check(any(s["metadata"]["name"] == sa and s["metadata"]["namespace"] == ns
              for s in kinds["ServiceAccount"]), "serviceAccountName %r is not defined" % sa)
    binding = kinds["ClusterRoleBinding"][0]
    check(any(s["kind"] == "ServiceAccount" and s["name"] == sa and s["namespace"] == ns
              for s in binding["subjects"]), "the binding is not for the agent's ServiceAccount")
    check(binding["roleRef"]["name"] in [r["metadata"]["name"] for r in kinds["ClusterRole"]],
          "the binding names no defined role")
    ann = dig(ds, "spec.template.metadata.annotations")
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/path") == "/metrics",
          "no Prometheus scrape annotations")

    (c,) = spec["containers"]
    sc = c["securityContext"]
    check(sc.get("privileged") is False and sc.get("allowPrivilegeEscalation") is False,
          "the container is privileged or may escalate")
    check(sc["capabilities"]["drop"] == ["ALL"], "capabilities are not dropped first")
    check(sorted(sc["capabilities"]["add"]) == unit_caps(),
          "DaemonSet capabilities %r differ from the systemd unit's %r" % (sc["capabilities"]["add"], unit_caps()))
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(str(ports.get("metrics")) == ann.get("prometheus.io/port"), "scrape port is not the metrics port")
    check(dig(c, "readinessProbe.httpGet.path") == "/healthz", "readiness is not /healthz")
    check(dig(c, "livenessProbe.httpGet.path") == "/livez", "liveness is not /livez")
    for k in ("requests", "limits"):
        for r in ("cpu", "memory"):
            check(r in c["resources"].get(k, {}), "no %s.%s" % (k, r))
    volumes = {v["name"]: v for v in spec["volumes"]}
    for m in c["volumeMounts"]:
        check(m["name"] in volumes, "mount of undefined volume %s" % m["name"])
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    for path in ("/sys/kernel/tracing", "/sys/fs/cgroup", "/var/lib/tapio", "/etc/tapio"):
        check(path in mounts, "no mount at %s" % path)
    for path in ("/sys/kernel/tracing", "/sys/fs/cgroup", "/etc/tapio"):
        check(mounts[path].get("readOnly") is True, "%s is not read-only" % path)

    # The ConfigMap the pod mounts has every key its items name.
    cm_name = volumes[mounts["/etc/tapio"]["name"]]["configMap"]["name"]
    (cm,) = [m for m in kinds["ConfigMap"] if m["metadata"]["name"] == cm_name]
    for item in volumes[mounts["/etc/tapio"]["name"]]["configMap"]["items"]:
        check(item["key"] in cm["data"], "ConfigMap has no key %s" % item["key"])
    kust = load_all(os.path.join(K8S, "kustomization.yaml"))[0]
    files = sorted(f for f in os.listdir(K8S) if f.endswith(".yaml") and f != "kustomization.yaml")
    check(sorted(kust["resources"]) == files, "kustomization.yaml lists %r, not %r" % (kust["resources"], files))


def test_configmap_validates_with_the_agent():
    """The ConfigMap, laid out as the pod sees it, passes --validate with
    the DaemonSet's own arguments."""
    kinds = docs_by_kind()
    ds = kinds["DaemonSet"][0]
    spec = dig(ds, "spec.template.spec")
    (c,) = spec["containers"]
    vol = next(v for v in spec["volumes"] if "configMap" in v)
    cm = next(m for m in kinds["ConfigMap"] if m["metadata"]["name"] == vol["configMap"]["name"])
    tmp = tempfile.mkdtemp(prefix="tapio-cm-")
    try:
        os.chmod(tmp, 0o755)
        etc = os.path.join(tmp, "etc/tapio")
        for item in vol["configMap"]["items"]:
            p = os.path.join(etc, item["path"])
            os.makedirs(os.path.dirname(p), mode=0o755, exist_ok=True)
            with open(p, "w") as f:
                f.write(cm["data"][item["key"]])
            os.chmod(p, 0o644)
        # The pod's paths, moved under tmp.
        cfg = os.path.join(etc, "config.lua")
        with open(cfg) as f:
            text = f.read().replace("/etc/tapio", etc)
        with open(cfg, "w") as f:
            f.write(text)
        args = [a.replace("/etc/tapio", etc) for a in c.get("args", [])]

        def validate(*extra):
            r = subprocess.run([BIN] + args + ["--validate"] + list(extra),
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, "--validate of the ConfigMap: %s%s" % (r.stdout, r.stderr))
            m = re.search(r"rules OK: (\d+) rules", r.stdout + r.stderr)
            check(m, "no rule count: %s%s" % (r.stdout, r.stderr))
            return int(m.group(1))
        with_local = validate()
        os.rename(os.path.join(etc, "rules.d"), os.path.join(etc, "rules.off"))
        os.makedirs(os.path.join(etc, "rules.d"), mode=0o755)
        without = validate()
        check(with_local > without, "the ConfigMap's local rules did not load (%d rules with, %d without)"
              % (with_local, without))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def kubelet_volume(root, files, version):
    """Lay out files as the kubelet's atomic writer does: the real files in
    ..<version>/, ..data -> ..<version>, top-level names -> ..data/<name>;
    a new version is one rename of ..data."""
    vdir = os.path.join(root, "..%s" % version)
    for rel, text in files.items():
        p = os.path.join(vdir, rel)
        os.makedirs(os.path.dirname(p), mode=0o755, exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o644)
    os.chmod(vdir, 0o755)
    tmp = os.path.join(root, "..data_tmp")
    os.symlink("..%s" % version, tmp)
    os.rename(tmp, os.path.join(root, "..data"))
    for top in {rel.split("/")[0] for rel in files}:
        link = os.path.join(root, top)
        if not os.path.lexists(link):
            os.symlink(os.path.join("..data", top), link)


def test_configmap_update_reloads_rules():
    """A ConfigMap edit, as the kubelet applies it, reloads the rules of a
    running agent (rules.watch) with no signal."""
    kinds = docs_by_kind()
    cm = next(m for m in kinds["ConfigMap"])
    tmp = tempfile.mkdtemp(prefix="tapio-cmw-")
    try:
        os.chmod(tmp, 0o755)
        etc = os.path.join(tmp, "etc")
        os.makedirs(etc, mode=0o755)
        config = cm["data"]["config.lua"].replace("/etc/tapio", etc)
        local = cm["data"]["local.lua"]
        kubelet_volume(etc, {"config.lua": config, "rules.d/local.lua": local}, 1)
        extra = local.replace('name = "package_manager_in_container"', 'name = "package_manager_in_container_2"')
        with Collector("-c", os.path.join(etc, "config.lua"), "-k", "categories=process",
                       "--set", "rules.watch_interval=200ms", "--set", "output.format=none",
                       "--set", "storage.raw_dir=" + os.path.join(tmp, "raw"),
                       "--set", "delivery.spool_dir=off", "--set", "metrics.address=127.0.0.1:0",
                       output="none", timeout=180) as c:
            kubelet_volume(etc, {"config.lua": config, "rules.d/local.lua": local + extra}, 2)
            line = c.wait_log("rules reloaded", timeout=30)
            check("(+1 -0" in line, "the reload did not add the new rule: %r" % line)
            check(any("rule files changed on disk" in l for l in c.log), "no log line says why it reloaded")
            c.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dockerfile_instructions(path):
    """(instruction, arguments, line) with continuations joined."""
    out, cur, start = [], "", 0
    for i, line in enumerate(open(path), 1):
        s = line.rstrip("\n")
        if not cur and (not s.strip() or s.lstrip().startswith("#")):
            continue
        if not cur:
            start = i
        cur += s.rstrip("\\").strip() + " "
        if not s.endswith("\\"):
            ins, _, args = cur.strip().partition(" ")
            out.append((ins.upper(), args.strip(), start))
            cur = ""
    return out


def test_dockerfile():
    path = os.path.join(EX, "docker/Dockerfile")
    ins = dockerfile_instructions(path)
    froms = [(a, n) for i, a, n in ins if i == "FROM"]
    check(len(froms) >= 2, "not a multi-stage build")
    for a, n in froms:
        image = a.split()[0]
        # hadolint DL3006/DL3007: pin the base image, never latest.
        check(":" in image and not image.endswith(":latest"), "line %d: unpinned base image %s" % (n, image))
    check(any(i == "COPY" and "--from=" in a for i, a, _ in ins), "the final stage copies nothing from the build")
    shell_pipefail = False
    for i, a, n in ins:
        if i == "SHELL":
            shell_pipefail = "pipefail" in a
        if i == "RUN":
            # DL4006: pipes need pipefail; DL3015/DL3009: apt-get hygiene.
            if "|" in a.replace("||", ""):
                check(shell_pipefail, "line %d: a pipe without SHELL pipefail" % n)
            if "apt-get install" in a:
                check("-y" in a and "--no-install-recommends" in a,
                      "line %d: apt-get install without -y --no-install-recommends" % n)
                check("rm -rf /var/lib/apt/lists" in a, "line %d: apt lists left in the layer" % n)
            check("sudo " not in a, "line %d: sudo in a RUN (DL3004)" % n)
        if i in ("CMD", "ENTRYPOINT"):
            check(a.startswith("["), "line %d: %s in shell form (DL3025)" % (n, i))
        if i == "WORKDIR":
            check(a.startswith("/"), "line %d: relative WORKDIR (DL3000)" % n)
        if i == "COPY" and "--from=" not in a:
            for src in a.split()[:-1]:
                check(os.path.exists(os.path.join(SOURCE_DIR, src)), "line %d: COPY of missing %s" % (n, src))
    check(any(i == "EXPOSE" and "9464" in a for i, a, _ in ins), "the metrics port is not exposed")
    text = open(path).read()
    caps = sorted(re.findall(r"--cap-add=(\w+)", text))
    check(caps == unit_caps(), "docker run example capabilities %r differ from the unit's" % caps)
    check(re.search(r"^package:", open(os.path.join(SOURCE_DIR, "Makefile")).read(), re.M),
          "the Dockerfile runs make package, which the Makefile lacks")


def test_otel_pipeline():
    (cfg,) = load_all(os.path.join(EX, "otel/otel-collector.yaml"))
    check("grpc" in dig(cfg, "receivers.otlp.protocols"), "no OTLP/gRPC receiver")
    pipes = dig(cfg, "service.pipelines")
    check(any(n.split("/")[0] == "logs" and "otlp" in p["receivers"] for n, p in pipes.items()),
          "no logs pipeline from the otlp receiver")
    for name, p in pipes.items():
        for kind, section in (("receivers", "receivers"), ("processors", "processors"), ("exporters", "exporters")):
            for comp in p.get(kind, []):
                check(comp in cfg.get(section, {}), "pipeline %s uses undefined %s %s" % (name, kind, comp))
    port = dig(cfg, "receivers.otlp.protocols.grpc.endpoint").rsplit(":", 1)[1]
    r = subprocess.run([BIN, "-c", os.path.join(EX, "otel/tapio.lua"), "--print-config"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "examples/otel/tapio.lua: %s" % r.stderr)
    check(re.search(r'address = "[^"]*:%s"' % port, r.stdout), "tapio.lua does not send to the receiver's port")


if __name__ == "__main__":
    require_root()
    run_tests([test_kubernetes_manifests, test_configmap_validates_with_the_agent,
               test_configmap_update_reloads_rules, test_dockerfile, test_otel_pipeline])
