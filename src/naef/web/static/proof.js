/* The ledger entry page's in-browser check: is this entry in the log that the signed checkpoint commits to?
 * Trusted inputs: the log key (and witness keys) typed or pasted by the reader. Everything else is checked. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const button = $("proof-check");
  if (!button) return;
  const result = $("proof-result");
  const steps = $("proof-steps");
  result.textContent = "Not checked yet.";

  function step(text) {
    const li = document.createElement("li");
    li.textContent = text;
    steps.appendChild(li);
  }

  function finish(ok, text) {
    result.className = `result ${ok ? "pass" : "fail"}`;
    result.textContent = `${ok ? "PASS" : "FAIL"}: ${text}`;
    result.dataset.outcome = ok ? "pass" : "fail";
  }

  async function check() {
    const C = NaefCrypto;
    steps.textContent = "";
    result.className = "result info";
    result.textContent = "Checking…";
    delete result.dataset.outcome;
    if (!(window.crypto && crypto.subtle)) {
      finish(false, "this page has no WebCrypto (it needs HTTPS or localhost)");
      return;
    }
    let proof;
    try { proof = JSON.parse($("proof-json").value); } catch (e) { finish(false, `proof: not JSON (${e.message})`); return; }
    try {
      if (!Number.isSafeInteger(proof.index) || !Number.isSafeInteger(proof.size) || !Array.isArray(proof.inclusion_path)) {
        throw new Error("proof: needs integer index and size and an inclusion_path list");
      }
      const path = proof.inclusion_path.map((h, i) => {
        const b = C.fromHex(h);
        if (b.length !== 32) throw new Error(`proof: inclusion_path[${i}] is not a 32-byte hash`);
        return b;
      });
      const note = C.parseNote($("proof-checkpoint").value);
      const cp = C.parseCheckpoint(note.text);
      step(`Checkpoint: origin ${cp.origin}, size ${cp.size}, root ${C.hex(cp.root)}.`);
      if (BigInt(proof.size) !== cp.size) {
        finish(false, `the proof is for a tree of ${proof.size} entries, the checkpoint for ${cp.size}`);
        return;
      }
      const leaf = await C.leafHash(C.utf8($("proof-entry").value));
      step(`Leaf hash computed here: SHA-256(0x00 ‖ entry) = ${C.hex(leaf)}.`);
      const root = await C.rootFromInclusion(leaf, proof.index, proof.size, path);
      if (root === null) { finish(false, "the inclusion path has the wrong length for this index and size"); return; }
      step(`Root from the inclusion path (${path.length} hashes): ${C.hex(root)}.`);
      if (!C.equal(root, cp.root)) { finish(false, `entry ${proof.index} is not in the tree the checkpoint signs (roots differ)`); return; }
      step("The root equals the checkpoint's root.");
      const vkey = await C.parseVerifierKey($("proof-key").value);
      if (vkey.type !== 1) { finish(false, "the log key must be an Ed25519 (type 0x01) key"); return; }
      if (vkey.name !== cp.origin) {
        finish(false, `the key's name ${vkey.name} is not the checkpoint's origin ${cp.origin}: not this log's key`);
        return;
      }
      if (!(await C.hasEd25519())) {
        // not a PASS: the inclusion holds, but nothing here shows the checkpoint is the one the log signed
        result.className = "result info";
        result.textContent = `UNVERIFIED: entry ${proof.index} is in the tree of the checkpoint's root, but this ` +
          "browser cannot verify Ed25519 signatures: compare the checkpoint's root with a published copy";
        result.dataset.outcome = "unverified";
        return;
      }
      const sig = await C.verifyNoteSignature(note, vkey);
      if (!sig.found) { finish(false, `the checkpoint carries no signature by the log key ${vkey.name}`); return; }
      if (!sig.ok) { finish(false, `the checkpoint's signature by ${vkey.name} does not verify`); return; }
      step(`Ed25519 signature by the log key ${vkey.name}+${vkey.id.toString(16).padStart(8, "0")}: valid.`);
      let cosigned = 0;
      for (const line of $("proof-witnesses").value.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const w = await C.parseVerifierKey(line);
        const r = await C.verifyNoteSignature(note, w);
        if (r.found && !r.ok) { finish(false, `the cosignature by witness ${w.name} does not verify`); return; }
        if (r.ok) { cosigned += 1; step(`Cosignature by witness ${w.name} (time ${r.timestamp}): valid.`); }
        else step(`Witness ${w.name}: no cosignature on this checkpoint.`);
      }
      const keyInput = $("proof-key");
      const fromServer = keyInput.value.trim() === (keyInput.dataset.serverValue || "").trim();
      finish(true, `entry ${proof.index} is in the log's signed checkpoint of size ${cp.size}` +
        (cosigned ? `, cosigned by ${cosigned} witness(es)` : "") +
        (fromServer ? ". The log key is the one this server shows: the check is worth what that key is worth — " +
          "compare it with a copy published elsewhere (or paste yours)" : ""));
    } catch (e) {
      finish(false, e.message);
    }
  }

  button.addEventListener("click", () => { check(); });
})();
