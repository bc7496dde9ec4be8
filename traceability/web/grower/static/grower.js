// The grower app's script. Without it every form still works; with it:
// - a record is kept on the phone (IndexedDB) until the server has it, so no signal loses
//   nothing; each carries the Idempotency-Key drawn with its form, so a retry never
//   appends twice;
// - a photo goes up as soon as it is taken, with a progress bar, and fills in the place it
//   carries when the form has none. Its time is never copied over the form's: when the two
//   disagree the server asks the grower which is right (see grower/checks.py);
// - records are signed on the phone (protocol §9): after the card sign-in the script makes an
//   Ed25519 key that cannot leave the phone (WebCrypto, not extractable), registers its public
//   half, and signs each record the server prepares from the form (see grower/device.py). A
//   phone without WebCrypto's Ed25519 sends the form, and the server signs on its behalf.
"use strict";
(function () {
  const DB = "suyuan-grower", STORE = "outbox", KEYS = "keys";
  const csrf = () => (document.querySelector("input[name=csrf]") || {}).value || "";
  const lang = () => document.documentElement.lang.startsWith("zh") ? "zh" : "en";
  const WORDS = {
    zh: { waiting: "等待信号，有信号后自动发送", sending: "正在发送…", sent: "已发送", invalid: "没有保存：", signedout: "已退出登录：重新扫码登录后会自动发送", photo: "照片无法使用，请重新拍一张再记一次", uploading: "照片上传中…", uploaded: "照片已上传", offline: "没有信号：照片会和记录一起发送", mismatch: "服务器准备的记录和表单不一致，手机没有签名：请重新记一次" },
    en: { waiting: "waiting for a signal; sent when it returns", sending: "sending…", sent: "sent", invalid: "not saved: ", signedout: "signed out: sent once you scan your card again", photo: "the photo could not be used; take another and log again", uploading: "uploading the photo…", uploaded: "photo uploaded", offline: "no signal: the photo goes with the record", mismatch: "the record the server prepared does not say what the form says, so the phone did not sign it: log it again" },
  };
  const say = (key) => WORDS[lang()][key];

  let opened = null;  // one connection for the page, not one per read
  function open() {
    opened = opened || new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 2);
      request.onupgradeneeded = () => {
        for (const name of [STORE, KEYS]) {
          if (!request.result.objectStoreNames.contains(name)) request.result.createObjectStore(name, { keyPath: "id" });
        }
      };
      request.onsuccess = () => {
        // A newer version of the script in another tab upgrades the database: let it.
        request.result.onversionchange = () => { request.result.close(); opened = null; };
        resolve(request.result);
      };
      request.onerror = () => { opened = null; reject(request.error); };
    });
    return opened;
  }
  async function store(mode, work, name = STORE) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(name, mode);
      const result = work(tx.objectStore(name));
      tx.oncomplete = () => resolve(result && result.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  const save = (item) => store("readwrite", (s) => s.put(item));
  const drop = (id) => store("readwrite", (s) => s.delete(id));
  const all = () => store("readonly", (s) => s.getAll());
  const one = (id) => store("readonly", (s) => s.get(id));
  const keys = (mode, work) => store(mode, work, KEYS);

  // -- the phone's own key (protocol §9) ------------------------------------------------------
  const DOMAIN = "suyuan/record/v1\n";
  // Refusals answered by preparing and signing the record again: another record of the lot came
  // first, the record waited too long to be sent, or a new lot's code was taken meanwhile.
  const SIGN_AGAIN = new Set(["stale", "clock_skew", "lot_exists"]);
  // The key no longer stands (a new sign-in card revoked it): make and register a new one.
  const KEY_GONE = new Set(["key_revoked", "unknown_key", "not_your_key"]);
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const signedIn = () => csrf() !== "";
  // RFC 8785, as the server's `rfc8785` writes it: ECMAScript's own number and string forms are
  // the ones JCS prescribes, and object keys sort by UTF-16 code units, as sort() does.
  function jcs(value) {
    if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
    if (value !== null && typeof value === "object") {
      return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${jcs(value[k])}`).join(",")}}`;
    }
    return JSON.stringify(value);
  }

  let keying = null;  // one key check per page, however many forms ask
  function phoneKey() {
    keying = keying || ensureKey(false).catch((failure) => { keying = null; throw failure; });
    return keying;
  }
  async function forgetKey() {
    keying = null;
    await keys("readwrite", (s) => s.delete("device"));
  }
  // The registered key, or null where the phone cannot make one (the server then signs);
  // rejects with {status} while the server cannot say whether the key stands.
  async function ensureKey(renewed) {
    if (!signedIn() || !window.isSecureContext || !window.crypto || !crypto.subtle) return null;
    let kept = await keys("readonly", (s) => s.get("device"));
    if (!kept) {
      let pair;
      try {
        pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      } catch (unsupported) {
        return null;  // no Ed25519 in this browser's WebCrypto
      }
      const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
      const keyid = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)));
      kept = { id: "device", privateKey: pair.privateKey, publicKey: b64(raw), keyid, session: "" };
      await keys("readwrite", (s) => s.put(kept));
    }
    if (kept.session === csrf()) return kept;  // registered in this session already
    let response;
    try {
      response = await fetch(`/grower/device-key?lang=${lang()}`, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ public_key: kept.publicKey }),
      });
    } catch (offline) {
      throw { status: 0 };
    }
    if (response.status === 200 || response.status === 201) {
      kept.session = csrf();
      await keys("readwrite", (s) => s.put(kept));
      return kept;
    }
    if (response.status === 409 && !renewed) {  // revoked by a new card, or someone else's: a new key
      await keys("readwrite", (s) => s.delete("device"));
      return ensureKey(true);
    }
    throw { status: response.status };
  }
  async function sign(key, prepared) {
    // The server prepared the record; the phone signs exactly its canonical text, once it has
    // checked that text is the canonical form of the payload it read.
    if (jcs(prepared.payload) !== prepared.canonical) throw { mismatch: true };
    const message = new TextEncoder().encode(DOMAIN + prepared.canonical);
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, message));
    return { payload: prepared.payload, signatures: [{ keyid: key.keyid, sig: b64(sig) }] };
  }
  // What the server prepared says what the form says: the phone signs nothing else.
  function saysEvent(item, payload) {
    const f = item.fields, data = payload.data || {};
    const input = f.type === "fertiliser" || f.type === "pesticide";
    const fromPhoto = f.photo_choice === "photo";  // the photo's time and place, as the grower chose
    if (payload.v !== 1 || payload.kind !== "event" || payload.lot !== item.lot) return false;
    if (payload.type !== (input ? "input" : f.type) || (input && data.kind !== f.type)) return false;
    if (!fromPhoto && f.occurred_at) {
      const minutes = Number(f.tz_offset || 480);
      if (Date.parse(payload.occurred_at) !== Date.parse(`${f.occurred_at}Z`) - minutes * 60000) return false;
    }
    for (const [name, value] of Object.entries(data)) {
      if (name === "kind" && input) continue;
      if (name === "place") {
        if (f.lat && !fromPhoto && (Math.abs(value.lat - Number(f.lat)) > 1e-6 || Math.abs(value.lon - Number(f.lon)) > 1e-6)) return false;
        continue;
      }
      const given = String((name === "phi_days" ? f.phi_days || f.phi_days_other : f[name]) || "").trim();
      if (given === "" || (typeof value === "number" ? value !== Number(given) : value !== given)) return false;
    }
    return (payload.evidence || []).map((e) => e.sha256).join(",") === (f.evidence || "");
  }
  function saysLot(fields, sources, payload) {
    return payload.v === 1 && payload.kind === "batch" && payload.seq === 0 && payload.prev === null &&
      payload.product === (fields.product || "").trim() && payload.variety === ((fields.variety || "").trim() || null) &&
      JSON.stringify((payload.inputs || []).map((i) => i.lot)) === JSON.stringify(sources);
  }
  async function answered(response) {
    return { status: response.status, answer: await response.json().catch(() => ({})) };
  }
  const code = (reply) => (reply.answer.error || {}).code;
  function sendRecord(record, idempotencyKey, again) {
    return fetch(`/grower/records?lang=${lang()}${again ? "&again=true" : ""}`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json", "Idempotency-Key": idempotencyKey, "X-CSRF-Token": csrf() },
      body: JSON.stringify(record),
    }).then(answered);
  }
  // Prepared, checked, signed, sent; prepared and signed again when the server asks. The signed
  // record is kept until it is in, so a retry sends the same bytes (its Idempotency-Key answers).
  async function sendSigned(item, key) {
    let reply = { status: 0, answer: {} };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (!item.record) {
        const prepared = await fetch(`/grower/lots/${item.lot}/prepare?lang=${lang()}`, {
          method: "POST",
          headers: { Accept: "application/json", "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(item.fields),
        }).then(answered);
        if (prepared.status !== 200) return prepared;
        if (!saysEvent(item, prepared.answer.payload)) throw { mismatch: true };
        item.record = await sign(key, prepared.answer);
        await save(item);
      }
      reply = await sendRecord(item.record, item.id, item.fields.again === "1");
      if (reply.status === 201 || !SIGN_AGAIN.has(code(reply))) break;
      item.record = null;
    }
    if (KEY_GONE.has(code(reply))) {
      item.record = null;
      await forgetKey();
      return { status: 0, answer: {} };  // sent again with a new key on the next round
    }
    return reply;
  }
  function sendForm(item) {
    return fetch(item.action, {
      method: "POST",
      headers: { Accept: "application/json", "Idempotency-Key": item.id, "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(item.fields),
    }).then(answered);
  }

  function describe(item) {
    if (item.state === "invalid") return say("invalid") + (item.problem || "");
    return say(item.state);
  }
  async function show() {
    const box = document.getElementById("outbox");
    if (!box) return;
    const items = await all();
    box.querySelector("ul").replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      li.dataset.state = item.state;
      li.textContent = `${item.title} · ${describe(item)}`;
      return li;
    }));
    box.hidden = items.length === 0;
  }

  // Resolves with the server's answer; rejects with {status} (0: no signal).
  function upload(file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/grower/photos?lang=${lang()}`);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((100 * e.loaded) / e.total));
      xhr.onload = () => (xhr.status === 201 ? resolve(JSON.parse(xhr.responseText)) : reject({ status: xhr.status, photo: true }));
      xhr.onerror = () => reject({ status: 0, photo: true });
      const body = new FormData();
      body.append("photo", file);
      xhr.send(body);
    });
  }

  // One attempt to deliver a kept record; its new state says what happened.
  async function deliver(item) {
    try {
      if (item.photo && !item.fields.evidence) {
        item.fields.evidence = (await upload(item.photo, () => {})).sha256;
        await save(item);
      }
      const key = await phoneKey();
      const { status, answer } = key ? await sendSigned(item, key) : await sendForm(item);
      if (status === 201) Object.assign(item, { state: "sent", photo: null, record: null, answer: { ...answer, phone: !!key } });
      else if (status === 401 || status === 403) item.state = "signedout";
      else if (status >= 400 && status < 500) Object.assign(item, { state: "invalid", problem: (answer.error || {}).message || `HTTP ${status}` });
      else item.state = "waiting";  // no signal, or the server is busy or down: try again
    } catch (failure) {
      // No signal (a rejected fetch, an upload or a key check with status 0) waits; a photo the
      // server refused does not, nor a record the phone would not sign.
      if (failure && failure.mismatch) Object.assign(item, { state: "mismatch", record: null });
      else item.state = failure && failure.photo && failure.status >= 400 && failure.status < 500 ? "photo" : "waiting";
    }
  }

  let flushing = false;
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      for (const item of await all()) {
        if (item.state === "sent") {
          if (item.shown) await drop(item.id);  // a sent record is shown once, then forgotten
          else { item.shown = true; await save(item); }
          continue;
        }
        if (["invalid", "photo", "mismatch"].includes(item.state)) continue;  // kept and shown until its form is done again
        await deliver(item);
        await save(item);
      }
      await show();
    } finally {
      flushing = false;
      document.dispatchEvent(new Event("outbox"));
    }
  }

  function prepare(form) {
    const tz = form.querySelector("input[name=tz_offset]");
    if (tz) tz.value = String(-new Date().getTimezoneOffset());
    const photo = form.querySelector("input[name=photo]");
    const progress = document.getElementById("photo-progress");
    const state = document.getElementById("photo-state");
    if (photo) photo.addEventListener("change", async () => {
      const file = photo.files[0];
      if (!file) return;
      form.elements.evidence.value = "";
      if (!navigator.onLine) { state.textContent = say("offline"); return; }
      progress.hidden = false;
      progress.value = 0;
      state.textContent = say("uploading");
      try {
        const answer = await upload(file, (p) => (progress.value = p));
        form.elements.evidence.value = answer.sha256;
        progress.value = 100;
        state.textContent = [say("uploaded"), ...answer.advice].join(" ");
        const exif = answer.exif || {};
        if (exif.lat != null && form.elements.lat && !form.elements.lat.value && !form.elements.lon.value) {
          form.elements.lat.value = exif.lat.toFixed(6);
          form.elements.lon.value = exif.lon.toFixed(6);
        }
      } catch (failure) {
        progress.hidden = true;
        state.textContent = failure.status ? say("photo") : say("offline");
      }
    });

    const status = document.getElementById("submit-state");
    const lotPage = `/grower/lots/${form.dataset.lot}?lang=${lang()}`;
    let sending = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = {};
      // With the button pressed: "log it again", or which of the photo's and the form's time to keep.
      for (const [name, value] of new FormData(form, event.submitter)) if (typeof value === "string" && name !== "csrf") fields[name] = value;
      const file = photo && photo.files[0] && !fields.evidence ? photo.files[0] : null;
      sending = fields.idempotency_key;
      await save({ id: sending, action: form.action, fields, photo: file, lot: form.dataset.lot, title: form.dataset.title, state: "waiting" });
      status.textContent = say("sending");
      await flush();
    });
    // After every attempt, by this page or in the background: go back to the lot once the record is in.
    document.addEventListener("outbox", async () => {
      if (!sending) return;
      const item = await one(sending);
      if (!item) return;
      if (item.state === "sent") {
        sessionStorage.setItem("suyuan-logged", JSON.stringify(item.answer || {}));
        sending = null;
        location.assign(lotPage);
      } else if (item.state === "invalid") {
        await drop(item.id);  // the server shows the form again, with what to correct next to each field
        sending = null;
        form.submit();
      } else {
        status.textContent = describe(item);
      }
    });
  }

  for (const button of document.querySelectorAll("[data-locate]")) {
    if (!navigator.geolocation) continue;
    button.hidden = false;
    const [lat, lon] = button.dataset.locate.split(" ").map((id) => document.getElementById(id));
    button.addEventListener("click", () => navigator.geolocation.getCurrentPosition((p) => {
      lat.value = p.coords.latitude.toFixed(6);
      lon.value = p.coords.longitude.toFixed(6);
    }));
  }
  // Back at the lot after a record went in: say so, with the server's advice about it.
  const logged = document.getElementById("logged"), answer = sessionStorage.getItem("suyuan-logged");
  if (logged && answer) {
    sessionStorage.removeItem("suyuan-logged");
    let advice = [];
    try { advice = JSON.parse(answer).advice || []; } catch (damaged) { /* show the heading alone */ }
    logged.querySelector("ul").replaceChildren(...advice.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
    logged.hidden = false;
  }
  // What a form signed in one go says, by its kind: a new lot, a correction, the certificate.
  const SAYS = {
    lot: (form, fields, payload) => saysLot(fields, [...form.querySelectorAll("input[name=from]:checked")].map((box) => box.value), payload),
    correction: (form, fields, payload) => {
      const data = payload.data || {};
      return saysOf(form, payload, "correction") && data.corrects === Number(form.dataset.seq) &&
        data.reason === (fields.reason || "").trim() && (fields.void === "1") === !data.replacement;
    },
    certificate: (form, fields, payload) => {
      const data = payload.data || {};
      const basis = [...form.querySelectorAll("input[name=basis]:checked")].map((box) => box.value);
      return saysOf(form, payload, "certificate") && data.quantity === Number(fields.quantity) &&
        data.unit === fields.unit && JSON.stringify(data.basis) === JSON.stringify(basis);
    },
  };
  const saysOf = (form, payload, type) => payload.v === 1 && payload.kind === "event" && payload.lot === form.dataset.lot && payload.type === type;
  // A form signed on the phone as it is sent: online only, as without the script. Whatever the
  // phone cannot do itself goes to the server as the plain form, which shows what to correct.
  function signForm(form) {
    const status = document.getElementById("submit-state");
    const native = () => form.submit();  // no submit event: the script does not see it again
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      let key = null;
      try {
        key = await phoneKey();
      } catch (unreachable) { /* no answer about the key: the form goes as it would without the script */ }
      if (!key) return native();
      if (status) status.textContent = say("sending");
      const fields = Object.fromEntries([...new FormData(form)].filter(([, value]) => typeof value === "string"));
      const body = new URLSearchParams(new FormData(form));
      try {
        for (let attempt = 0; attempt < 3; attempt += 1) {
          const prepared = await fetch(`${form.dataset.prepare}?lang=${lang()}`, {
            method: "POST",
            headers: { Accept: "application/json", "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
            body,
          }).then(answered);
          if (prepared.status !== 200) return native();
          if (!SAYS[form.dataset.sign](form, fields, prepared.answer.payload)) throw { mismatch: true };
          const reply = await sendRecord(await sign(key, prepared.answer), fields.idempotency_key, false);
          if (reply.status === 201) {
            const lot = reply.answer.lot || form.dataset.lot;
            return location.assign(`/grower/lots/${lot}?lang=${lang()}${reply.answer.seq ? `&logged=${reply.answer.seq}` : ""}`);
          }
          if (KEY_GONE.has(code(reply))) {  // revoked meanwhile: a new key signs it
            await forgetKey();
            key = await phoneKey();
            if (!key) return native();
          } else if (!SIGN_AGAIN.has(code(reply))) {
            return native();
          }
        }
      } catch (failure) {
        if (failure && failure.mismatch) {  // the phone signs nothing it was not asked to
          if (status) status.textContent = say("mismatch");
          return;
        }
      }
      native();
    });
  }
  // Signing out forgets the phone's key: the next grower to sign in on this phone makes their own.
  for (const form of document.querySelectorAll('form[action="/grower/sign-out"]')) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try { await forgetKey(); } finally { form.submit(); }
    });
  }
  document.querySelectorAll("form[data-outbox]").forEach(prepare);
  document.querySelectorAll("form[data-sign]").forEach(signForm);
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  // Right after the card sign-in: the key is made and registered on the first page.
  if (signedIn()) phoneKey().catch(() => { /* tried again when a record is sent */ });
  show().then(flush);
})();
