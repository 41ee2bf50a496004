"""Signet on Redis Sentinel, with a failover in the middle.

Real processes on loopback: a redis-server master, a replica of it, three
redis-sentinel processes watching them, and Signet under gunicorn told only
where the sentinels are (REDIS_SENTINELS; its REDIS_URL names a closed port,
so it gives only the data nodes' password and the database). A challenge and a rate limit
are started, the master changes (a forced `SENTINEL FAILOVER`, or the master
killed), and once the sentinels agree on the new one, the same gunicorn
serves both again: the old challenge verifies, the spent limit still refuses,
new ones count on the new master.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import pytest
import redis
import requests

from tests.system._client import ApiClient, signed
from tests.system._servers import (
    HOST,
    ROOT,
    _die_with_parent,
    _tail,
    _terminate,
    free_port,
    wait_until,
)
from tests.wallets.conftest import EvmWallet

MASTER_NAME = "signet-master"
# The data nodes want a password, the sentinels not: REDIS_URL carries it.
PASSWORD = "redis-" + "p" * 20
DB = 2
QUORUM = 2
FAILOVER_BOUND = 40.0  # detection (1 s) + election + promotion, on a busy 2-core box
KEY_LIMIT = 3  # wrong passwords per account per minute


@dataclass
class Node:
    """One redis-server or redis-sentinel process on a free loopback port."""

    base: Path
    args: list[str]
    sentinel: bool = False
    password: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> Node:
        kind = "sentinel" if self.sentinel else "redis"
        log = self.base / f"{kind}-{self.port}.log"
        if self.sentinel:
            # A sentinel rewrites its configuration file: one of its own.
            conf = self.base / f"sentinel-{self.port}.conf"
            conf.write_text("\n".join([f"port {self.port}", f"bind {HOST}", *self.args]) + "\n")
            command = ["redis-server", str(conf), "--sentinel"]
        else:
            command = ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", ""]
            command += ["--appendonly", "no", "--dir", str(self.base), *self.args]
            # masterauth too: a master the failover demotes must follow the new one.
            command += ["--requirepass", PASSWORD, "--masterauth", PASSWORD]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        if not wait_until(self._pings, 10):
            raise RuntimeError(f"{kind} on {self.port} did not start:\n{_tail(log)}")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(
            host=HOST,
            port=self.port,
            db=0 if self.sentinel else DB,
            password=None if self.sentinel else PASSWORD,
            socket_timeout=2,
            decode_responses=True,
        )

    def _pings(self) -> bool:
        try:
            return self.client().ping()
        except redis.RedisError:
            return False

    def role(self) -> str | None:
        try:
            return self.client().execute_command("ROLE")[0]
        except redis.RedisError:
            return None

    def stop(self) -> None:
        _terminate(self.process)


@dataclass
class SentinelSetup:
    master: Node
    replica: Node
    sentinels: list[Node]

    @property
    def addresses(self) -> str:
        return ",".join(f"{HOST}:{s.port}" for s in self.sentinels)

    def masters_seen(self) -> set[int | None]:
        """The master's port as each sentinel has it."""
        ports = set()
        for sentinel in self.sentinels:
            try:
                address = sentinel.client().sentinel_get_master_addr_by_name(MASTER_NAME)
                ports.add(int(address[1]) if address else None)
            except redis.RedisError:
                ports.add(None)
        return ports

    def ready(self) -> bool:
        """Every sentinel knows the master, the replica (linked) and both others."""
        try:
            for sentinel in self.sentinels:
                c = sentinel.client()
                replicas = c.sentinel_slaves(MASTER_NAME)
                if len(c.sentinel_sentinels(MASTER_NAME)) != len(self.sentinels) - 1:
                    return False
                if [r["port"] for r in replicas if r.get("master-link-status") == "ok"] != [
                    self.replica.port
                ]:
                    return False
            return self.masters_seen() == {self.master.port}
        except redis.RedisError:
            return False


@pytest.fixture
def sentinel_setup(system_dir: Path) -> Iterator[SentinelSetup]:
    base = system_dir / f"sentinel-{free_port()}"
    base.mkdir()
    nodes: list[Node] = []
    try:
        master = Node(base, []).start()
        nodes.append(master)
        replica = Node(base, ["--replicaof", HOST, str(master.port)]).start()
        nodes.append(replica)
        watch = [
            f"sentinel monitor {MASTER_NAME} {HOST} {master.port} {QUORUM}",
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
            f"sentinel failover-timeout {MASTER_NAME} 10000",
            f"sentinel auth-pass {MASTER_NAME} {PASSWORD}",
            f"dir {base}",
        ]
        sentinels = []
        for _ in range(3):
            sentinels.append(Node(base, watch, sentinel=True).start())
            nodes.append(sentinels[-1])
        setup = SentinelSetup(master, replica, sentinels)
        # Sentinels find the replica at once, each other within a few hellos (2 s).
        assert wait_until(setup.ready, 30, 0.2), "the sentinels never agreed on the setup"
        yield setup
    finally:
        for node in reversed(nodes):
            node.stop()


