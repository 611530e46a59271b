/* The auditor's in-browser verifier (/audit/entries/{index}, /audit/consistency).
 *
 * The page names what to fetch (data-proof-url) and prints the platform's log key and the
 * witnesses' keys (data-log-vkeys, data-witness-vkeys: C2SP note verifier keys), which the
 * auditor compares with keys obtained out of band. This script then checks, with WebCrypto
 * and nothing from the server but bytes:
 *   - the leaf hash SHA-256(0x00 || entry bytes) and the root from the audit path
 *     (RFC 9162 §2.1.3.2), or the two roots from a consistency proof (§2.1.4.2);
 *   - that the root is the one the signed checkpoint (C2SP tlog-checkpoint) commits to;
 *   - the checkpoint's Ed25519 signature by the log key (C2SP signed-note), and each
 *     witness's cosignature (C2SP tlog-cosignature, cosignature/v1) by its key.
 * The outcome goes in the element [data-verify-result] ("ok" or "failed" in
 * data-outcome) and each step in the list [data-verify-steps]. Messages come translated
 * from a JSON island (#verify-text); "{name}" placeholders are filled here.
 *
 * window.ChainfinLedger exposes the pure functions so they can be checked against the
 * RFC 9162 test vectors (tests/web/test_wb_audit.py).
 */
