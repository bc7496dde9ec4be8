"""`suyuan witness serve|key`: run a witness (protocol §8), or print its vkey."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from signing.cosignature import Cosigner
from signing.errors import VerificationError
from signing.note import Verifier

from ..storage.secrets import KeyFileError
from ..witness.witness import Witness, load_or_create_cosigner

app = typer.Typer(help="A witness: cosigns a log's checkpoints that extend the ones it cosigned.", no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DataOption = Annotated[Path, typer.Option("--data", help="The witness's data dir: its key and each log's state")]
NameOption = Annotated[str, typer.Option("--name", help="The witness's key name, e.g. witness.example.org/w1")]


@app.command()
def serve(
    data: DataOption,
    name: NameOption,
    log: Annotated[list[str], typer.Option("--log", help="The verifier key (vkey) of a log to witness; repeatable")],
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8100,
) -> None:
    """Run the witness: POST /add-checkpoint, GET /witness/key (c2sp.org/tlog-witness)."""
    import uvicorn

    from ..witness.app import create_app

    try:
        witness = Witness(_cosigner(data, name), [Verifier.from_key_string(vkey) for vkey in log], data)
    except (VerificationError, ValueError) as exc:
        _fail(str(exc))
    console.print(f"[bold]Suyuan witness[/bold] on http://{host}:{port}")
    console.print(f"  key: {witness.cosigner.key_string()}")
    for key in witness.logs:
        console.print(f"  witnessing: {key.name}")
    uvicorn.run(create_app(witness), host=host, port=port, log_level="warning")


@app.command()
def key(data: DataOption, name: NameOption) -> None:
    """Print the witness's verifier key (vkey), making the key at first use."""
    console.print(_cosigner(data, name).key_string(), markup=False, highlight=False)


def _cosigner(data: Path, name: str) -> Cosigner:
    try:
        return load_or_create_cosigner(data, name)
    except (KeyFileError, ValueError) as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]witness:[/red] {escape(message)}")
    raise typer.Exit(2)
