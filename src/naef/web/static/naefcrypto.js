/* naef in the browser: the few primitives the portal's checks need, on WebCrypto only (no library).
 *
 *  - SHA-256 (crypto.subtle.digest), RFC 9162 leaf/node hashes and the inclusion-proof check (§2.1.3.2);
 *  - C2SP verifier keys "name+hash+base64(type || key)" (key ID = SHA-256(name || "\n" || type || key)[:4]);
 *  - C2SP signed notes and tlog checkpoints; Ed25519 (type 0x01) and cosignature/v1 (type 0x04) signatures,
 *    verified with crypto.subtle Ed25519 where the browser has it (Chromium 137+, Firefox 129+, Safari 17+);
 *  - signing with a C2SP private key "PRIVATE+KEY+name+hash+base64(0x01 || seed)" (PKCS #8 import), for the
 *    signer's page; the key never leaves the page.
 *
 * Everything here is a pure function of its arguments; nothing is fetched.
 */
"use strict";

const NaefCrypto = (() => {
  const enc = new TextEncoder();

  function utf8(text) { return enc.encode(text); }

  function concat(...parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }

  function fromHex(text) {
    const t = String(text).trim();
    if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw new Error(`not hexadecimal: ${t.slice(0, 20)}…`);
    const out = new Uint8Array(t.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(t.substr(2 * i, 2), 16);
    return out;
  }

  function fromB64(text) {
    const t = String(text).trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) throw new Error("not standard base64");
    const bin = atob(t);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  function b64(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }

  /* RFC 9162 §2.1.1 */
  const leafHash = (entry) => sha256(concat(new Uint8Array([0]), entry));
  const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));

  /* RFC 9162 §2.1.3.2: the root that an inclusion path leads to, or null if the path is malformed. */
  async function rootFromInclusion(leaf, index, size, path) {
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    if (fn > sn || sn < 0n) return null;
    let r = leaf;
    for (const p of path) {
      if (sn === 0n) return null;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n ? r : null;
  }

  async function keyId(name, type, key) {
    const d = await sha256(concat(utf8(name), utf8("\n"), new Uint8Array([type]), key));
    return ((d[0] << 24) >>> 0) + (d[1] << 16) + (d[2] << 8) + d[3];
  }

  /* "name+hash+base64(type || key)" -> {name, id, type, key}; the key ID must match. */
  async function parseVerifierKey(text) {
    const t = String(text).trim();
    const i = t.indexOf("+");
    const j = i < 0 ? -1 : t.indexOf("+", i + 1);
    if (i <= 0 || j < 0) throw new Error(`verifier key ${t.slice(0, 30)}…: expected name+hash+base64`);
    const [name, hash, blob] = [t.slice(0, i), t.slice(i + 1, j), t.slice(j + 1)];
    if (!/^[0-9a-fA-F]{8}$/.test(hash)) throw new Error(`verifier key ${name}: key ID must be 8 hex digits`);
    const raw = fromB64(blob);
    if (raw.length !== 33) throw new Error(`verifier key ${name}: expected a type byte and a 32-byte key`);
    const id = parseInt(hash, 16);
    if ((await keyId(name, raw[0], raw.slice(1))) !== id) throw new Error(`verifier key ${name}: key ID does not match the key`);
    return { name, id, type: raw[0], key: raw.slice(1) };
  }

  /* A signed note: text (up to and including the newline before the last blank line) and signature lines. */
  function parseNote(message) {
    const m = String(message).replace(/\r\n/g, "\n");
    const split = m.lastIndexOf("\n\n");
    if (split < 0) throw new Error("checkpoint: no blank line before the signatures");
    const text = m.slice(0, split + 1);
    const lines = m.slice(split + 2).split("\n").filter((l) => l.length > 0);
    if (!lines.length) throw new Error("checkpoint: no signature lines");
    const sigs = lines.map((line, n) => {
      const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
      if (!match) throw new Error(`checkpoint: signature line ${n + 1} is malformed`);
      const raw = fromB64(match[2]);
      if (raw.length < 5) throw new Error(`checkpoint: signature line ${n + 1} is too short`);
      const id = ((raw[0] << 24) >>> 0) + (raw[1] << 16) + (raw[2] << 8) + raw[3];
      return { name: match[1], id, sig: raw.slice(4) };
    });
    return { text, sigs };
  }

  /* tlog-checkpoint body: origin, size, base64 root, extension lines. */
  function parseCheckpoint(text) {
    const lines = text.split("\n");
    if (lines.length < 4) throw new Error("checkpoint: needs origin, size and root lines");
    if (!/^[0-9]+$/.test(lines[1])) throw new Error("checkpoint: size is not a number");
    const root = fromB64(lines[2]);
    if (root.length !== 32) throw new Error("checkpoint: root is not 32 bytes");
    return { origin: lines[0], size: BigInt(lines[1]), root };
  }

  let ed25519Support = null;
  async function hasEd25519() {
    if (ed25519Support !== null) return ed25519Support;
    try {
      // RFC 8032 §7.1 test 1 public key: a valid point, so only a missing algorithm can fail here
      const probe = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
      await crypto.subtle.importKey("raw", probe, { name: "Ed25519" }, false, ["verify"]);
      ed25519Support = true;
    } catch (e) {
      ed25519Support = false;
    }
    return ed25519Support;
  }

  async function ed25519Verify(publicKey, signature, message) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  /* The signature line of vkey in note, verified: {found, ok, timestamp}. */
  async function verifyNoteSignature(note, vkey) {
    const line = note.sigs.find((s) => s.name === vkey.name && s.id === vkey.id);
    if (!line) return { found: false, ok: false, timestamp: null };
    if (vkey.type === 1) {
      if (line.sig.length !== 64) return { found: true, ok: false, timestamp: null };
      return { found: true, ok: await ed25519Verify(vkey.key, line.sig, utf8(note.text)), timestamp: null };
    }
    if (vkey.type === 4) {
      if (line.sig.length !== 72) return { found: true, ok: false, timestamp: null };
      let ts = 0n;
      for (let i = 0; i < 8; i++) ts = (ts << 8n) + BigInt(line.sig[i]);
      const msg = concat(utf8(`cosignature/v1\ntime ${ts}\n`), utf8(note.text));
      return { found: true, ok: await ed25519Verify(vkey.key, line.sig.slice(8), msg), timestamp: ts };
    }
    return { found: true, ok: false, timestamp: null };
  }

  /* C2SP private key -> {name, sign(bytes) -> Uint8Array(64)} (PKCS #8 wrapping of the 32-byte seed). */
  async function parseSignerKey(text) {
    const t = String(text).trim();
    const m = /^PRIVATE\+KEY\+([^+\s]+)\+([0-9a-fA-F]{8})\+([A-Za-z0-9+/=]+)$/.exec(t);
    if (!m) throw new Error("key file: expected PRIVATE+KEY+name+hash+base64");
    const parts = [null, null, m[1], m[2], m[3]];
    const raw = fromB64(parts[4]);
    if (raw.length !== 33 || raw[0] !== 1) throw new Error("key file: expected 0x01 and a 32-byte Ed25519 seed");
    const pkcs8 = concat(fromHex("302e020100300506032b657004220420"), raw.slice(1));
    const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    return {
      name: parts[2],
      sign: async (bytes) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, bytes)),
    };
  }

  return {
    utf8, concat, hex, fromHex, fromB64, b64, equal, sha256, leafHash, nodeHash, rootFromInclusion,
    parseVerifierKey, parseNote, parseCheckpoint, hasEd25519, verifyNoteSignature, parseSignerKey,
  };
})();
