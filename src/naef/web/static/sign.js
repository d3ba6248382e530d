/* The signer's page: build the API request for an approval (or an execution), show the RFC 9421 signature base to
 * sign (HTTP Message Signatures, Ed25519, Content-Digest per RFC 9530; docs/web.md), and submit it with the
 * signature made on the signer's machine — or sign both here with the signer's key file through WebCrypto (the key
 * is never sent). The headers are the ones any RFC 9421 client writes; the server verifies them with a library. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("submit-form");
  if (!form) return;
  const C = NaefCrypto;
  const result = $("submit-result");
  result.textContent = "Fill in the form, prepare the request, then submit.";
  let prepared = null;

  function show(ok, text) {
    result.className = `result ${ok === null ? "info" : ok ? "pass" : "fail"}`;
    result.textContent = text;
    if (ok !== null) result.dataset.outcome = ok ? "pass" : "fail";
  }

  function action() { return form.querySelector("input[name=action]:checked").value; }

  function nonce() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return C.b64(b).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function updateAction() { $("approval-box").classList.toggle("hidden", action() !== "approve"); }
  form.querySelectorAll("input[name=action]").forEach((r) => r.addEventListener("change", updateAction));
  updateAction();

  function requestBody(signer, approvalSignature) {
    const d = form.dataset;
    if (action() === "execute") return { path: "/api/executions", body: JSON.stringify({ proposal_id: d.proposalId }) };
    return {
      path: "/api/approvals",
      body: JSON.stringify({
        proposal_id: d.proposalId, proposal_sha256: d.proposalSha256, signer,
        justification: d.justification ? d.justification : null, signature: approvalSignature,
      }),
    };
  }

  // RFC 8941 §3.3.3 sf-string: printable ASCII, with \ and " escaped
  function sfString(text) {
    if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`not printable ASCII: ${text}`);
    return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }

  async function prepare(approvalSignature) {
    const signer = $("signer").value;
    const { path, body } = requestBody(signer, approvalSignature);
    const created = Math.floor(Date.now() / 1000);
    const expires = created + Number(form.dataset.maxSkew || 300);
    const n = nonce();
    const targetUri = new URL(path, window.location.href).href;
    const digest = `sha-256=:${C.b64(await C.sha256(C.utf8(body)))}:`;
    const params = `("@method" "@target-uri" "content-digest");created=${created};keyid=${sfString(signer)};` +
      `alg="ed25519";expires=${expires};nonce=${sfString(n)};tag=${sfString(form.dataset.origin)}`;
    // RFC 9421 §2.5: one line per covered component, then @signature-params, no trailing newline
    const base = [`"@method": POST`, `"@target-uri": ${targetUri}`, `"content-digest": ${digest}`,
      `"@signature-params": ${params}`].join("\n");
    prepared = { signer, path, body, digest, signatureInput: `naef=${params}`, base };
    $("request-body").textContent = `POST ${path}\nContent-Digest: ${digest}\nSignature-Input: naef=${params}\n\n${body}`;
    $("canonical-request").textContent = base;
    $("canonical-request-b64").textContent = C.b64(C.utf8(base));
    $("request-box").classList.remove("hidden");
    return prepared;
  }

  async function submit(requestSignature) {
    if (!prepared) { show(false, "prepare the request first"); return; }
    show(null, "Submitting…");
    let response;
    try {
      response = await fetch(prepared.path, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Content-Digest": prepared.digest,
          "Signature-Input": prepared.signatureInput,
          "Signature": `naef=:${requestSignature.trim()}:`,
        },
        body: prepared.body,
      });
    } catch (e) {
      show(false, `could not reach the server (${e.message})`);
      return;
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (response.ok && data) {
      show(true, `Recorded at ledger entr${data.indexes.length > 1 ? "ies" : "y"} ${data.indexes.join(", ")}.`);
    } else {
      const err = data && data.error ? data.error : { message: `HTTP ${response.status}` };
      const where = err.refusal_index !== undefined && err.refusal_index !== null ? ` (refusal recorded at entry ${err.refusal_index})` : "";
      show(false, `Refused: ${err.message}${where}`);
    }
    prepared = null;
  }

  $("prepare").addEventListener("click", () => {
    const sig = $("approval-signature").value.trim();
    if (action() === "approve" && !sig) { show(false, "paste your approval signature first"); return; }
    prepare(sig).then(() => show(null, "Sign the signature base (base64 above) and paste the signature."))
      .catch((e) => show(false, `could not prepare the request: ${e.message}`));
  });
  $("submit").addEventListener("click", () => { submit($("request-signature").value); });

  $("sign-here").addEventListener("click", async () => {
    const file = $("key-file").files[0];
    if (!file) { show(false, "choose your key file first"); return; }
    try {
      const key = await C.parseSignerKey(await file.text());
      const option = Array.from($("signer").options).find((o) => o.value === key.name);
      if (!option) { show(false, `${key.name} is not a stakeholder of this ledger's governance`); return; }
      $("signer").value = key.name;
      let approvalSignature = "";
      if (action() === "approve") {
        const message = C.fromB64($("approval-message-b64").textContent);
        approvalSignature = C.b64(await key.sign(message));
        $("approval-signature").value = approvalSignature;
      }
      const p = await prepare(approvalSignature);
      const requestSignature = C.b64(await key.sign(C.utf8(p.base)));
      $("request-signature").value = requestSignature;
      await submit(requestSignature);
    } catch (e) {
      show(false, `signing in the browser failed: ${e.message}`);
    }
  });
})();
