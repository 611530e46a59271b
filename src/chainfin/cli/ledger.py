"""``chainfin ledger …``: sequence, inspect, verify, export and witness the log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from chainfin.cli.common import (
    JsonOpt,
    err,
    fail,
    group,
    operator_session,
    out,
    print_json,
    progress,
)
from chainfin.domain import clock
from chainfin.domain.errors import ChainfinError

if TYPE_CHECKING:
    from chainfin.ledger.note import NoteVerifier
    from chainfin.ledger.verifier import Report

app = group("The verifiable log")


def _origin() -> str:
    from chainfin.config import get_settings

    return get_settings().ledger_origin


@app.command("sequence")
def sequence_cmd(as_json: JsonOpt = False) -> None:
    """Integrate pending entries and publish a signed checkpoint (the server does this every
    second; use this for batch loads and scripts)."""
    from chainfin.services import ledger

    with operator_session() as session:
        cp = ledger.sequence(session, _origin())
        latest = ledger.latest_checkpoint(session)
    if as_json:
        print_json({"published": cp is not None, "note": latest.note if latest else None})
    elif latest is None:
        out.print("the log is empty")
    else:
        out.print(("published" if cp else "unchanged, latest") + " checkpoint:")
        out.print(latest.note, end="")


@app.command("checkpoint")
def checkpoint_cmd(as_json: JsonOpt = False) -> None:
    """Print the latest signed checkpoint (a C2SP signed note)."""
    from chainfin.resources.ledger import CheckpointOut
    from chainfin.services import ledger

    with operator_session() as session:
        latest = ledger.latest_checkpoint(session)
        body = (
            None
            if latest is None
            else CheckpointOut.build(latest, ledger.cosigners(session, latest.tree_size))
        )
    if latest is None or body is None:
        err.print("no checkpoint yet: run `chainfin ledger sequence`")
        raise typer.Exit(1)
    if as_json:
        print_json(body)
    else:
        print(latest.note, end="")  # noqa: T201 - the note is the output


def _print_report(report: Report, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        print_json({**report.as_dict(), **(extra or {})})
    else:
        verdict = (
            "[green]OK[/green]" if report.ok else f"[red]{len(report.findings)} problems[/red]"
        )
        out.print(
            f"{verdict}: {report.entries} entries, {report.checkpoints} checkpoints, "
            f"tree size {report.tree_size}, root {report.root_hash.hex()}"
        )
        if report.withheld:
            out.print(f"  {report.withheld} entries withheld (given by their leaf hash alone)")
        for size, names in sorted(report.witnesses.items()):
            if names:
                out.print(f"  checkpoint {size} cosigned by {', '.join(names)}")
        for finding in report.findings[:200]:
            out.print(f"  {escape(str(finding))}")
        if len(report.findings) > 200:
            out.print(f"  … and {len(report.findings) - 200} more (use --json for all)")
    raise typer.Exit(0 if report.ok else 1)


@app.command("verify")
def verify_cmd(as_json: JsonOpt = False) -> None:
    """Recompute every leaf, the tree, every checkpoint signature and consistency, and the
    state the log covers against the database. Exit 1 on any mismatch."""
    from chainfin.services import ledger_verify

    started = time.perf_counter()
    with progress("verifying the log", enabled=not as_json), operator_session() as session:
        report = ledger_verify.verify(session, origin=_origin())
        pending = ledger_verify.pending_count(session)
    seconds = time.perf_counter() - started
    _print_report(report, as_json, {"pending": pending, "seconds": round(seconds, 3)})


@app.command("export")
def export_cmd(
    directory: Annotated[Path, typer.Argument(file_okay=False)], as_json: JsonOpt = False
) -> None:
    """Write entries, checkpoints and public keys for an auditor (no salts, no private data)."""
    from sqlalchemy import select

    from chainfin.adapters.db.models import Checkpoint, LedgerEntry, LedgerKey, Witness

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "checkpoints").mkdir(exist_ok=True)
    with progress("exporting the log", enabled=not as_json), operator_session() as session:
        count = 0
        with (directory / "entries.jsonl").open("w", encoding="utf-8") as fh:
            query = (
                select(LedgerEntry.seq, LedgerEntry.payload, LedgerEntry.leaf_hash)
                .where(LedgerEntry.seq.is_not(None))
                .order_by(LedgerEntry.seq)
                .execution_options(yield_per=5000)
            )
            for seq, payload, leaf in session.execute(query):
                fh.write(
                    json.dumps(
                        {
                            "index": seq,
                            "payload": bytes(payload).decode(),
                            "leaf_hash": bytes(leaf).hex(),
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                count += 1
        notes = list(session.execute(select(Checkpoint.tree_size, Checkpoint.note)))
        for size, note in notes:
            (directory / "checkpoints" / f"{size:012d}.note").write_text(note, encoding="utf-8")
        log_keys = list(session.scalars(select(LedgerKey.vkey).order_by(LedgerKey.created_at)))
        witnesses = list(session.scalars(select(Witness.vkey).order_by(Witness.name)))
    (directory / "log.vkeys").write_text("".join(k + "\n" for k in log_keys))
    (directory / "witness.vkeys").write_text("".join(k + "\n" for k in witnesses))
    (directory / "origin").write_text(_origin() + "\n")
    summary = {"entries": count, "checkpoints": len(notes), "directory": str(directory)}
    if as_json:
        print_json(summary)
    else:
        out.print(f"exported {count} entries and {len(notes)} checkpoints to {directory}")


def _read_vkeys(path: Path) -> list[NoteVerifier]:
    from chainfin.ledger.note import NoteVerifier

    if not path.exists():
        return []
    return [NoteVerifier.from_vkey(line) for line in path.read_text().split() if line]


def _exported_entries(path: Path) -> Any:
    from chainfin.ledger.verifier import ExportedEntry

    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            payload = row.get("payload")  # absent: withheld from a bank-scoped export
            yield ExportedEntry(
                int(row["index"]),
                payload.encode() if payload is not None else None,
                bytes.fromhex(row["leaf_hash"]),
            )


@app.command("verify-export")
def verify_export_cmd(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Verify an export alone: no database, no server, only the files and public keys."""
    from chainfin.ledger.note import NoteError

    try:
        origin = (directory / "origin").read_text().strip()
        notes = [
            p.read_text(encoding="utf-8") for p in sorted((directory / "checkpoints").glob("*"))
        ]
        with progress("verifying the export", enabled=not as_json):
            report = _verify_export(directory, origin, notes)
    except (OSError, ValueError, KeyError, NoteError) as exc:
        err.print(f"[red]cannot read the export[/red]: {escape(str(exc))}")
        raise typer.Exit(2) from None
    _print_report(report, as_json)