(function () {
  "use strict";

  var HASH_SIZE = 32;
  var subtle = window.crypto && window.crypto.subtle;

  function VerifyError(code, params) {
    this.code = code;
    this.params = params || {};
  }

  function hexToBytes(hex) {
    if (typeof hex !== "string" || hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) {
      throw new VerifyError("bad_hex", { value: String(hex).slice(0, 20) });
    }
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) {
      out[i] = parseInt(hex.substr(i * 2, 2), 16);
    }
    return out;
  }

  function bytesToHex(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return s;
  }

  function b64ToBytes(text) {
    var bin;
    try {
      bin = atob(text);
    } catch (e) {
      throw new VerifyError("bad_base64", {});
    }
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out;
  }

  function utf8(text) {
    return new TextEncoder().encode(text);
  }

  function concat(parts) {
    var n = 0;
    parts.forEach(function (p) { n += p.length; });
    var out = new Uint8Array(n);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) {
      return false;
    }
    for (var i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        return false;
      }
    }
    return true;
  }

  async function sha256(bytes) {
    return new Uint8Array(await subtle.digest("SHA-256", bytes));
  }

  function leafHash(leaf) {
    return sha256(concat([new Uint8Array([0]), leaf]));
  }

  function nodeHash(left, right) {
    return sha256(concat([new Uint8Array([1]), left, right]));
  }

  function checkHash(what, value) {
    if (value.length !== HASH_SIZE) {
      throw new VerifyError("bad_hash_size", { what: what, size: value.length });
    }
  }

  function bitLength(n) {
    var bits = 0;
    while (n > 0n) { bits++; n >>= 1n; }
    return bits;
  }

  function bitCount(n) {
    var c = 0;
    while (n > 0n) { c += Number(n & 1n); n >>= 1n; }
    return c;
  }

  function inclusionLength(index, size) {
    var inner = bitLength(index ^ (size - 1n));
    return inner + bitCount(index >> BigInt(inner));
  }

  /* RFC 9162 §2.1.3.2: the root an audit path leads to, or a VerifyError. */
  async function rootFromInclusion(leafHashBytes, index, size, proof) {
    index = BigInt(index);
    size = BigInt(size);
    if (index < 0n || index >= size) {
      throw new VerifyError("index_out_of_range", { index: String(index), size: String(size) });
    }
    checkHash("leaf", leafHashBytes);
    proof.forEach(function (p, i) { checkHash("proof[" + i + "]", p); });
    var want = inclusionLength(index, size);
    if (proof.length !== want) {
      throw new VerifyError("wrong_proof_size", { have: proof.length, want: want });
    }
    var fn = index;
    var sn = size - 1n;
    var r = leafHashBytes;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0n) {
        throw new VerifyError("wrong_proof_size", { have: proof.length, want: i });
      }
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) {
      throw new VerifyError("wrong_proof_size", { have: proof.length, want: want });
    }
    return r;
  }

  async function verifyInclusion(leafHashBytes, index, size, proof, root) {
    checkHash("root", root);
    var got = await rootFromInclusion(leafHashBytes, index, size, proof);
    if (!equal(got, root)) {
      throw new VerifyError("root_mismatch", { got: bytesToHex(got), want: bytesToHex(root) });
    }
    return got;
  }

  function consistencyLength(size1, size2) {
    var low = size1 & -size1;
    var shift = bitLength(low) - 1;
    var inner = bitLength((size1 - 1n) ^ (size2 - 1n));
    var border = bitCount((size1 - 1n) >> BigInt(inner));
    return (size1 === low ? 0 : 1) + inner - shift + border;
  }

  /* RFC 9162 §2.1.4.2: check that the tree of size2 with root2 extends size1 with root1. */
  async function verifyConsistency(size1, size2, proof, root1, root2) {
    size1 = BigInt(size1);
    size2 = BigInt(size2);
    if (size1 < 0n || size2 < size1) {
      throw new VerifyError("invalid_sizes", { first: String(size1), second: String(size2) });
    }
    if (size1 === 0n) {
      throw new VerifyError("empty_tree", {});
    }
    checkHash("root1", root1);
    checkHash("root2", root2);
    proof.forEach(function (p, i) { checkHash("proof[" + i + "]", p); });
    if (size1 === size2) {
      if (proof.length !== 0) {
        throw new VerifyError("wrong_proof_size", { have: proof.length, want: 0 });
      }
      if (!equal(root1, root2)) {
        throw new VerifyError("root_mismatch", { got: bytesToHex(root2), want: bytesToHex(root1) });
      }
      return;
    }
    var want = consistencyLength(size1, size2);
    if (proof.length !== want) {
      throw new VerifyError("wrong_proof_size", { have: proof.length, want: want });
    }
    var path = proof.slice();
    if ((size1 & (size1 - 1n)) === 0n) {
      path.unshift(root1);
    }
    var fn = size1 - 1n;
    var sn = size2 - 1n;
    while ((fn & 1n) === 1n) {
      fn >>= 1n;
      sn >>= 1n;
    }
    var fr = path[0];
    var sr = path[0];
    for (var i = 1; i < path.length; i++) {
      var c = path[i];
      if (sn === 0n) {
        throw new VerifyError("wrong_proof_size", { have: proof.length, want: want });
      }
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) {
      throw new VerifyError("wrong_proof_size", { have: proof.length, want: want });
    }
    if (!equal(fr, root1)) {
      throw new VerifyError("root1_mismatch", { got: bytesToHex(fr), want: bytesToHex(root1) });
    }
    if (!equal(sr, root2)) {
      throw new VerifyError("root2_mismatch", { got: bytesToHex(sr), want: bytesToHex(root2) });
    }
  }

  /* ---------------------------------------------------------------- signed notes */

  var TYPE_ED25519 = 0x01;
  var TYPE_COSIGNATURE = 0x04;

  async function keyId(name, type, publicKey) {
    var digest = await sha256(concat([utf8(name), new Uint8Array([0x0a, type]), publicKey]));
    return digest.slice(0, 4);
  }

  /* "<name>+<hex key id>+<base64(type || public key)>" */
  async function parseVkey(text) {
    var first = text.indexOf("+");
    var second = text.indexOf("+", first + 1);
    if (first < 1 || second < 0) {
      throw new VerifyError("bad_key", { key: text.slice(0, 40) });
    }
    var name = text.slice(0, first);
    var claimed = text.slice(first + 1, second);
    var raw = b64ToBytes(text.slice(second + 1));
    if (raw.length !== 33 || (raw[0] !== TYPE_ED25519 && raw[0] !== TYPE_COSIGNATURE)) {
      throw new VerifyError("bad_key", { key: name });
    }
    var publicKey = raw.slice(1);
    var id = await keyId(name, raw[0], publicKey);
    if (bytesToHex(id) !== claimed) {
      throw new VerifyError("bad_key", { key: name });
    }
    return { name: name, id: id, type: raw[0], publicKey: publicKey, vkey: text };
  }

  function splitNote(note) {
    var cut = note.lastIndexOf("\n\n");
    if (!note.endsWith("\n") || cut < 0) {
      throw new VerifyError("bad_note", {});
    }
    var body = note.slice(0, cut + 1);
    var lines = note.slice(cut + 2, -1).split("\n").map(function (line) {
      var prefix = "\u2014 ";
      if (line.indexOf(prefix) !== 0) {
        throw new VerifyError("bad_note", {});
      }
      var rest = line.slice(prefix.length);
      var space = rest.lastIndexOf(" ");
      var raw = b64ToBytes(rest.slice(space + 1));
      if (space < 1 || raw.length < 5) {
        throw new VerifyError("bad_note", {});
      }
      return { name: rest.slice(0, space), id: raw.slice(0, 4), sig: raw.slice(4) };
    });
    return { body: body, lines: lines };
  }

  function parseCheckpoint(body) {
    var lines = body.slice(0, -1).split("\n");
    if (lines.length < 3 || !/^[0-9]+$/.test(lines[1])) {
      throw new VerifyError("bad_checkpoint", {});
    }
    var root = b64ToBytes(lines[2]);
    checkHash("root", root);
    return { origin: lines[0], size: BigInt(lines[1]), root: root };
  }

  async function ed25519(publicKey, signature, message) {
    var key = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  function lineOf(note, key) {
    return note.lines.find(function (line) {
      return line.name === key.name && equal(line.id, key.id);
    });
  }

  /* The log's signature: true, or a VerifyError (missing / bad). */
  async function verifyLogSignature(note, logKeys) {
    for (var i = 0; i < logKeys.length; i++) {
      var line = lineOf(note, logKeys[i]);
      if (!line) {
        continue;
      }
      if (line.sig.length !== 64 || !(await ed25519(logKeys[i].publicKey, line.sig, utf8(note.body)))) {
        throw new VerifyError("bad_signature", { key: logKeys[i].name });
      }
      return logKeys[i];
    }
    throw new VerifyError("no_log_signature", {});
  }

  /* Each witness key with a line in the note: {name, ok, time}. */
  async function verifyCosignatures(note, witnessKeys) {
    var out = [];
    for (var i = 0; i < witnessKeys.length; i++) {
      var key = witnessKeys[i];
      var line = lineOf(note, key);
      if (!line) {
        continue;
      }
      var ok = false;
      var time = null;
      if (line.sig.length === 72) {
        var stamp = 0n;
        for (var b = 0; b < 8; b++) {
          stamp = (stamp << 8n) | BigInt(line.sig[b]);
        }
        time = stamp;
        var message = concat([utf8("cosignature/v1\ntime " + stamp.toString() + "\n"), utf8(note.body)]);
        ok = await ed25519(key.publicKey, line.sig.slice(8), message);
      }
      out.push({ name: key.name, ok: ok, time: time });
    }
    return out;
  }

  /* ---------------------------------------------------------------- the page */

  var texts = {};

  function say(code, params) {
    var text = texts[code] || code;
    Object.keys(params || {}).forEach(function (k) {
      text = text.split("{" + k + "}").join(String(params[k]));
    });
    return text;
  }

  function short(hex) {
    return hex.slice(0, 16) + "\u2026";
  }

  function Report(root) {
    this.result = root.querySelector("[data-verify-result]");
    this.steps = root.querySelector("[data-verify-steps]");
  }

  Report.prototype.step = function (ok, code, params) {
    var li = document.createElement("li");
    li.className = ok ? "step-ok" : "step-failed";
    var mark = document.createElement("span");
    mark.className = "mark";
    mark.textContent = ok ? say("mark_ok") : say("mark_failed");
    li.appendChild(mark);
    li.appendChild(document.createTextNode(" " + say(code, params)));
    this.steps.appendChild(li);
  };

  Report.prototype.done = function (ok, code, params) {
    this.result.setAttribute("data-outcome", ok ? "ok" : "failed");
    this.result.className = "verify-result " + (ok ? "ok" : "error");
    this.result.textContent = say(code, params);
  };

  Report.prototype.fail = function (error) {
    if (error instanceof VerifyError) {
      this.step(false, error.code, error.params);
      this.done(false, "failed_because", { reason: say(error.code, error.params) });
    } else {
      this.step(false, "unexpected", { message: String(error && error.message || error) });
      this.done(false, "failed_because", { reason: say("unexpected", { message: String(error && error.message || error) }) });
    }
  };

  async function keysOf(root, attribute) {
    var text = root.getAttribute(attribute) || "";
    var keys = [];
    var lines = text.split(/\s+/).filter(Boolean);
    for (var i = 0; i < lines.length; i++) {
      keys.push(await parseVkey(lines[i]));
    }
    return keys;
  }

  async function fetchJson(url) {
    var response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      throw new VerifyError("fetch_failed", { status: response.status });
    }
    return response.json();
  }

  async function openCheckpoint(report, noteText, logKeys, witnessKeys, which) {
    var note = splitNote(noteText);
    var cp = parseCheckpoint(note.body);
    var key = await verifyLogSignature(note, logKeys);
    report.step(true, "checkpoint_signed", { which: which, size: cp.size.toString(), key: key.name, id: bytesToHex(key.id) });
    var cosigs = await verifyCosignatures(note, witnessKeys);
    cosigs.forEach(function (c) {
      report.step(c.ok, c.ok ? "cosigned" : "cosignature_bad", { which: which, name: c.name });
    });
    return { cp: cp, cosigned: cosigs.filter(function (c) { return c.ok; }).length };
  }

  async function inclusionPage(root) {
    var report = new Report(root);
    try {
      if (!subtle) {
        throw new VerifyError("no_webcrypto", {});
      }
      var logKeys = await keysOf(root, "data-log-vkeys");
      var witnessKeys = await keysOf(root, "data-witness-vkeys");
      var data = await fetchJson(root.getAttribute("data-proof-url"));
      var leaf = b64ToBytes(data.leaf_base64);
      var shown = document.getElementById(root.getAttribute("data-shown-bytes"));
      if (shown && shown.textContent !== new TextDecoder().decode(leaf)) {
        throw new VerifyError("bytes_differ", {});
      }
      report.step(true, "bytes_same", { n: leaf.length });
      var lh = await leafHash(leaf);
      report.step(true, "leaf_hash", { hash: short(bytesToHex(lh)) });
      var proof = data.proof.map(hexToBytes);
      var size = BigInt(data.tree_size);
      var computed = await rootFromInclusion(lh, data.index, size, proof);
      report.step(true, "path_root", { n: proof.length, root: short(bytesToHex(computed)) });
      var opened = await openCheckpoint(report, data.checkpoint, logKeys, witnessKeys, "");
      if (opened.cp.size !== size) {
        throw new VerifyError("size_mismatch", { have: opened.cp.size.toString(), want: size.toString() });
      }
      if (!equal(computed, opened.cp.root)) {
        throw new VerifyError("root_mismatch", { got: short(bytesToHex(computed)), want: short(bytesToHex(opened.cp.root)) });
      }
      report.step(true, "root_matches", { size: size.toString() });
      report.done(true, "inclusion_verified", {
        index: String(data.index),
        size: size.toString(),
        root: bytesToHex(opened.cp.root),
        witnesses: opened.cosigned,
      });
    } catch (error) {
      report.fail(error);
    }
  }

  async function consistencyPage(root) {
    var report = new Report(root);
    try {
      if (!subtle) {
        throw new VerifyError("no_webcrypto", {});
      }
      var logKeys = await keysOf(root, "data-log-vkeys");
      var witnessKeys = await keysOf(root, "data-witness-vkeys");
      var data = await fetchJson(root.getAttribute("data-proof-url"));
      var one = await openCheckpoint(report, data.first_checkpoint, logKeys, witnessKeys, "1");
      var two = await openCheckpoint(report, data.second_checkpoint, logKeys, witnessKeys, "2");
      var proof = data.proof.map(hexToBytes);
      await verifyConsistency(one.cp.size, two.cp.size, proof, one.cp.root, two.cp.root);
      report.step(true, "consistency_ok", { first: one.cp.size.toString(), second: two.cp.size.toString(), n: proof.length });
      report.done(true, "consistency_verified", {
        first: one.cp.size.toString(),
        second: two.cp.size.toString(),
        root1: bytesToHex(one.cp.root),
        root2: bytesToHex(two.cp.root),
      });
    } catch (error) {
      report.fail(error);
    }
  }

  function start() {
    var island = document.getElementById("verify-text");
    if (island) {
      texts = JSON.parse(island.textContent);
    }
    document.querySelectorAll("[data-verify='inclusion']").forEach(inclusionPage);
    document.querySelectorAll("[data-verify='consistency']").forEach(consistencyPage);
  }

  /* For the vector tests: plain results, no page. */
  async function outcome(promise) {
    try {
      await promise;
      return "ok";
    } catch (error) {
      return error instanceof VerifyError ? error.code : "exception: " + error;
    }
  }

  window.ChainfinLedger = {
    leafHashHex: async function (hex) { return bytesToHex(await leafHash(hexToBytes(hex))); },
    verifyInclusion: function (leafHashHex, index, size, proofHex, rootHex) {
      return outcome((async function () {
        await verifyInclusion(hexToBytes(leafHashHex), index, size, proofHex.map(hexToBytes), hexToBytes(rootHex));
      })());
    },
    verifyConsistency: function (size1, size2, proofHex, root1Hex, root2Hex) {
      return outcome((async function () {
        await verifyConsistency(size1, size2, proofHex.map(hexToBytes), hexToBytes(root1Hex), hexToBytes(root2Hex));
      })());
    },
    verifyNote: function (noteText, logVkeys, witnessVkeys) {
      return outcome((async function () {
        var logs = [];
        var wits = [];
        for (var i = 0; i < logVkeys.length; i++) { logs.push(await parseVkey(logVkeys[i])); }
        for (var j = 0; j < witnessVkeys.length; j++) { wits.push(await parseVkey(witnessVkeys[j])); }
        var note = splitNote(noteText);
        await verifyLogSignature(note, logs);
        var cosigs = await verifyCosignatures(note, wits);
        if (cosigs.some(function (c) { return !c.ok; })) {
          throw new VerifyError("cosignature_bad", {});
        }
      })());
    },
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
