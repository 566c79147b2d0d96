# git2kv: py-consul's own conftest starts Consul in docker; this one starts `git2kv kv-server`
# (the binary named by GIT2KV_BINARY) on a free loopback port for each test instead.
from __future__ import annotations

import collections
import os
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

ConsulInstance = collections.namedtuple("ConsulInstance", ["container", "port", "version"])


@pytest.fixture(scope="session", autouse=True)
def _unset_consul_token():
    os.environ.pop("CONSUL_HTTP_TOKEN", None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_kv_server(acl_token: str | None):
    binary = os.environ["GIT2KV_BINARY"]
    directory = tempfile.mkdtemp(prefix="py-consul-kv-server-")
    port = _free_port()
    arguments = [binary, "kv-server", "--listen", f"127.0.0.1:{port}", "--min-session-ttl", "1s"]
    if acl_token:
        token_file = os.path.join(directory, "bootstrap")
        with open(token_file, "w", encoding="utf-8") as handle:
            handle.write(acl_token)
        arguments += ["--acl-bootstrap-token-file", token_file]
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    process.stdout.readline()
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/v1/status/leader", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.05)
    return process, port


def _instance(acl_token: str | None):
    process, port = _start_kv_server(acl_token)
    version = requests.get(f"http://127.0.0.1:{port}/v1/agent/self", timeout=10, headers={"X-Consul-Token": acl_token or ""}).json()["Config"]["Version"]
    try:
        yield ConsulInstance(process, port, version) if acl_token is None else (ConsulInstance(process, port, version), acl_token)
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def consul_instance():
    yield from _instance(None)


@pytest.fixture
def acl_consul_instance():
    yield from _instance(uuid.uuid4().hex)


@pytest.fixture
def consul_port(consul_instance):
    return consul_instance.port, consul_instance.version


def pytest_collection_modifyitems(config, items):
    """Skips, by exact test id and with its reason, what skipped.tsv names."""
    listing = os.environ.get("GIT2KV_PY_CONSUL_SKIPPED")
    if not listing:
        return
    reasons = {}
    with open(listing, encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                test_id, reason = line.rstrip("\n").split("\t", 1)
                reasons[test_id] = reason
    unknown = set(reasons) - {item.nodeid for item in items}
    if unknown:
        raise pytest.UsageError(f"skipped.tsv names tests py-consul does not have: {sorted(unknown)}")
    for item in items:
        if item.nodeid in reasons:
            item.add_marker(pytest.mark.skip(reason=reasons[item.nodeid]))
