#!/usr/bin/env python3
"""The docker-compose test: builds fakessh as a static binary and an image
FROM scratch around it, brings examples/docker-compose.yml up, queues civitdl
and wget jobs through the API from the host, waits for the right final
statuses (one job under a fault), checks that the handler reached the
instance by its service name, stops everything with SIGTERM (each container
must exit 0 within 2 s), and takes it down with its volumes.

Usage: scripts/docker_test.py [--build-only]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPOSE_FILE = os.path.join(ROOT, "examples", "docker-compose.yml")
PROJECT = "fakessh-ci"
IMAGE = "fakessh:local"
API_PORT = os.environ.get("FAKESSH_API_PORT", "18080")
ADMIN_PORT = os.environ.get("FAKESSH_ADMIN_PORT", "19000")
TOKEN = "ci-token"
ENV = dict(os.environ, FAKESSH_IMAGE=IMAGE, FAKESSH_API_PORT=API_PORT,
           FAKESSH_ADMIN_PORT=ADMIN_PORT, FAKESSH_ADMIN_TOKEN=TOKEN)


def log(msg):
    print(f"[docker-test] {msg}", flush=True)


def run(cmd, env=None, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, env=env or ENV, cwd=ROOT, **kw)


def compose_cmd():
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return ["docker", "compose"]


def compose(*args, **kw):
    return run(compose_cmd() + ["-p", PROJECT, "-f", COMPOSE_FILE] + list(args), **kw)


def build_image():
    run(["cargo", "build", "--release", "--locked", "--target", "x86_64-unknown-linux-gnu"],
        env=dict(ENV, RUSTFLAGS="-C target-feature=+crt-static"))
    binary = os.path.join(ROOT, "target", "x86_64-unknown-linux-gnu", "release", "fakessh")
    with tempfile.TemporaryDirectory() as ctx:
        shutil.copy(binary, os.path.join(ctx, "fakessh"))
        os.mkdir(os.path.join(ctx, "tmp"))
        run(["docker", "build", "-q", "-f", os.path.join(ROOT, "docker", "Dockerfile.scratch"),
             "-t", IMAGE, ctx])


def http(method, path, body=None, port=API_PORT, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def container_ids():
    out = subprocess.run(compose_cmd() + ["-p", PROJECT, "-f", COMPOSE_FILE, "ps", "-q"],
                         check=True, env=ENV, cwd=ROOT, capture_output=True, text=True).stdout
    return [c for c in out.split() if c]


def inspect(cid, fmt):
    return subprocess.run(["docker", "inspect", "-f", fmt, cid], check=True,
                          capture_output=True, text=True).stdout.strip()


def service_id(name):
    out = subprocess.run(compose_cmd() + ["-p", PROJECT, "-f", COMPOSE_FILE, "ps", "-q", name],
                         check=True, env=ENV, cwd=ROOT, capture_output=True, text=True).stdout
    return out.strip()


def wait_healthy(names, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = {n: inspect(service_id(n), "{{.State.Health.Status}}") for n in names}
        if all(s == "healthy" for s in states.values()):
            log(f"healthy: {states}")
            return
        time.sleep(0.5)
    raise SystemExit(f"services not healthy in {timeout}s: {states}")


def main():
    build_image()
    if "--build-only" in sys.argv:
        return
    compose("down", "-v", "--remove-orphans")
    try:
        compose("up", "-d")
        wait_healthy(["gpu", "api"])
        conn = "ssh -p 2222 root@gpu"
        jobs = []
        for commands, name in [
            (['civitdl "https://civitai.com/models/1874099?modelVersionId=2169837" "$UI_HOME"/models/Lora'], "civitdl lora"),
            (["wget --progress=bar:force -P \"$UI_HOME\"/models/vae https://huggingface.co/Comfy-Org/x/resolve/main/vae.safetensors"], "wget vae"),
            (["wget --progress=bar:force -P \"$UI_HOME\"/models/vae https://huggingface.co/Comfy-Org/x/resolve/main/missing/vae.safetensors"], "wget missing"),
        ]:
            r = http("POST", "/downloads/queue", {"ssh_connection": conn, "commands": commands,
                                                 "display_name": name})
            assert r["success"], r
            jobs += [(j["id"], name) for j in r["jobs"]]
        r = http("POST", "/downloads/queue", {"ssh_connection": conn, "resources": ["wan-vae.md"]})
        assert r["success"] and r["count"] == 1, r
        jobs += [(j["id"], "resource wan-vae") for j in r["jobs"]]
        log(f"queued {len(jobs)} jobs")

        deadline = time.time() + 180
        final = {}
        while time.time() < deadline:
            status = {e["id"]: e for e in http("GET", "/downloads/status")}
            final = {jid: status.get(jid, {}).get("status") for jid, _ in jobs}
            if all(s in ("COMPLETE", "FAILED", "HOST_VERIFICATION_NEEDED") for s in final.values()):
                break
            time.sleep(0.5)
        for jid, name in jobs:
            entry = status.get(jid, {})
            log(f"{name}: {entry.get('status')} {entry.get('error', '')}")
        want = {"civitdl lora": "COMPLETE", "wget vae": "COMPLETE", "wget missing": "FAILED",
                "resource wan-vae": "COMPLETE"}
        for jid, name in jobs:
            assert final[jid] == want[name], f"{name}: {final[jid]} (want {want[name]})"
        missing = next(status[j] for j, n in jobs if n == "wget missing")
        assert "404" in missing.get("error", ""), missing

        # The handler reached the instance by its service name: the fleet's
        # journal holds its commands, from the handler container's address.
        journal = http("GET", "/__admin/journal", port=ADMIN_PORT, token=TOKEN)["entries"]
        handler_ip = inspect(service_id("handler"),
                             "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
        ran = [e for e in journal if "civitdl" in e["command"] or "wget" in e["command"]]
        assert ran, journal
        assert all(e["client"].startswith(handler_ip + ":") for e in ran), (handler_ip, ran)
        log(f"journal: {len(ran)} download commands from the handler at {handler_ip}")

        # SIGTERM to every PID 1: each must exit 0 within 2 s.
        ids = container_ids()
        subprocess.run(["docker", "kill", "-s", "TERM"] + ids, check=True, capture_output=True)
        deadline = time.time() + 2.0
        while time.time() < deadline and any(inspect(c, "{{.State.Running}}") == "true" for c in ids):
            time.sleep(0.05)
        for c in ids:
            name = inspect(c, "{{.Name}}")
            running, code = inspect(c, "{{.State.Running}} {{.State.ExitCode}}").split()
            assert running == "false", f"{name} still running 2 s after SIGTERM"
            assert code == "0", f"{name} exited {code} after SIGTERM"
        log(f"all {len(ids)} containers exited 0 within 2 s of SIGTERM")
        print("docker-compose: 1 passed, 0 failed")
    except BaseException:
        subprocess.run(compose_cmd() + ["-p", PROJECT, "-f", COMPOSE_FILE, "logs", "--tail", "60"],
                       env=ENV, cwd=ROOT)
        raise
    finally:
        compose("down", "-v", "--remove-orphans")


if __name__ == "__main__":
    main()
