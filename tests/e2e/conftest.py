"""Fixtures of the browser tests: a real WaterMIS server with the demo company, and Chromium.

The server runs in a subprocess against its OWN database, never pytest-django's
test database (live_server would flush tables, and the audit tables refuse
DELETE by trigger). On SQLite the database lives in a temporary data directory;
when the environment's DATABASE_URL points at PostgreSQL, a fresh database
``watermis_e2e_<pid>`` is created on that server and dropped at teardown.

Nothing here requests pytest-django's ``db`` fixture.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MANAGE = REPO_ROOT / "manage.py"
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"
DEMO_PASSWORD = "Water2026"
STARTUP_TIMEOUT = 30  # seconds until the server must answer /login/
COMMAND_TIMEOUT = 600  # seconds for migrate / load_demo: a hang, not a speed check (a loaded machine took over 180)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, limit=6000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def _run_manage(args, env, log_dir):
    """Run a management command to completion; fail the test run with its output if it fails."""
    name = args[0]
    out, err = log_dir / f"{name}.out", log_dir / f"{name}.err"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.run(
            [sys.executable, str(MANAGE), *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=fo,
            stderr=fe,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    if proc.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} failed (exit {proc.returncode}).\n"
            f"--- stdout ---\n{_tail(out)}\n--- stderr ---\n{_tail(err)}",
            pytrace=False,
        )


class _PostgresDatabase:
    """A throw-away database on the server of the environment's DATABASE_URL."""

    def __init__(self, base_url):
        import psycopg

        self.psycopg = psycopg
        parts = urlsplit(base_url)
        self.name = f"watermis_e2e_{os.getpid()}"
        # Administrative connection: the "postgres" maintenance database of the same server.
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))

    def _execute(self, sql):
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def create(self):
        self.drop()  # a leftover of an earlier run with the same pid
        self._execute(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def e2e_server():
    """Base URL of a running WaterMIS server loaded with the demo company."""
    base_db_url = os.environ.get("DATABASE_URL", "")
    tmp = Path(tempfile.mkdtemp(prefix="watermis-e2e-"))
    env = dict(os.environ)
    env["WATERMIS_DATA_DIR"] = str(tmp / "data")
    env["WATERMIS_DEBUG"] = "1"
    env["WATERMIS_TESTING"] = "1"  # fast password hashing for the demo operators
    env["DJANGO_SETTINGS_MODULE"] = "watermis.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("WATERMIS_SECRET_KEY", None)

    pg = None
    if base_db_url.startswith(("postgres://", "postgresql://")):
        pg = _PostgresDatabase(base_db_url)
        pg.create()
        env["DATABASE_URL"] = pg.url
    else:
        env.pop("DATABASE_URL", None)

    server = None
    try:
        _run_manage(["migrate", "--no-input"], env, tmp)
        _run_manage(["load_demo"], env, tmp)

        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        server_out = open(tmp / "server.out", "wb")  # noqa: SIM115 - closed at teardown
        server_err = open(tmp / "server.err", "wb")  # noqa: SIM115
        server = subprocess.Popen(
            [sys.executable, str(MANAGE), "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO_ROOT,
            env=env,
            stdout=server_out,
            stderr=server_err,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"The server exited (code {server.returncode}) before answering.\n"
                    f"--- stderr ---\n{_tail(tmp / 'server.err')}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{base_url}/login/", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The server did not answer {base_url}/login/ within {STARTUP_TIMEOUT} s.\n"
                    f"--- stderr ---\n{_tail(tmp / 'server.err')}",
                    pytrace=False,
                )
            time.sleep(0.2)

        yield base_url
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
            server_out.close()
            server_err.close()
        if pg is not None:
            pg.drop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium. Missing Chromium is a failure: the project's setup installs it."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(
            "Chromium is not installed (looked for `chromium` on PATH and /usr/bin/chromium). "
            "The project's setup installs it: apt-get install chromium.",
            pytrace=False,
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser, e2e_server):
    """Factory of pages, each in a fresh browser context (own cookies) that speaks Chinese."""
    contexts = []

    def make(locale="zh-CN"):
        context = browser.new_context(
            base_url=e2e_server,
            locale=locale,
            viewport={"width": 1366, "height": 800},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def login(new_page):
    """Sign in as a demo operator; returns the page on the home page."""

    def do(username, password=DEMO_PASSWORD, page=None, locale="zh-CN"):
        page = page or new_page(locale=locale)
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("#login-submit")
        return page

    return do


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
