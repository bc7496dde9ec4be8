"""What `suyuan verify BUNDLE` reports: the integrity result, then what the verified records
say of the lot (protocol §3, §11), then how old the bundle is; and its exit code.

Everything here is read from a `VerifiedBundle`, so nothing is reported that no signature
covers; a bundle that fails verification gets no report of the lot at all (exit 1): what an
unverified bundle says is not evidence, and a recall in it must not hide the failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from rich.console import Console
from rich.markup import escape

from signing.bundle import VerifiedBundle
from signing.encoding import b64encode
from signing.lot_state import RECALLED, Concern, LotState, describe
from signing.payloads import BY_PLATFORM, ON_PHONE, OWN_KEY, LotRecord, subject_name

from .freshness import Freshness, in_words


class Outcome(IntEnum):
    """The exit codes of `suyuan verify BUNDLE`: the worst that applies."""

    VERIFIED = 0  # the bundle verifies and its records raise no concern
    FAILED = 1  # the bundle does not verify: nothing it says can be relied on
    USAGE = 2  # the command line is wrong (typer's own code)
    RECALLED = 3  # verifies; the lot, or a lot it was made from, is recalled
    BLOCKING = 4  # verifies; a pre-harvest interval violation or a failed inspection (no recall)
    CONCERNS = 5  # verifies; only other concerns: a harvest before planting, more out than in


EXIT_CODES_HELP = (
    "Exit codes with BUNDLE: 0 verified and nothing of concern; 1 verification failed; 2 usage error; "
    "3 verified, and the lot or a lot it was made from is recalled; 4 verified, with a blocking concern "
    "(harvest inside a pesticide's pre-harvest interval, failed inspection); 5 verified, with other "
    "concerns only (harvest before planting, more left the lot than entered it). "
    "With --server: 0 verified, 1 failed, 2 usage error."
)


def outcome(state: LotState) -> Outcome:
    if state.recalls:
        return Outcome.RECALLED
    if state.blocking:
        return Outcome.BLOCKING
    if state.concerns:
        return Outcome.CONCERNS
    return Outcome.VERIFIED


_VERDICTS = {
    Outcome.VERIFIED: "[bold green]lot {lot} verified[/bold green]: nothing of concern in its records",
    Outcome.RECALLED: "[bold red]lot {lot} verified, and RECALLED[/bold red]",
    Outcome.BLOCKING: "[bold red]lot {lot} verified, with a blocking concern[/bold red]",
    Outcome.CONCERNS: "[bold yellow]lot {lot} verified, with concerns[/bold yellow]",
}


def print_report(console: Console, verified: VerifiedBundle, freshness: Freshness) -> Outcome:
    state = verified.state
    _integrity(console, verified)
    _what_the_records_say(console, verified, state)
    _age(console, verified.lot, freshness)
    result = outcome(state)
    console.print("\n" + _VERDICTS[result].format(lot=escape(verified.lot)))
    return result


def _integrity(console: Console, verified: VerifiedBundle) -> None:
    checkpoint, records = verified.checkpoint, verified.records
    last = records[-1]
    sources = {lot: chain for lot, chain in verified.chains.items() if lot != verified.lot}
    console.print("[bold]Integrity[/bold]")
    console.print(f"  [green]✓[/green] checkpoint signed by {escape(checkpoint.origin)} (tree size {checkpoint.size})")
    if verified.cosigned_by:
        console.print(f"  [green]✓[/green] {escape(cosigned_line(verified.cosigned_by))}")
    included = f"{_count(len(records), 'record')} of lot {escape(verified.lot)}"
    if sources:
        included += f", {sum(map(len, sources.values()))} of the {_count(len(sources), 'lot')} it was made from"
    if verified.derived:
        included += f", {_count(len(verified.derived), 'lot')} made from it"
    console.print(f"  [green]✓[/green] {included}: each included in that tree")
    console.print(
        f"  [green]✓[/green] signatures by {_count(verified.keys_checked, 'registered key')}; "
        f"chain unbroken through seq {last.seq} (entry {last.index})"
    )
    for signer in signers(verified):
        console.print(
            f"  [dim]•[/dim] {escape(signer['name'])}: {_count(signer['records'], 'record')}, signed {_HOW[signer['how']]}"
        )
    console.print(f"  [bold green]lot {escape(verified.lot)} verified[/bold green]")


# How a key's records were signed, as its key entry says (protocol §9).
_HOW = {
    ON_PHONE: "on their own phone (a key the server never held)",
    OWN_KEY: "with their own key (a key the server never held)",
    BY_PLATFORM: "by the platform on their behalf (a key the server holds)",
}


def signers(verified: VerifiedBundle) -> list[dict[str, Any]]:
    """Who signed the lot's records, with how and how many, in the order they first signed."""
    counts: dict[str, int] = {}
    for record in verified.records:
        counts[record.signer] = counts.get(record.signer, 0) + 1
    return [
        {"keyid": keyid, "name": _signer(verified, keyid), "how": verified.how.get(keyid, BY_PLATFORM), "records": n}
        for keyid, n in counts.items()
    ]


