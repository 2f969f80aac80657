// Capacity alerts on live room pages: each room's 90% and full alert shows once (per session of the
// program, remembered in sessionStorage) in #alert-banner with a beep; also marks a lost connection.

const STORE = "kiosk-alert:";
let audio = null;

function context() {
  if (!audio) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    audio = new Context();
  }
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

// Two rising tones at 90%, three urgent ones when full.
function beep(level) {
  const ctx = context();
  if (!ctx) return;
  const tones = level === "full" ? [880, 660, 880] : [660, 880];
  tones.forEach((frequency, index) => {
    const oscillator = ctx.createOscillator();
    const gain = ctx.createGain();
    const start = ctx.currentTime + index * 0.28;
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.5, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.24);
    oscillator.connect(gain).connect(ctx.destination);
    oscillator.start(start);
    oscillator.stop(start + 0.26);
  });
}

function seen(key) {
  try {
    if (sessionStorage.getItem(STORE + key)) return true;
    sessionStorage.setItem(STORE + key, String(Date.now()));
  } catch (_error) {
    // Private mode without storage: alert anyway, once per page load.
    if (seen.memory.has(key)) return true;
    seen.memory.add(key);
  }
  return false;
}
seen.memory = new Set();

let hideTimer = null;

function show(element) {
  const banner = document.getElementById("alert-banner");
  if (!banner) return;
  // One line per room: its full alert replaces its 90 % alert, never both (defect 4).
  const room = (element.dataset.alertKey || "").split(":")[0];
  for (const old of banner.querySelectorAll(".alert-list li")) {
    if (room && old.dataset.room === room) old.remove();
  }
  const item = document.createElement("li");
  item.dataset.room = room;
  item.className = "alert-" + element.dataset.alert;
  item.textContent = element.textContent.trim();
  banner.querySelector(".alert-list").prepend(item);
  banner.dataset.level = banner.querySelector(".alert-list .alert-full") ? "full" : element.dataset.alert;
  banner.hidden = false;
  const seconds = Number(banner.dataset.autohide || 0);
  if (seconds > 0) {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(dismiss, seconds * 1000);
  }
}

function dismiss() {
  const banner = document.getElementById("alert-banner");
  if (!banner) return;
  banner.hidden = true;
  banner.querySelector(".alert-list").replaceChildren();
}

function check(root) {
  if (!root || !root.querySelectorAll) return;
  const found = [...root.querySelectorAll("[data-alert]")];
  if (root.matches && root.matches("[data-alert]")) found.push(root);
  let loudest = null;
  for (const element of found) {
    if (seen(element.dataset.alertKey || element.textContent)) continue;
    show(element);
    if (loudest !== "full") loudest = element.dataset.alert;
  }
  if (loudest) beep(loudest);
}

function connection(online) {
  const status = document.getElementById("live-status");
  if (status) status.hidden = online;
  document.body.classList.toggle("offline", !online);
}

function fromLive(event) {
  const element = event.detail && event.detail.elt;
  return element && element.closest && element.closest("[data-live]");
}

document.addEventListener("htmx:load", (event) => check(event.detail.elt));
for (const name of ["htmx:sendError", "htmx:timeout", "htmx:responseError"]) {
  document.addEventListener(name, (event) => { if (fromLive(event)) connection(false); });
}
document.addEventListener("htmx:afterRequest", (event) => {
  if (fromLive(event) && event.detail.successful) connection(true);
});
document.addEventListener("click", (event) => {
  context();  // browsers only start audio after a tap: the first one unlocks it
  if (event.target.closest("[data-alert-dismiss]")) dismiss();
  if (event.target.closest("[data-sound-test]")) beep("90");
});
// A handheld scanner types the code and Enter: clear the field for the next badge.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (form && form.matches && form.matches("form[data-clear-after-submit]")) {
    const input = form.querySelector("input[name=code]");
    if (input) { input.value = ""; input.focus(); }
  }
});
check(document.body);

// +1 / −1: say the new count in the polite live region, and ask before counting past a full room.
function liveCounts() {
  return document.getElementById("room-live") || document.getElementById("door-counts");
}

function countForm(element) {
  return element && element.closest && element.closest(".count-buttons form");
}

document.addEventListener("htmx:confirm", (event) => {
  const form = countForm(event.detail.elt);
  const status = document.getElementById("count-status");
  const counts = liveCounts();
  if (!form || !status || !counts || form.querySelector("input[name=delta]").value !== "1") return;
  if (counts.classList.contains("level-full") && !window.confirm(status.dataset.fullText)) event.preventDefault();
});

document.addEventListener("htmx:afterSettle", (event) => {
  const config = event.detail.requestConfig;
  const status = document.getElementById("count-status");
  const counts = liveCounts();
  if (!status || !counts || !config || !countForm(config.elt)) return;
  const number = counts.querySelector(".big-number").textContent.replace(/\s+/g, " ").trim();
  const level = counts.querySelector(".level-text").textContent.trim();
  status.textContent = `${number} — ${level}`;
});
