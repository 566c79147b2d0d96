"""Drives a Consul-compatible server with the python-consul client, unchanged.

Usage: python_consul_client.py PORT. Prints "ok" and exits 0 when every check passes;
otherwise prints what failed and exits 1.
"""
import json
import sys
import threading
import time

import consul
import consul.base


def check(condition, what):
    if not condition:
        print("FAILED: " + what)
        sys.exit(1)


def main(port):
    c = consul.Consul(host="127.0.0.1", port=port)

    # KV: put, get, flags, cas, recurse, keys, delete
    check(c.kv.put("py/a", "1") is True, "put py/a")
    check(c.kv.put("py/b", "2", flags=7) is True, "put py/b with flags")
    index, item = c.kv.get("py/a")
    check(item["Value"] == b"1", "get py/a value, got %r" % (item,))
    check(int(index) > 0, "X-Consul-Index on get")
    check(c.kv.get("py/b")[1]["Flags"] == 7, "flags of py/b")
    check(c.kv.put("py/a", "3", cas=item["ModifyIndex"]) is True, "cas with the current index")
    check(c.kv.put("py/a", "4", cas=item["ModifyIndex"]) is False, "cas with a stale index")
    check(c.kv.put("py/a", "5", cas=0) is False, "cas 0 on an existing key")
    check(c.kv.put("py/empty", "") is True, "put an empty value")
    check(c.kv.get("py/empty")[1]["Value"] is None, "an empty value comes back as null")
    _, items = c.kv.get("py/", recurse=True)
    check([i["Key"] for i in items] == ["py/a", "py/b", "py/empty"], "recurse, got %r" % (items,))
    _, keys = c.kv.get("py/", keys=True)
    check(keys == ["py/a", "py/b", "py/empty"], "keys, got %r" % (keys,))
    _, keys = c.kv.get("", keys=True, separator="/")
    check(keys == ["py/"], "keys with a separator, got %r" % (keys,))
    index, missing = c.kv.get("py/none")
    check(missing is None and int(index) > 0, "a missing key is None with an index")
    check(c.kv.delete("py/empty") is True, "delete")
    check(c.kv.get("py/empty")[1] is None, "deleted key is gone")

    # Blocking query woken by a write
    index, _ = c.kv.get("py/b")
    threading.Timer(0.3, lambda: c.kv.put("py/b", "changed")).start()
    started = time.time()
    new_index, item = c.kv.get("py/b", index=index, wait="10s")
    check(item["Value"] == b"changed" and int(new_index) > int(index), "blocking get woken by a write")
    check(time.time() - started < 5, "blocking get returned promptly")

    # Sessions and locks
    first = c.session.create(name="py-first", ttl=10)
    second = c.session.create(name="py-second", behavior="delete", lock_delay=0)
    check(c.kv.put("py/lock", "held", acquire=first) is True, "acquire with the first session")
    check(c.kv.put("py/lock", "taken", acquire=second) is False, "acquire held by another session")
    check(c.kv.get("py/lock")[1]["Session"] == first, "the lock names its session")
    check(c.kv.put("py/lock", "free", release=first) is True, "release")
    check(c.kv.get("py/lock")[1].get("Session") is None, "released lock has no session")
    _, info = c.session.info(first)
    check(info["ID"] == first and info["Name"] == "py-first" and info["TTL"] == "10s", "session info, got %r" % (info,))
    check(c.session.renew(first)["ID"] == first, "renew")
    _, sessions = c.session.list()
    check(sorted(s["ID"] for s in sessions) == sorted([first, second]), "session list")
    check(c.kv.put("py/ephemeral", "x", acquire=second) is True, "acquire with a delete-behaviour session")
    check(c.session.destroy(second) is True, "destroy")
    check(c.kv.get("py/ephemeral")[1] is None, "destroying a delete-behaviour session deletes its keys")
    check(c.session.info(second)[1] is None, "a destroyed session is gone")

    # Transactions, through the client's own HTTP layer (python-consul 0.7 has no Txn wrapper)
    def txn(ops):
        return c.http.put(lambda r: (r.code, json.loads(r.body)), "/v1/txn", data=json.dumps(ops))

    code, body = txn([
        {"KV": {"Verb": "set", "Key": "py/t1", "Value": "dGhyZWU="}},
        {"KV": {"Verb": "get", "Key": "py/b"}},
    ])
    check(code == 200 and len(body["Results"]) == 2 and body["Errors"] is None, "txn applied, got %r" % (body,))
    check(c.kv.get("py/t1")[1]["Value"] == b"three", "txn set value")
    code, body = txn([
        {"KV": {"Verb": "set", "Key": "py/t2", "Value": "eA=="}},
        {"KV": {"Verb": "check-not-exists", "Key": "py/t1"}},
    ])
    check(code == 409 and body["Errors"][0]["OpIndex"] == 1 and body["Results"] is None, "txn rolled back, got %r" % (body,))
    check(c.kv.get("py/t2")[1] is None, "nothing of a rolled-back txn is applied")

    # Catalog and health
    check(c.catalog.register("node-1", "10.1.0.1",
                             service={"Service": "web", "ID": "web-1", "Port": 80, "Tags": ["blue"]},
                             check={"CheckID": "web-1-alive", "Name": "alive", "Status": "passing", "ServiceID": "web-1"}),
          "catalog register node-1")
    check(c.catalog.register("node-2", "10.1.0.2",
                             service={"Service": "web", "ID": "web-2", "Port": 80},
                             check={"CheckID": "web-2-alive", "Name": "alive", "Status": "critical", "ServiceID": "web-2"}),
          "catalog register node-2")
    _, services = c.catalog.services()
    check(services == {"consul": [], "web": ["blue"]}, "catalog services (the server's own consul service included), got %r" % (services,))
    _, nodes = c.catalog.nodes()
    check([n["Node"] for n in nodes] == ["git2kv-kv-server", "node-1", "node-2"], "catalog nodes (the server's own first), got %r" % (nodes,))
    _, instances = c.catalog.service("web")
    check(sorted(i["ServiceID"] for i in instances) == ["web-1", "web-2"], "catalog service, got %r" % (instances,))
    _, healthy = c.health.service("web", passing=True)
    check([h["Node"]["Node"] for h in healthy] == ["node-1"], "health passing, got %r" % (healthy,))
    check(c.catalog.deregister("node-2") is True, "catalog deregister")
    check([n["Node"] for n in c.catalog.nodes()[1]] == ["git2kv-kv-server", "node-1"], "deregistered node is gone")

    print("ok")


if __name__ == "__main__":
    main(int(sys.argv[1]))
