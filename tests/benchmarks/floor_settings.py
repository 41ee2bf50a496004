"""bench_floor.py's server: Signet's settings, with floor_urls.py's what-if endpoints."""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.floor_urls"
