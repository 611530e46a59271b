"""The auditor's desk (/audit), as bank A's auditor 郑洁 (bka-auditor) uses it: the ledger
explorer with its checkpoints and witnesses, one entry whose inclusion proof her browser
verifies (and refuses once a byte of what it fetched is altered), consistency between two
checkpoints verified the same way, the audit trail searched by actor, and the export that
``chainfin.ledger``'s verifier accepts. The script's Merkle code is checked against the
RFC 9162 vectors the Python implementation is checked against. Objects: world_wb_audit.py."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
from browsing import Portal, axe_scan, screenshot, signin
from playwright.sync_api import Page, Route, expect
from world_wb_audit import SOURCE, WITNESS

from chainfin.ledger import merkle
from chainfin.ledger.note import Checkpoint as NoteCheckpoint
from chainfin.ledger.note import (
    KeyKind,
    NoteSigner,
    NoteVerifier,
    add_signatures,
    cosign,
    sign_checkpoint,
)
from chainfin.ledger.verifier import ExportedEntry, verify_log

pytestmark = pytest.mark.browser

VECTORS = Path(__file__).resolve().parents[1] / "data" / "reference" / "merkle_rfc6962"
RESULT = "[data-verify-result]"


def open_desk(page: Page) -> None:
    signin(page, "bka-auditor")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="账本与审计").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("账本浏览")


def test_the_explorer_lists_checkpoints_witnesses_and_entries(page: Page, portal: Portal) -> None:
    open_desk(page)
    cosigned = portal.world.extra["wb_audit_cosigned"]
    row = page.locator(f"#checkpoint-{cosigned}")
    expect(row).to_contain_text(f"见证方 {WITNESS}")
    expect(row).to_contain_text("星湖银行")  # the witness's bank, by name
    expect(row.locator("li.sig-ok")).to_have_count(2)  # the log's signature and the witness's
    expect(page.locator("li.sig-bad")).to_have_count(0)
    entries = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="当事方"))
    expect(entries.get_by_role("row")).not_to_have_count(0)
    axe_scan(page)
    screenshot(page, "wb-audit-explorer")
    # filter by kind: only that kind's entries remain
    page.get_by_label("对象类型").select_option("user")
    page.get_by_role("button", name="查看").click()
    expect(entries.get_by_role("row").nth(1)).to_contain_text("user.")


def test_an_entry_is_verified_in_the_browser_and_tampering_is_caught(
    page: Page, portal: Portal
) -> None:
    index = portal.world.extra["wb_audit_entry"]
    open_desk(page)
    page.goto(f"/audit/entries/{index}")
    result = page.locator(RESULT)
    expect(result).to_have_attribute("data-outcome", "ok")
    expect(result).to_contain_text(f"已在您的浏览器中验证：记录 {index} 在账本中")
    steps = page.locator("[data-verify-steps] li")
    expect(steps.filter(has_text="有效 Ed25519 签名")).to_have_count(1)
    expect(page.locator("[data-verify-steps] li.step-failed")).to_have_count(0)
    expect(page.get_by_role("heading", name="浏览器不核验的内容")).to_be_visible()
    axe_scan(page)
    screenshot(page, "wb-audit-entry")

    def flip_proof(route: Route) -> None:
        data = route.fetch().json()
        if data["proof"]:
            first = data["proof"][0]
            data["proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        else:  # a one-entry tree has no path: alter the checkpoint's root instead
            data["tree_size"] += 1
        route.fulfill(json=data)

    page.route("**/audit/entries/*/proof", flip_proof)
    page.reload()
    expect(result).to_have_attribute("data-outcome", "failed")
    expect(result).to_contain_text("验证失败：证明推导出的根为")
    expect(page.locator("[data-verify-steps] li.step-failed")).to_have_count(1)
    page.unroute("**/audit/entries/*/proof")

    def alter_leaf(route: Route) -> None:
        data = route.fetch().json()
        leaf = bytearray(base64.b64decode(data["leaf_base64"]))
        leaf[-2] ^= 0x01
        data["leaf_base64"] = base64.b64encode(bytes(leaf)).decode()
        route.fulfill(json=data)

    page.route("**/audit/entries/*/proof", alter_leaf)
    page.reload()
    expect(result).to_have_attribute("data-outcome", "failed")
    expect(result).to_contain_text("用于核验的字节与本页所示的记录不一致")


def test_consistency_between_two_checkpoints_is_verified_in_the_browser(
    page: Page, portal: Portal
) -> None:
    cosigned = portal.world.extra["wb_audit_cosigned"]
    open_desk(page)
    page.get_by_role("navigation", name="审计页面").get_by_role("link", name="一致性").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("两个检查点之间的一致性")
    expect(page.locator(RESULT)).to_have_attribute("data-outcome", "ok")  # the two latest
    page.get_by_label("较早的检查点（树大小）").select_option(str(cosigned))
    page.get_by_role("button", name="核验一致性").click()
    result = page.locator(RESULT)
    expect(result).to_have_attribute("data-outcome", "ok")
    expect(result).to_contain_text("没有记录被删除或改写")
    cosigned_step = page.locator("[data-verify-steps] li.step-ok", has_text=WITNESS)
    expect(cosigned_step).to_have_count(1)
    axe_scan(page)
    screenshot(page, "wb-audit-consistency")
    page.goto(page.url + "&lang=en")
    expect(page.locator(RESULT)).to_have_attribute("data-outcome", "ok")
    expect(page.locator(RESULT)).to_contain_text("Verified in your browser")
    axe_scan(page)
    screenshot(page, "wb-audit-consistency")

    def tamper(route: Route) -> None:
        data = route.fetch().json()
        data["proof"][-1] = "00" * 32
        route.fulfill(json=data)

    page.route("**/audit/consistency/proof*", tamper)
    page.reload()
    expect(page.locator(RESULT)).to_have_attribute("data-outcome", "failed")
    expect(page.locator(RESULT)).to_contain_text("Verification FAILED")


def test_the_audit_trail_is_searched_by_actor(page: Page) -> None:
    open_desk(page)
    page.get_by_role("navigation", name="审计页面").get_by_role("link", name="审计轨迹").click()
    page.get_by_label("操作人（用户名或姓名）").fill("吴刚")
    page.get_by_role("button", name="搜索").click()
    row = page.get_by_role("row").filter(has_text=SOURCE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("吴刚 授予了审批权限")
    expect(row).to_contain_text("用户")
    axe_scan(page)
    screenshot(page, "wb-audit-trail")
    page.get_by_label("操作人（用户名或姓名）").fill("bkb-boss")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_text("没有符合条件的审计事件。")).to_be_visible()


def test_the_export_downloads_and_verifies_offline(page: Page, tmp_path: Path) -> None:
    open_desk(page)
    page.get_by_role("navigation", name="审计页面").get_by_role("link", name="导出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导出以供离线核验")
    axe_scan(page)
    screenshot(page, "wb-audit-export")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导出文件（zip）").click()
    content = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / "chainfin-ledger-export"
    rows = [json.loads(x) for x in (folder / "entries.jsonl").read_text().splitlines()]
    entries = [
        ExportedEntry(
            r["index"],
            r["payload"].encode() if "payload" in r else None,
            bytes.fromhex(r["leaf_hash"]),
        )
        for r in rows
    ]
    notes = [p.read_text() for p in sorted((folder / "checkpoints").glob("*.note"))]
    logs = [NoteVerifier.from_vkey(k) for k in (folder / "log.vkeys").read_text().split()]
    witnesses = [NoteVerifier.from_vkey(k) for k in (folder / "witness.vkeys").read_text().split()]
    origin = (folder / "origin").read_text().strip()
    report = verify_log(entries, notes, logs, witnesses, origin=origin)
    assert report.ok, report.findings
    assert 0 < report.withheld < report.entries  # bank B's entries are withheld
    assert any(WITNESS in names for names in report.witnesses.values())


def _inclusion(leaf_hash: str, index: int, size: int, proof: list[str], root: str) -> str:
    try:
        merkle.verify_inclusion(
            bytes.fromhex(leaf_hash), index, size, [bytes.fromhex(x) for x in proof],
            bytes.fromhex(root),
        )  # fmt: skip
    except merkle.ProofError:
        return "rejected"
    return "ok"


def _consistency(size1: int, size2: int, proof: list[str], root1: str, root2: str) -> str:
    try:
        merkle.verify_consistency(
            size1, size2, [bytes.fromhex(x) for x in proof], bytes.fromhex(root1),
            bytes.fromhex(root2),
        )  # fmt: skip
    except merkle.ProofError:
        return "rejected"
    return "ok"


def test_the_browsers_merkle_code_agrees_with_the_rfc_vectors(page: Page) -> None:
    """Every RFC 9162 vector and golden probe the Python verifier is checked against: the
    script must accept and refuse exactly what chainfin.ledger.merkle does."""
    vectors = json.loads((VECTORS / "vectors.json").read_text())
    probes = json.loads((VECTORS / "proof_probes.json").read_text())
    open_desk(page)
    page.goto("/audit/consistency")  # a page that loads ledger_verify.js
    page.wait_for_function("() => !!window.ChainfinLedger")
    leaves = page.evaluate(
        "hs => Promise.all(hs.map(h => ChainfinLedger.leafHashHex(h)))", vectors["leaf_inputs_hex"]
    )
    assert leaves == vectors["leaf_hashes"]
    derived = vectors["derived_all_proofs"]
    inclusion = [
        [c["leaf_hash"], c["leaf_index"], c["tree_size"], c["proof"], c["expected_root"]]
        for c in vectors["inclusion_proofs"] + derived["inclusion"]
    ]
    inclusion += [
        [p["leafHash"], p["leafIdx"], p["treeSize"], p["proof"], p["root"]]
        for p in probes["inclusion"]
    ]
    got = page.evaluate(
        "cs => Promise.all(cs.map(a => ChainfinLedger.verifyInclusion(...a)))", inclusion
    )
    want = [_inclusion(*case) for case in inclusion]
    assert [g == "ok" for g in got] == [w == "ok" for w in want], list(zip(got, want, strict=True))
    assert "ok" in want
    assert "rejected" in want
    consistency = [
        [c["size1"], c["size2"], c["proof"], c["root1"], c["root2"]]
        for c in vectors["consistency_proofs"] + derived["consistency"] + probes["consistency"]
    ]
    got = page.evaluate(
        "cs => Promise.all(cs.map(a => ChainfinLedger.verifyConsistency(...a)))", consistency
    )
    want = [_consistency(*case) for case in consistency]
    assert [g == "ok" for g in got] == [w == "ok" for w in want], list(zip(got, want, strict=True))
    assert "rejected" in want


def test_the_browsers_note_verifier_agrees_with_chainfin_ledger_note(page: Page) -> None:
    """A checkpoint signed and cosigned by chainfin.ledger.note verifies with WebCrypto's
    Ed25519 in the browser; an altered body, an unknown key and a forged cosignature do not."""
    log = NoteSigner.generate("example.org/log")
    witness = NoteSigner.generate("example-witness", KeyKind.COSIGNATURE_V1)
    stranger = NoteSigner.generate("example.org/log")  # same name, another key
    body = NoteCheckpoint("example.org/log", 7, bytes(range(32)))
    note = add_signatures(sign_checkpoint(body, log), [cosign(body, witness, 1_764_000_000)])
    signed_by_stranger = sign_checkpoint(body, stranger)
    forged = add_signatures(
        sign_checkpoint(body, log),
        [cosign(NoteCheckpoint("example.org/log", 8, bytes(32)), witness, 1)],
    )
    open_desk(page)
    page.goto("/audit/consistency")
    page.wait_for_function("() => !!window.ChainfinLedger")
    keys = [log.verifier().vkey()], [witness.verifier().vkey()]
    cases = [
        (note, "ok"),
        (note.replace("\n7\n", "\n8\n"), "bad_signature"),
        (signed_by_stranger, "no_log_signature"),
        (forged, "cosignature_bad"),
    ]
    for text, want in cases:
        got = page.evaluate("a => ChainfinLedger.verifyNote(a[0], a[1], a[2])", [text, *keys])
        assert got == want, (want, got)
