"""A private redis-server (harness/redis_servers.py) for tests that stop, kill, restart or pause
Redis: the shared one on 6379 serves everyone else's suites and is never restarted. One per
test session on a fixed port; every test finds it running and empty."""
import pytest

from harness.redis_servers import PrivateRedis


@pytest.fixture(scope="session")
def _session_private_redis(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("private-redis")).start()
    yield server
    server.stop()


@pytest.fixture
def private_redis(_session_private_redis):
    server = _session_private_redis
    if server.process.poll() is not None:  # a test killed it
        server.start()
    import redis
    redis.Redis.from_url(server.url).flushall()
    yield server
    if server.process.poll() is not None:
        server.start()
