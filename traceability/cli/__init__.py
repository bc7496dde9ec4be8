"""The `suyuan` command (protocol §7)."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from signing.bundle import verify_bundle
from signing.cosignature import WitnessPolicy
from signing.errors import VerificationError
from signing.note import Verifier

from .. import __version__
from ..clock import Clock, SystemClock
from ..settings import Settings
from ..storage.secrets import ADMIN_TOKEN_FILE
from .bundle_report import (
    EXIT_CODES_HELP,
    Outcome,
    cosigned_line,
    failure_json,
    outcome,
    print_report,
    report_json,
)
from .freshness import DEFAULT_MAX_AGE, Freshness, parse_duration
from .witness import app as witness_app

if TYPE_CHECKING:
    from ..services import Services

app = typer.Typer(help="Suyuan 溯源: produce traceability on a verifiable transparency log.", no_args_is_help=True)
app.add_typer(witness_app, name="witness")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
# What `verify BUNDLE` measures a bundle's age against; tests set a fixed one.
clock: Clock = SystemClock()


def _print_version(wanted: bool) -> None:
    if wanted:
        console.print(f"suyuan {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """Suyuan 溯源: produce traceability on a verifiable transparency log."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes sharing the database")] = 1,
) -> None:
    """Run the service (configuration from SUYUAN_* environment variables)."""
    from ..services import open_services

    # Create the schema and keys once, before any worker starts.
    services = open_services(_settings())
    _print_start(services)
    services.close()
    _run(host, port, workers)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Start the service on the embedded default with a seeded demo farm, and print the URLs to open."""
    from ..services import open_services
    from .demo import seed, sign_in_card

    # The demo's links should open where it listens (the server processes read this too).
    os.environ.setdefault("SUYUAN_PUBLIC_URL", f"http://{host}:{port}")

    services = open_services(_settings())
    seeded = seed(services)
    _print_start(services)
    base = services.settings.public_url
    console.print(f"\n[bold]Demo farm[/bold] ({seeded.note})")
    for label, lot in seeded.lots.items():
        console.print(f"  {label}: {base}/b/{lot}   (English: ?lang=en; QR: /b/{lot}/qr.svg; labels: /b/{lot}/labels)")
    console.print(f"  Regulators: {base}/audit (sign in with the regulator token in the file below)")
    console.print(f"  Grower app: {sign_in_card(services, seeded)} (王秀英's sign-in card: open the link on it)")
    console.print(f"  Log checkpoint: {base}/log/checkpoint")
    console.print(f"  API reference: {base}/docs")
    console.print(f"  Tokens of the demo accounts: {seeded.tokens_file}")
    console.print(f"\n  Audit it:  suyuan verify --server {base} --log-key '{services.log.signer.verifier_key()}'\n")
    services.close()
    _run(host, port, 1)


def _max_age(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command(epilog=EXIT_CODES_HELP)
def verify(
    log_key: Annotated[
        str, typer.Option("--log-key", help="The log's verifier key (GET /log/key), from a source you trust")
    ],
    bundle: Annotated[
        Path | None, typer.Argument(help="A proof bundle (GET /b/{lot}/proof.json) to check offline")
    ] = None,
    server: Annotated[str | None, typer.Option(help="Audit the whole log served at this URL")] = None,
    state: Annotated[
        Path | None, typer.Option(help="Monitor state: refuse a log that does not extend the one seen last time")
    ] = None,
    max_age: Annotated[
        str,
        typer.Option(
            help="With BUNDLE: warn, with where to fetch a fresh one, when its checkpoint is older than this (30m, 12h, 1d, 2w)"
        ),
    ] = DEFAULT_MAX_AGE,
    as_json: Annotated[bool, typer.Option("--json", help="With BUNDLE: print the report as JSON, for scripts")] = False,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help="A witness's verifier key (vkey) you trust; repeatable: the checkpoint must be cosigned by --quorum of them",
        ),
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(help="How many of the --witness keys must cosign (default: all of them)", min=1)
    ] = None,
) -> None:
    """Verify one lot's proof bundle offline and say what its records say, or audit a whole log from its public endpoints.

    A bundle verifies by its signatures and inclusion proofs, whatever its whitespace: one
    saved by a browser or passed through `jq .` verifies alike.
    """
    if (bundle is None) == (server is None):
        errors.print("give either BUNDLE or --server URL")
        raise typer.Exit(int(Outcome.USAGE))
    if as_json and server is not None:
        errors.print("--json goes with BUNDLE")
        raise typer.Exit(int(Outcome.USAGE))
    oldest = _max_age(max_age)
    try:
        verifier = Verifier.from_key_string(log_key)
        witnesses = _witness_policy(witness or [], quorum)
        if bundle is not None:
            raise typer.Exit(int(_verify_bundle(bundle, verifier, witnesses, oldest, max_age, as_json)))
        if server is not None:
            _verify_server(server, verifier, witnesses, state)
    except VerificationError as exc:
        # The only way out for a bundle that does not verify: no state of the lot is read
        # from it, so a recall it holds cannot turn this failure into another code.
        if as_json:
            console.print_json(data=failure_json(str(exc)))
        errors.print(f"[bold red]✗ verification failed:[/bold red] {escape(str(exc))}")
        raise typer.Exit(int(Outcome.FAILED)) from None


def _witness_policy(vkeys: list[str], quorum: int | None) -> WitnessPolicy | None:
    """The witnesses given on the command line and their quorum; None when none is given."""
    if not vkeys:
        if quorum is not None:
            errors.print("--quorum goes with --witness")
            raise typer.Exit(int(Outcome.USAGE))
        return None
    try:
        return WitnessPolicy.of(vkeys, quorum)
    except ValueError as exc:  # an impossible quorum (a bad vkey is a VerificationError)
        errors.print(f"--quorum: {exc}")
        raise typer.Exit(int(Outcome.USAGE)) from None


def _verify_bundle(
    path: Path,
    verifier: Verifier,
    witnesses: WitnessPolicy | None,
    max_age: timedelta,
    max_age_text: str,
    as_json: bool,
) -> Outcome:
    try:
        document = path.read_bytes()
    except OSError as exc:
        raise VerificationError(f"cannot read {path}: {exc.strerror}") from None
    verified = verify_bundle(document, verifier, witnesses)
    freshness = Freshness.of(verified, clock.now(), max_age, max_age_text)
    if as_json:
        console.print_json(data=report_json(verified, freshness))
        return outcome(verified.state)
    return print_report(console, verified, freshness)


def _verify_server(server: str, verifier: Verifier, witnesses: WitnessPolicy | None, state: Path | None) -> None:
    from .monitor import audit_log

    with (
        open_log_client(server) as client,
        Progress(
            TextColumn("verifying entries"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=True,
            disable=not sys.stderr.isatty(),
        ) as progress,
    ):
        task = progress.add_task("entries", total=None)
        report = audit_log(
            client, verifier, state, lambda done, total: progress.update(task, completed=done, total=total), witnesses
        )
    cp = report.checkpoint
    console.print(f"[green]✓[/green] checkpoint signed by {verifier.name}: tree size {cp.size}")
    if report.cosigned_by:
        console.print(f"[green]✓[/green] {escape(cosigned_line(report.cosigned_by))}")
    if report.previous_size is not None:
        console.print(f"[green]✓[/green] consistent with the checkpoint seen last time (size {report.previous_size})")
    checked = f"{report.entries} new entries" if report.previous_size is not None else f"{report.entries} entries"
    console.print(f"[green]✓[/green] {checked}: canonical, signed by registered unrevoked keys ({report.keys} keys)")
    console.print(f"[green]✓[/green] {report.lots} lot chains unbroken")
    console.print("[green]✓[/green] entries hash to the checkpoint's root")
    proofs = report.proofs
    console.print(
        f"[green]✓[/green] the server's proofs agree with its entries: {proofs.inclusion} inclusion proofs "
        f"spread over the log, {proofs.consistency} consistency proofs from older sizes"
    )
    console.print("[bold green]log verified[/bold green]")


def open_log_client(server: str) -> httpx.Client:
    """The client `verify --server` reads the log with (tests answer it in-process)."""
    return httpx.Client(base_url=server.rstrip("/"), timeout=60)


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        errors.print(f"[red]configuration error:[/red] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None


def _print_start(services: Services) -> None:
    settings = services.settings
    console.print(f"[bold]Suyuan 溯源[/bold] serving {settings.public_url}")
    console.print(f"  database: {settings.sqlalchemy_url.split('@')[-1]}")
    console.print(f"  log origin: {services.log.origin}")
    console.print(f"  log key: {services.log.signer.verifier_key()}")
    if not settings.admin_token:
        console.print(f"  admin token: in {settings.data_dir / ADMIN_TOKEN_FILE}")


def _run(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "traceability.web.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning"
    )


def main() -> None:
    app()