def _what_the_records_say(console: Console, verified: VerifiedBundle, state: LotState) -> None:
    console.print("\n[bold]What the records say[/bold]")
    for recall in state.recalls:
        console.print(f"  [bold red]✗ {escape(_recall_sentence(verified, recall))}[/bold red]")
    for concern in state.concerns:
        if concern.code != RECALLED:
            style = "red" if concern.blocking else "yellow"
            console.print(f"  [{style}]✗ {escape(describe(concern))}[/{style}]")
    if not state.concerns:
        console.print("  [green]✓[/green] no recall, and no concern in the records")
    for cleared in state.cleared:
        by = "; ".join(f"correction seq {c.seq}: {c.data.get('reason', '')}" for c in cleared.corrections)
        console.print(f"  [green]✓[/green] cleared by a correction: {escape(describe(cleared.concern))} ({escape(by)})")
    for seq, correction in sorted(state.corrections.items()):
        console.print(f"  [dim]•[/dim] {escape(_correction_sentence(state, seq, correction))}")
    console.print(f"  {_certificate_sentence(verified, state)}")


def _recall_sentence(verified: VerifiedBundle, recall: Concern) -> str:
    p = recall.params
    whose = "" if recall.lot == verified.lot else f" (lot {recall.lot}, which this lot was made from)"
    return f"RECALLED{whose} on {p['date']} by {_signer(verified, p['by'])}: {p['reason']}"


def _correction_sentence(state: LotState, seq: int, correction: LotRecord) -> str:
    original = next(r for r in state.records if r.seq == seq)
    done = "corrected" if correction.data.get("replacement") is not None else "voided"
    return f"record seq {seq} ({original.type}) {done} by seq {correction.seq}: {correction.data.get('reason', '')}"


def _certificate_sentence(verified: VerifiedBundle, state: LotState) -> str:
    certificate = state.certificate
    if certificate is None:
        return "[dim]•[/dim] no certificate (承诺达标合格证) issued"
    issued = escape(
        f"certificate (承诺达标合格证) issued on {certificate.occurred_at.date().isoformat()} "
        f"by {_signer(verified, certificate.signer)}"
    )
    if state.certificate_withdrawn:
        return f"[bold red]✗ {issued}, WITHDRAWN: the concerns above mean it no longer covers this lot[/bold red]"
    return f"[green]✓[/green] {issued}"


def _age(console: Console, lot: str, freshness: Freshness) -> None:
    console.print("\n[bold]As of[/bold]")
    as_of = freshness.as_of.strftime("%Y-%m-%d %H:%M:%S UTC")
    console.print(f"  the bundle's checkpoint is at least as new as {as_of} ({in_words(freshness.age)} ago)")
    if freshness.stale:
        console.print(
            f"  [yellow]! older than --max-age {escape(freshness.max_age_text)}: a recall or finding logged "
            "since then cannot be in it. Fetch a fresh bundle and verify that:[/yellow]"
        )
        console.print(f"    {escape(freshness.fetch_command(lot))}")


def report_json(verified: VerifiedBundle, freshness: Freshness) -> dict[str, Any]:
    """The same report for scripts; `state` is `LotState.as_json()` with each sentence and name."""
    state = verified.state
    described = state.as_json()
    for item, concern in zip(described["concerns"], state.concerns, strict=True):
        item["message"] = describe(concern)
        if "by" in concern.params:
            item["by_name"] = _signer(verified, concern.params["by"])
    for item, cleared in zip(described["cleared"], state.cleared, strict=True):
        item["message"] = describe(cleared.concern)
    if state.certificate is not None:
        described["certificate"]["issued_by"] = _signer(verified, state.certificate.signer)
    result = outcome(state)
    return {
        "verified": True,
        "outcome": result.name.lower(),
        "exit_code": int(result),
        "lot": verified.lot,
        "integrity": {
            "log": verified.checkpoint.origin,
            "tree_size": verified.checkpoint.size,
            "root_hash": b64encode(verified.checkpoint.root_hash),
            "records": len(verified.records),
            "made_from": {lot: len(chain) for lot, chain in verified.chains.items() if lot != verified.lot},
            "made_into": [made.lot for made in verified.derived],
            "keys_checked": verified.keys_checked,
            "cosigned_by": list(verified.cosigned_by),
            "signers": signers(verified),
        },
        "as_of": freshness.as_of.isoformat(),
        "age_seconds": int(freshness.age.total_seconds()),
        "stale": freshness.stale,
        "fresh_bundle_url": freshness.fresh_url,
        "state": described,
    }


def failure_json(problem: str) -> dict[str, Any]:
    return {
        "verified": False,
        "outcome": Outcome.FAILED.name.lower(),
        "exit_code": int(Outcome.FAILED),
        "error": problem,
    }


def _signer(verified: VerifiedBundle, keyid: str) -> str:
    """Who signed with `keyid`, from the key entry the bundle verified; the keyid when it holds none."""
    return subject_name(verified.subjects.get(keyid)) or f"key {keyid[:16]}"


def cosigned_line(witnesses: Sequence[str]) -> str:
    """What a verifier says of the cosignatures that verified (plain text: escape it for rich)."""
    plural = "es" if len(witnesses) != 1 else ""
    return f"checkpoint cosigned by {len(witnesses)} witness{plural}: {', '.join(witnesses)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
