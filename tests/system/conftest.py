"""Session fixtures for the system tests: private PostgreSQL and Redis, and a
factory of Signet servers (gunicorn, several workers) on top of them.

Each server gets a database copied from a migrated template (CREATE DATABASE
... TEMPLATE is near-instant, a migrate run is not) and its own Redis key
prefix, so tests never see each other's state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.system._servers import (
    Postgres,
    RedisServer,
    SignetServer,
    migrate,
    server_environment,
    start_postgres,
    unique,
)

ServerFactory = Callable[..., SignetServer]


@pytest.fixture(scope="session")
def system_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are private to root, and the
    # PostgreSQL cluster inside runs as the postgres user.
    path = Path(tempfile.mkdtemp(prefix="signet-system-"))
    yield path
    import shutil

    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(system_dir: Path) -> Iterator[Postgres]:
    base = Path(tempfile.mkdtemp(prefix="signet-pg-"))
    server = start_postgres(base)
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server(system_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(system_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def template_database(postgres: Postgres, redis_server: RedisServer, system_dir: Path):
    name = unique("signet_template")
    postgres.create_database(name)
    env = server_environment(
        database_url=postgres.url(name),
        redis_url=redis_server.url,
        redis_prefix=unique("migrate"),
        mail_dir=system_dir,
        wallet_domains="localhost",
        overrides={},
    )
    migrate(env)
    yield name
    postgres.drop_database(name)


@pytest.fixture(scope="module")
def signet_server(
    postgres: Postgres, redis_server: RedisServer, template_database: str, system_dir: Path
) -> Iterator[ServerFactory]:
    """`signet_server(**env)` starts a server and returns it once /health/live answers.

    - `database=`: share another server's database (replicas); default a fresh copy;
    - `redis=` (a RedisServer) and `prefix=`: which Redis and key prefix;
    - `workers=`, `wallet_domains=`; any other keyword is an environment variable.

    Servers stop, and their databases are dropped, when the module is done.
    """
    started: list[SignetServer] = []
    created: list[str] = []

    def start(
        *,
        database: str | None = None,
        redis: RedisServer | None = None,
        prefix: str | None = None,
        workers: int = 3,
        wallet_domains: str | None = None,
        **overrides: str,
    ) -> SignetServer:
        if database is None:
            database = unique("signet_system")
            postgres.create_database(database, template=template_database)
            created.append(database)
        redis = redis or redis_server
        mail_dir = Path(tempfile.mkdtemp(prefix="mail-", dir=system_dir))
        server = SignetServer(
            env={}, base=system_dir, database=database, mail_dir=mail_dir, workers=workers
        )
        server.env = server_environment(
            database_url=postgres.url(database),
            redis_url=redis.url,
            redis_prefix=prefix or unique("signet"),
            mail_dir=mail_dir,
            wallet_domains=wallet_domains or f"127.0.0.1:{server.port}",
            overrides=overrides,
        )
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
    for database in created:
        postgres.drop_database(database)