def _verify_export(directory: Path, origin: str, notes: list[str]) -> Report:
    from chainfin.ledger.verifier import verify_log

    return verify_log(
        _exported_entries(directory / "entries.jsonl"),
        notes,
        _read_vkeys(directory / "log.vkeys"),
        _read_vkeys(directory / "witness.vkeys"),
        origin=origin,
    )


@app.command("rotate-key")
def rotate_key_cmd(as_json: JsonOpt = False) -> None:
    """Retire the active log key and start a new one; old checkpoints stay verifiable."""
    from chainfin.services import ledger

    with operator_session() as session:
        vkey = ledger.rotate_log_key(session, _origin()).vkey()
    if as_json:
        print_json({"vkey": vkey})
    else:
        out.print(f"new log key: {vkey}")


@app.command("witness-key")
def witness_key_cmd(
    name: Annotated[str, typer.Argument(help="witness name, e.g. bank-a-witness")],
    output: Annotated[Path, typer.Option("-o", help="file for the private key (mode 0600)")],
) -> None:
    """Create a witness (cosignature/v1) key: the private key goes to a file, the verifier
    key is printed for registration (POST /v1/ledger/witnesses)."""
    from chainfin.ledger.note import KeyKind, NoteSigner

    signer = NoteSigner.generate(name, KeyKind.COSIGNATURE_V1)
    output.touch(mode=0o600, exist_ok=False)
    output.write_text(signer.key_string() + "\n")
    print(signer.verifier().vkey())  # noqa: T201 - the vkey is the output


