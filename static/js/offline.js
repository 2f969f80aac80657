// Sending scans, keeping them while the server cannot be reached, and saying so on screen.

const TIMEOUT_MS = 8000;
const PING_ONLINE_MS = 15000;
const PING_OFFLINE_MS = 3000;
const MAX_KEPT = 2000;
const SENT_NOTE_MS = 6000;

/** A fresh id for one scan, so a retry of the same scan is recognised by the server. */
export function newScanId() {
  if (window.crypto && crypto.randomUUID && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function csrfToken(form) {
  try {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
  } catch {
    /* fall back to the form field */
  }
  const field = form && form.querySelector("input[name=csrf_token]");
  return field ? field.value : "";
}

export class ScanSender {
  constructor({ scanUrl, pingUrl, stationId, status, form }) {
    this.scanUrl = scanUrl;
    this.pingUrl = pingUrl;
    this.form = form;
    this.status = status;
    this.storageKey = `kiosk.queue.${stationId}`;
    this.kept = this.load();
    this.online = true;
    this.flushing = false;
    this.pingTimer = null;
    this.noteTimer = null;
    this.listen();
    this.render();
    this.schedulePing(this.kept.length ? 0 : PING_ONLINE_MS);
  }

  load() {
    try {
      const kept = JSON.parse(localStorage.getItem(this.storageKey) || "[]");
      return Array.isArray(kept) ? kept : [];
    } catch {
      return [];
    }
  }

  save() {
    try {
      if (this.kept.length) localStorage.setItem(this.storageKey, JSON.stringify(this.kept));
      else localStorage.removeItem(this.storageKey);
    } catch {
      /* storage full or disabled: the in-memory queue still holds the scans */
    }
  }

  listen() {
    // htmx requests (desk search, undo) tell us about the connection too.
    document.body.addEventListener("htmx:sendError", () => this.setOnline(false));
    document.body.addEventListener("htmx:afterRequest", (event) => {
      const xhr = event.detail && event.detail.xhr;
      if (xhr && xhr.status > 0 && xhr.status < 500) this.setOnline(true);
    });
    window.addEventListener("offline", () => this.setOnline(false));
    window.addEventListener("online", () => this.schedulePing(0));
  }

  /** Post one scan ITEM ({code, scan_id, fields}); resolves {status, html} or {kept: true}. */
  async send(item) {
    if (!this.online) {
      this.keep(item);
      return { kept: true };
    }
    let response;
    try {
      response = await this.post(item);
    } catch {
      this.keep(item);
      this.setOnline(false);
      return { kept: true };
    }
    if (response.status >= 502 && response.status <= 504) {
      this.keep(item);
      this.setOnline(false);
      return { kept: true };
    }
    this.setOnline(true);
    this.setUnpaired(response.headers.get("Kiosk-Unpaired") === "1");
    return { status: response.status, html: await response.text() };
  }

  async post(item) {
    const body = new FormData();
    for (const [name, value] of Object.entries(item.fields || {})) body.append(name, value);
    body.set("code", item.code);
    body.set("scan_id", item.scan_id);
    body.set("csrf_token", csrfToken(this.form));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      return await fetch(this.scanUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRFToken": csrfToken(this.form) },
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  keep(item) {
    if (this.kept.some((kept) => kept.scan_id === item.scan_id)) return;
    this.kept.push(item);
    if (this.kept.length > MAX_KEPT) this.kept.splice(0, this.kept.length - MAX_KEPT);
    this.save();
    this.render();
  }

  setOnline(online) {
    if (online === this.online) return;
    this.online = online;
    this.render();
    if (online) this.flush();
    this.schedulePing(online ? PING_ONLINE_MS : PING_OFFLINE_MS);
  }

  schedulePing(delay) {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.ping(), delay);
  }

  async ping() {
    let reachable = false;
    try {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
      const response = await fetch(this.pingUrl, {
        credentials: "same-origin", cache: "no-store", signal: controller.signal, headers: { "HX-Request": "true" },
      });
      clearTimeout(timer);
      reachable = response.status < 500;
      this.setUnpaired(response.headers.get("Kiosk-Unpaired") === "1");
    } catch {
      reachable = false;
    }
    if (reachable && this.online && this.kept.length) this.flush();
    this.setOnline(reachable);
    this.schedulePing(this.online ? PING_ONLINE_MS : PING_OFFLINE_MS);
  }

  /** Send the kept scans in order, each with its own scan id (the server answers a repeat with the first answer). */
  async flush() {
    if (this.flushing || !this.kept.length) return;
    this.flushing = true;
    let sent = 0;
    try {
      while (this.kept.length && this.online) {
        const item = this.kept[0];
        let response;
        try {
          response = await this.post(item);
        } catch {
          this.setOnline(false);
          break;
        }
        if (response.status >= 502 && response.status <= 504) {
          this.setOnline(false);
          break;
        }
        if (response.status === 429) break; // the server wants a pause; the next ping tries again
        this.kept.shift();
        this.save();
        sent += 1;
      }
    } finally {
      this.flushing = false;
      this.render(sent);
    }
  }

  /** A revoked station's server answers Kiosk-Unpaired: say so in place of "Online" (and stop queueing). */
  setUnpaired(unpaired) {
    if (unpaired === Boolean(this.unpaired)) return;
    this.unpaired = unpaired;
    this.render();
  }

  render(sent = 0) {
    const status = this.status;
    if (!status) return;
    if (this.unpaired) {
      status.textContent = status.dataset.unpairedText;
      status.classList.remove("online");
      status.classList.add("offline");
      return;
    }
    let text = status.dataset.onlineText;
    if (!this.online) {
      const queued = this.kept.length === 1 ? status.dataset.queuedOneText : status.dataset.queuedText;
      text = this.kept.length ? queued.replace("{count}", this.kept.length) : status.dataset.offlineText;
    } else if (sent) {
      text = (sent === 1 ? status.dataset.sentOneText : status.dataset.sentText).replace("{count}", sent);
      clearTimeout(this.noteTimer);
      this.noteTimer = setTimeout(() => this.render(), SENT_NOTE_MS);
    }
    status.textContent = text;
    status.classList.toggle("online", this.online);
    status.classList.toggle("offline", !this.online);
    status.dataset.kept = String(this.kept.length);
  }
}
