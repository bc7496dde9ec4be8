// The grower app's script. Without it every form still works; with it:
// - a record is kept on the phone (IndexedDB) until the server has it, so no signal loses
//   nothing; each carries the Idempotency-Key drawn with its form, so a retry never
//   appends twice;
// - a photo goes up as soon as it is taken, with a progress bar, and fills in the place it
//   carries when the form has none. Its time is never copied over the form's: when the two
//   disagree the server asks the grower which is right (see grower/checks.py).
"use strict";
(function () {
  const DB = "suyuan-grower", STORE = "outbox";
  const csrf = () => (document.querySelector("input[name=csrf]") || {}).value || "";
  const lang = () => document.documentElement.lang.startsWith("zh") ? "zh" : "en";
  const WORDS = {
    zh: { waiting: "等待信号，有信号后自动发送", sending: "正在发送…", sent: "已发送", invalid: "没有保存：", signedout: "已退出登录：重新扫码登录后会自动发送", photo: "照片无法使用，请重新拍一张再记一次", uploading: "照片上传中…", uploaded: "照片已上传", offline: "没有信号：照片会和记录一起发送" },
    en: { waiting: "waiting for a signal; sent when it returns", sending: "sending…", sent: "sent", invalid: "not saved: ", signedout: "signed out: sent once you scan your card again", photo: "the photo could not be used; take another and log again", uploading: "uploading the photo…", uploaded: "photo uploaded", offline: "no signal: the photo goes with the record" },
  };
  const say = (key) => WORDS[lang()][key];

  let opened = null;  // one connection for the page, not one per read
  function open() {
    opened = opened || new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => { opened = null; reject(request.error); };
    });
    return opened;
  }
  async function store(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && result.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  const save = (item) => store("readwrite", (s) => s.put(item));
  const drop = (id) => store("readwrite", (s) => s.delete(id));
  const all = () => store("readonly", (s) => s.getAll());
  const one = (id) => store("readonly", (s) => s.get(id));

  function describe(item) {
    if (item.state === "invalid") return say("invalid") + (item.problem || "");
    if (item.state === "photo") return say("photo");
    if (item.state === "signedout") return say("signedout");
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
      xhr.onload = () => (xhr.status === 201 ? resolve(JSON.parse(xhr.responseText)) : reject({ status: xhr.status }));
      xhr.onerror = () => reject({ status: 0 });
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
      const response = await fetch(item.action, {
        method: "POST",
        headers: { Accept: "application/json", "Idempotency-Key": item.id, "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(item.fields),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 201) Object.assign(item, { state: "sent", photo: null, answer });
      else if (response.status === 401 || response.status === 403) item.state = "signedout";
      else if (response.status >= 400 && response.status < 500) Object.assign(item, { state: "invalid", problem: (answer.error || {}).message || `HTTP ${response.status}` });
      else item.state = "waiting";  // the server is busy or down: try again
    } catch (failure) {
      // No signal (a rejected fetch, or an upload with status 0) waits; a photo the server refused does not.
      item.state = failure && failure.status >= 400 && failure.status < 500 ? "photo" : "waiting";
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
        if (item.state === "invalid" || item.state === "photo") continue;  // kept and shown until its form is done again
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
  document.querySelectorAll("form[data-outbox]").forEach(prepare);
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  show().then(flush);
})();
