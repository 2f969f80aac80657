// The kiosk page: camera, handheld scanner and typed codes all become one scan, answered full screen.
import { Camera, createDetector } from "./camera.js";
import { ScanSender, newScanId } from "./offline.js";
import { printBadge } from "./print.js";
import { play, unlockAudio } from "./sounds.js";
import { listenForWedge } from "./wedge.js";

const SAME_CODE_MS = 5000; // a badge held in front of the camera is seen in many frames: scan it once
const FULL_CODE = /^K1-?[A-Z0-9]{17}$/i;

function start(root) {
  const form = document.getElementById("scan-form");
  const codeInput = document.getElementById("scan-code");
  const stationId = root.dataset.station;
  const resultMs = Number(root.dataset.resultSeconds || 6) * 1000;
  const staffed = root.dataset.staffed === "1";
  const sender = new ScanSender({
    scanUrl: root.dataset.scanUrl,
    pingUrl: root.dataset.pingUrl,
    stationId,
    status: document.getElementById("connection-status"),
    form,
  });
  const recent = new Map(); // code -> when it was last taken, oldest first
  let latest = 0;
  let answers = 0;
  let clearTimer = null;

  function seenRecently(code, now) {
    for (const [seen, at] of recent) {
      if (now - at < SAME_CODE_MS) break;
      recent.delete(seen);
    }
    const seen = recent.has(code);
    // Each sighting restarts the wait: a badge held up for a while is one scan, not one per 5 s.
    recent.delete(code);
    recent.set(code, now);
    return seen;
  }

  function extraFields() {
    // Fields a page adds to the form (the room door's in/out), sent with every scan.
    const fields = {};
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string" && !["code", "scan_id", "csrf_token"].includes(name)) fields[name] = value;
    }
    return fields;
  }

  async function submit(raw, source) {
    const code = String(raw || "").trim();
    if (!code) return;
    const started = performance.now();
    if (source !== "form" && seenRecently(code.toUpperCase(), started)) return;
    unlockAudio();
    const item = { code, scan_id: newScanId(), fields: extraFields(), at: Date.now() };
    const mine = ++latest;
    root.classList.add("is-sending");
    let answer;
    try {
      answer = await sender.send(item);
    } catch {
      answer = {};
    }
    answers += 1;
    if (mine !== latest) return; // a newer scan is on its way; its answer is the one to show
    root.classList.remove("is-sending");
    if (answer.kept) showTemplate("queued-result");
    else if (!answer.html || !swapResult(answer.html)) showTemplate("error-result");
    root.dataset.answers = String(answers);
    root.dataset.lastAnswerMs = String(Math.round(performance.now() - started));
  }

  // Parsed here rather than with htmx.swap, which kept about two DOM nodes alive per call
  // (htmx 2.0.8): a kiosk answers thousands of scans in one page.
  const parser = document.createElement("template");

  function swapResult(html) {
    parser.innerHTML = html;
    const fresh = parser.content.querySelector("#scan-result");
    const current = document.getElementById("scan-result");
    if (fresh && current) {
      current.replaceWith(fresh);
      window.htmx.process(fresh);
      // The same event an htmx swap fires: onResult runs from it, and the room door's counts refresh on it.
      fresh.dispatchEvent(new CustomEvent("htmx:afterSwap", { bubbles: true, detail: { elt: fresh, target: fresh } }));
    }
    parser.innerHTML = "";
    return Boolean(fresh && current);
  }

  function showTemplate(id) {
    const template = document.getElementById(id);
    const current = document.getElementById("scan-result");
    if (!template || !current) return null;
    const fresh = template.content.querySelector("#scan-result").cloneNode(true);
    current.replaceWith(fresh);
    onResult(fresh);
    return fresh;
  }

  function showIdle() {
    clearTimeout(clearTimer);
    const shown = document.getElementById("scan-result");
    // Staff typing in the answer (the reason to let in a cancelled registration) keep it open.
    if (shown && shown.contains(document.activeElement) && document.activeElement.matches("input, textarea")) {
      clearTimer = setTimeout(showIdle, resultMs);
      return;
    }
    if (shown && shown.dataset.outcome !== "idle") showTemplate("idle-result");
    release();
    if (staffed && (document.activeElement === document.body || document.activeElement === root || !document.activeElement)) {
      codeInput.focus();
    }
  }

  // While an answer covers the screen, everything behind it is inert: Tab stays in the answer and a
  // screen reader reads only it (WCAG 2.4.3). The handheld scanner listens on the document, so it
  // keeps working. Escape or OK gives the screen back with focus where it was.
  let returnFocus = null;
  let behind = [];

  function holdFocus(result) {
    if (!behind.length) {
      const active = document.activeElement;
      returnFocus = active && active !== document.body && !result.contains(active) ? active : null;
      behind = [...document.body.children].filter((element) => !element.contains(result) && element.tagName !== "SCRIPT");
      for (let element = result; element.parentElement && element !== document.body; element = element.parentElement) {
        for (const sibling of element.parentElement.children) {
          if (sibling !== element && !behind.includes(sibling) && sibling.tagName !== "TEMPLATE") behind.push(sibling);
        }
      }
      for (const element of behind) element.inert = true;
    }
    const card = result.querySelector(".result-card") || result;
    card.tabIndex = -1;
    card.focus({ preventScroll: true });
  }

  function release() {
    if (!behind.length) return;
    for (const element of behind) element.inert = false;
    behind = [];
    const target = returnFocus;
    returnFocus = null;
    if (target && target.isConnected) target.focus({ preventScroll: true });
  }

  function restartTimer() {
    clearTimeout(clearTimer);
    clearTimer = setTimeout(showIdle, resultMs);
  }

  function showing() {
    const shown = document.getElementById("scan-result");
    return Boolean(shown && shown.dataset.outcome !== "idle");
  }

  // Any key or touch while an answer shows keeps it up for the full time again (WCAG 2.2.1).
  document.addEventListener("keydown", (event) => {
    if (!showing()) return;
    if (event.key === "Escape") {
      event.preventDefault();
      showIdle();
    } else {
      restartTimer();
    }
  });
  document.addEventListener("pointerdown", () => { if (showing()) restartTimer(); });

  function onResult(result) {
    clearTimeout(clearTimer);
    if (result.dataset.outcome === "idle") {
      release();
      return;
    }
    holdFocus(result);
    const sound = result.dataset.sound;
    root.dataset.lastSound = sound && play(sound) ? sound : "muted";
    root.dataset.lastOutcome = result.dataset.outcome;
    if (result.dataset.printUrl && root.dataset.printOnArrival === "1") {
      printBadge(result.dataset.printUrl, result.dataset.printedUrl, form.querySelector("input[name=csrf_token]").value);
    }
    restartTimer();
  }

  // Every answer, whether swapped here or by htmx (desk search check-in, undo), starts the same way.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.target && event.target.id === "scan-result") onResult(event.target);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = codeInput.value;
    codeInput.value = "";
    submit(code, "form");
  });

  root.addEventListener("click", (event) => {
    const result = event.target.closest("#scan-result");
    if (!result || result.dataset.outcome === "idle") return;
    if (event.target.closest(".result-dismiss")) {
      event.preventDefault();
      showIdle();
    } else if (event.target === result) {
      showIdle(); // a tap beside the card
    }
  });

  const search = document.getElementById("desk-search");
  if (search) {
    // A handheld scan while the search box has focus is still a scan, not a search.
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && FULL_CODE.test(search.value.trim())) {
        event.preventDefault();
        const code = search.value;
        search.value = "";
        submit(code, "wedge");
      }
    });
  }

  listenForWedge((code) => submit(code, "wedge"));
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  const camera = new Camera({
    video: document.getElementById("camera-video"),
    hint: document.getElementById("camera-hint"),
    switchButton: document.getElementById("camera-switch"),
    storageKey: `kiosk.camera.${stationId}`,
    detector: createDetector({ ponyfillUrl: root.dataset.ponyfillUrl, wasmUrl: root.dataset.wasmUrl }),
    onCode: (code) => submit(code, "camera"),
    onOpen: unlockAudio,
    onState: (state) => {
      if (state === "decoder-ready") root.dataset.decoder = "ready";
      else root.dataset.camera = state;
    },
    texts: { denied: root.dataset.cameraDeniedText, missing: root.dataset.cameraMissingText },
  });
  camera.start();

  // A page answered by the no-JavaScript path (?result=) clears like any other answer.
  const initial = document.getElementById("scan-result");
  if (initial && initial.dataset.outcome !== "idle") {
    history.replaceState(null, "", root.dataset.idleUrl);
    onResult(initial);
  }
  root.dataset.ready = "1";
}

const kiosk = document.getElementById("kiosk");
if (kiosk) start(kiosk);
