"""Lighthouse (tools/lighthouse, pinned by its package-lock.json) run on Debian's /usr/bin/chromium.

    result = run_lighthouse(url)                  # mobile emulation, simulated throttling (Lighthouse's default)
    result["accessibility"]                       # 0.0 … 1.0; `result` is the dict of the four category scores
    assert result["seo"] == 1, result.failure_message("seo")
    result.failed_audits("accessibility")         # titles of the audits that cost points, heaviest first

Lighthouse never downloads a browser here: CHROME_PATH points chrome-launcher at /usr/bin/chromium.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# The network is closed: without these Chromium keeps trying (and failing) to reach Google's services.
# Root needs --no-sandbox. --disable-dev-shm-usage keeps shared memory in TMPDIR when /dev/shm is small.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
LIGHTHOUSE_DIR = ROOT / "tools" / "lighthouse"
LIGHTHOUSE_CLI = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FORM_FACTORS = ("mobile", "desktop")
PASS_THRESHOLD = 0.9  # Lighthouse's own: an audit scoring below it is shown as failing


class LighthouseError(RuntimeError):
    """Lighthouse could not produce scores (missing tools, Chromium failed, the page did not load)."""


class LighthouseResult(dict[str, float]):
    """The category scores, {"performance": 0.97, "accessibility": 1.0, ...}, with the full report at hand."""

    def __init__(self, report: dict, stderr: str = "") -> None:
        super().__init__({cid: float(cat["score"]) for cid, cat in report["categories"].items()})
        self.report = report  # the whole Lighthouse JSON (LHR)
        self.stderr = stderr

    @property
    def scores(self) -> dict[str, float]:
        return dict(self)

    def _failing(self, category: str) -> list[tuple[float, dict]]:
        refs = self.report["categories"][category]["auditRefs"]
        failing = []
        for ref in refs:
            audit = self.report["audits"][ref["id"]]
            mode = audit.get("scoreDisplayMode")
            if mode == "error" or (
                mode in ("binary", "numeric", "metricSavings")
                and audit.get("score") is not None
                and audit["score"] < PASS_THRESHOLD
            ):
                failing.append((ref.get("weight", 0), audit))
        failing.sort(key=lambda item: -item[0])  # stable: the report's order among equal weights
        return failing

    def failed_audits(self, category: str) -> list[str]:
        """Titles of the audits of `category` below Lighthouse's pass mark (or that errored), heaviest first."""
        return [audit["title"] for _, audit in self._failing(category)]

    def failure_message(self, category: str) -> str:
        """One line per failing audit, with its score and measured value: for an assertion's message."""
        lines = [f"Lighthouse {category} score {self[category]:.2f} for {self.report.get('finalDisplayedUrl')}:"]
        for weight, audit in self._failing(category):
            detail = audit.get("errorMessage") or audit.get("displayValue") or ""
            score = "error" if audit.get("scoreDisplayMode") == "error" else f"{audit['score']:.2f}"
            lines.append(f"  - {audit['title']} [{audit['id']}; score {score}; weight {weight}] {detail}".rstrip())
        if len(lines) == 1:
            lines.append("  (no failing audit)")
        return "\n".join(lines)


def run_lighthouse(
    url: str,
    *,
    form_factor: str = "mobile",
    categories: tuple[str, ...] = CATEGORIES,
    timeout: float = 240,
    headers: dict[str, str] | None = None,
) -> LighthouseResult:
    """Run Lighthouse on `url` in a fresh headless Chromium with a temporary profile, removed afterwards.

    `form_factor="mobile"` is Lighthouse's default (Moto G Power emulation, simulated slow 4G and 4x CPU);
    "desktop" is its desktop preset. Raises LighthouseError when no scores could be had.
    """
    if form_factor not in FORM_FACTORS:
        raise ValueError(f"form_factor must be one of {FORM_FACTORS}, not {form_factor!r}")
    node = shutil.which("node")
    if node is None:
        raise LighthouseError("node is not on PATH")
    if not LIGHTHOUSE_CLI.exists():
        raise LighthouseError(f"{LIGHTHOUSE_CLI} is missing: run `npm ci` in {LIGHTHOUSE_DIR} (.ci/run does)")
    if not os.access(CHROMIUM, os.X_OK):
        raise LighthouseError(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")

    with tempfile.TemporaryDirectory(prefix="suyuan-lighthouse-", ignore_cleanup_errors=True) as tmp:
        profile = Path(tmp) / "profile"
        # chrome-launcher splits --chrome-flags with yargs-parser, which honours double quotes.
        chrome_flags = " ".join([*CHROMIUM_FLAGS, "--headless=new", f'--user-data-dir="{profile}"'])
        command = [
            node,
            str(LIGHTHOUSE_CLI),
            url,
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            f"--only-categories={','.join(categories)}",
            f"--chrome-flags={chrome_flags}",
            "--no-enable-error-reporting",
        ]
        if form_factor == "desktop":
            command.append("--preset=desktop")
        if headers:  # e.g. a session cookie, for pages behind a sign-in
            command.append(f"--extra-headers={json.dumps(headers)}")
        env = {
            **os.environ,
            "CHROME_PATH": CHROMIUM,
            "PUPPETEER_SKIP_DOWNLOAD": "1",
            "TMPDIR": tmp,  # chrome-launcher's own scratch directory and Chromium's shared memory land here too
            "XDG_CONFIG_HOME": str(Path(tmp) / "config"),  # Lighthouse's configstore, not ~/.config
        }
        process = subprocess.Popen(
            command,
            cwd=LIGHTHOUSE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            stdout, stderr = process.communicate()
            raise LighthouseError(f"Lighthouse took over {timeout}s on {url}:\n{_tail(stderr)}") from None
        finally:
            _kill_group(process.pid)
            _kill_chromium_using(profile)  # chrome-launcher starts Chromium in a process group of its own

    text_err = stderr.decode(errors="replace")
    report = _parse_report(stdout.decode(errors="replace"))
    if report is None:
        raise LighthouseError(f"Lighthouse printed no report for {url} (exit {process.returncode}):\n{_tail(stderr)}")
    if report.get("runtimeError"):
        error = report["runtimeError"]
        raise LighthouseError(f"Lighthouse could not audit {url}: {error.get('code')}: {error.get('message')}")
    missing = [c for c in categories if report.get("categories", {}).get(c, {}).get("score") is None]
    if missing:
        warnings = "\n".join(report.get("runWarnings", []))
        raise LighthouseError(f"Lighthouse gave no score for {missing} on {url}:\n{warnings}\n{_tail(stderr)}")
    # A nonzero exit after a complete report is chrome-launcher failing to clean up (e.g. as root): harmless.
    return LighthouseResult(report, text_err)


def _parse_report(stdout: str) -> dict | None:
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        report, _ = json.JSONDecoder().raw_decode(stdout, start)
    except json.JSONDecodeError:
        return None
    return report if isinstance(report, dict) and "categories" in report else None


def _tail(stderr: bytes, lines: int = 30) -> str:
    return "\n".join(stderr.decode(errors="replace").splitlines()[-lines:])


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _kill_chromium_using(profile: Path) -> None:
    """SIGKILL what is left of the Chromium (and its crashpad handler) that ran on `profile`, unique to this run."""
    needle = str(profile).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
                pids.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _is_zombie(pid)]
        time.sleep(0.05)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True