def _challenge(client: ApiClient, wallet: EvmWallet) -> requests.Response:
    return client.post(
        "/auth/wallet/challenge",
        {"chain": wallet.chain, "address": wallet.address, "process": "login"},
    )


def _wrong_passwords(server, email: str, times: int) -> list[int]:
    return [ApiClient(server).login(email, "wrong password").status_code for _ in range(times)]


def _fail_over(setup: SentinelSetup, how: str) -> None:
    if how == "forced":
        setup.sentinels[0].client().execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
    else:
        os.kill(setup.master.process.pid, signal.SIGKILL)
        setup.master.process.wait(10)

    def settled() -> bool:
        if setup.masters_seen() != {setup.replica.port} or setup.replica.role() != "master":
            return False
        # Forced: the old master lives on, and takes writes until the sentinels
        # have turned it into a replica of the new one.
        return how != "forced" or setup.master.role() == "slave"

    assert wait_until(settled, FAILOVER_BOUND, 0.2), (
        f"no new master within {FAILOVER_BOUND} s: sentinels see {setup.masters_seen()}"
    )


@pytest.mark.parametrize("how", ["forced", "master_killed"])
def test_challenges_and_rate_limits_survive_a_failover(signet_server, sentinel_setup, how):
    setup = sentinel_setup
    server = signet_server(
        # Nothing listens at that address: only the password and database count.
        REDIS_URL=f"redis://:{PASSWORD}@{HOST}:{free_port()}/{DB}",
        REDIS_SENTINELS=setup.addresses,
        REDIS_SENTINEL_MASTER=MASTER_NAME,
        ACCOUNT_RATE_LIMITS=f"login_failed=100/m/ip,{KEY_LIMIT}/m/key",
    )
    pids = server.worker_pids()
    assert requests.get(server.url("/health"), timeout=15).status_code == HTTPStatus.OK

    holder, wallet = ApiClient(server), EvmWallet()
    signed_in = holder.wallet_sign_in(wallet)
    assert signed_in.status_code == HTTPStatus.OK, signed_in.text
    user = signed_in.json()["data"]["user"]["id"]
    pending = _challenge(ApiClient(server), wallet)
    assert pending.status_code == HTTPStatus.OK
    assert ApiClient(server).signup("spent@example.com").status_code == HTTPStatus.OK
    refused = [HTTPStatus.BAD_REQUEST] * KEY_LIMIT + [HTTPStatus.TOO_MANY_REQUESTS]
    assert _wrong_passwords(server, "spent@example.com", KEY_LIMIT + 1) == refused
    prefix = server.redis_prefix
    assert any(setup.master.client().scan_iter(match=f"{prefix}:*")), "nothing on the master"
    # Replication is asynchronous: what the failover must carry over, replicated first.
    assert setup.master.client().wait(1, 5000) == 1

    _fail_over(setup, how)

    new_master = setup.replica.client()
    before = set(new_master.scan_iter(match=f"{prefix}:*"))
    # The challenge issued before the failover is verified, once, after it.
    verify = signed(wallet, pending.json()["data"]["message"])
    verified = ApiClient(server).post("/auth/wallet/verify", verify)
    assert verified.status_code == HTTPStatus.OK, verified.text
    assert verified.json()["data"]["user"]["id"] == user
    assert ApiClient(server).post("/auth/wallet/verify", verify).status_code != HTTPStatus.OK
    # Every worker reaches the new master (each has its own connections).
    for _ in range(3 * server.workers):
        assert _challenge(ApiClient(server), EvmWallet()).status_code == HTTPStatus.OK
    assert set(new_master.scan_iter(match=f"{prefix}:*")) - before, "not written to new master"
    # The spent limit still refuses; a fresh one counts, on the new master, to its end.
    assert _wrong_passwords(server, "spent@example.com", 1) == [HTTPStatus.TOO_MANY_REQUESTS]
    assert ApiClient(server).signup("fresh@example.com").status_code == HTTPStatus.OK
    assert _wrong_passwords(server, "fresh@example.com", KEY_LIMIT + 1) == refused
    assert requests.get(server.url("/health"), timeout=15).status_code == HTTPStatus.OK
    assert server.worker_pids() == pids  # the same gunicorn throughout, nothing restarted


def test_a_malformed_sentinel_list_stops_start_up_naming_it():
    env = {**os.environ, "REDIS_SENTINELS": "sentinel-0:26379,sentinel-1"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "REDIS_SENTINELS: 'sentinel-1' is not host:port" in result.stderr