def _get(url: str, token: str | None = None) -> Any:
    import urllib.request

    request = urllib.request.Request(url)  # noqa: S310 - the operator names the log's URL
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def _post(url: str, body: dict[str, Any], token: str) -> Any:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


@app.command("witness")
def witness_cmd(
    url: Annotated[str, typer.Option(help="the platform, e.g. http://127.0.0.1:8000")],
    key_file: Annotated[Path, typer.Option(exists=True, dir_okay=False)],
    log_vkey: Annotated[str, typer.Option(help="the log key you trust, from out of band")],
    state_file: Annotated[Path, typer.Option(help="where the last cosigned head is kept")],
    token: Annotated[str, typer.Option(envvar="CHAINFIN_TOKEN", help="bearer token")],
) -> None:
    """Act as a witness: fetch the latest checkpoint, check it is signed by the log key and
    consistent with the last one this witness cosigned, then cosign it. Refuses a rollback
    or a fork, which is what protects participants from the operator."""
    import urllib.error
    import urllib.parse

    from chainfin.ledger import merkle
    from chainfin.ledger.note import Checkpoint as NoteCheckpoint
    from chainfin.ledger.note import NoteError, NoteSigner, NoteVerifier, cosign, open_note

    signer = NoteSigner.from_key_string(key_file.read_text().strip())
    log_key = NoteVerifier.from_vkey(log_vkey)
    base = url.rstrip("/")
    try:
        latest = _get(f"{base}/v1/ledger/checkpoint")
        cp = NoteCheckpoint.parse(open_note(latest["note"], [log_key]).body)
        if state_file.exists():
            last = json.loads(state_file.read_text())
            if cp.size < last["size"]:
                err.print(f"[red]rollback[/red]: log shows {cp.size}, we cosigned {last['size']}")
                raise typer.Exit(1)
            if cp.size == last["size"]:
                if cp.root_hash.hex() != last["root"]:
                    err.print(f"[red]fork[/red] at size {cp.size}: root differs from ours")
                    raise typer.Exit(1)
                out.print(f"already cosigned tree size {cp.size}")
                return
            query = urllib.parse.urlencode({"first": last["size"], "second": cp.size})
            proof = _get(f"{base}/v1/ledger/consistency?{query}")["proof"]
            merkle.verify_consistency(
                last["size"],
                cp.size,
                [bytes.fromhex(h) for h in proof],
                bytes.fromhex(last["root"]),
                cp.root_hash,
            )
        line = cosign(cp, signer, clock.epoch_seconds())
        _post(
            f"{base}/v1/ledger/checkpoints/{cp.size}/cosignatures", {"signature_line": line}, token
        )
    except merkle.ProofError as exc:
        err.print(f"[red]not consistent with what we cosigned[/red]: {exc}")
        raise typer.Exit(1) from None
    except (urllib.error.URLError, NoteError, ValueError) as exc:
        err.print(f"[red]witness failed[/red]: {exc}")
        raise typer.Exit(1) from None
    state_file.write_text(json.dumps({"size": cp.size, "root": cp.root_hash.hex()}))
    out.print(f"cosigned tree size {cp.size} as {signer.name}")


@app.command("register-witness")
def register_witness_cmd(vkey: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Operator: register a witness key (participants use POST /v1/ledger/witnesses)."""
    from chainfin.domain.access import SYSTEM
    from chainfin.resources.ledger import WitnessOut
    from chainfin.services import ledger

    try:
        with operator_session() as session:
            witness = WitnessOut.build(ledger.register_witness(session, SYSTEM, vkey=vkey))
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(witness)
    else:
        out.print(f"registered witness {escape(witness.name)}")
