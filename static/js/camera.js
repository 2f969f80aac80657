// The kiosk camera: open it, let staff switch cameras, decode QR codes from its frames, keep it running all day.

const MAX_SIDE = 800; // decode a downscaled frame: fast enough for every frame, sharp enough for a badge
const DECODE_INTERVAL_MS = 60;
const WATCHDOG_MS = 3000;
const STUCK_MS = 8000;
const RETRY_MS = 30000;

/** A BarcodeDetector for QR codes: the browser's own, else the zxing-wasm ponyfill served by this site. */
export async function createDetector({ ponyfillUrl, wasmUrl }) {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) return new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch {
      /* fall through to the ponyfill */
    }
  }
  const { BarcodeDetector, prepareZXingModule } = await import(ponyfillUrl);
  // Never the CDN default: the kiosk must work without internet.
  await prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
    fireImmediately: true,
  });
  return new BarcodeDetector({ formats: ["qr_code"] });
}

export class Camera {
  constructor({ video, hint, switchButton, storageKey, detector, onCode, onOpen, onState, texts }) {
    this.video = video;
    this.hint = hint;
    this.switchButton = switchButton;
    this.storageKey = storageKey;
    this.detector = detector; // a promise of a detector
    this.onCode = onCode;
    this.onOpen = onOpen;
    this.onState = onState || (() => {});
    this.texts = texts || {};
    this.stream = null;
    this.opening = null;
    this.frameHandle = null;
    this.frameIsTimeout = false;
    this.busy = false;
    this.lastDecode = 0;
    this.lastTime = -1;
    this.lastProgress = 0;
    this.retryTimer = null;
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.onFrame = this.onFrame.bind(this);
    this.resolvedDetector = null;
  }

  start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      // Not a secure context (plain http on a LAN address) or no camera support at all.
      this.showHint(this.texts.missing, "unsupported");
      return;
    }
    Promise.resolve(this.detector).then((detector) => {
      this.resolvedDetector = detector;
      this.onState("decoder-ready");
    }, () => this.showHint(this.texts.missing, "no-decoder"));
    navigator.mediaDevices.addEventListener("devicechange", () => {
      if (!this.stream) this.open();
      this.updateSwitch();
    });
    this.switchButton.addEventListener("click", () => this.switchCamera());
    document.addEventListener("visibilitychange", () => {
      if (document.hidden || !this.stream) return;
      this.lastProgress = performance.now();
      this.schedule();
    });
    setInterval(() => this.watchdog(), WATCHDOG_MS);
    this.open();
  }

  get chosenDevice() {
    try {
      return localStorage.getItem(this.storageKey) || null;
    } catch {
      return null;
    }
  }

  set chosenDevice(deviceId) {
    try {
      if (deviceId) localStorage.setItem(this.storageKey, deviceId);
      else localStorage.removeItem(this.storageKey);
    } catch {
      /* private mode: the choice lasts until the page reloads */
    }
  }

  open() {
    if (!this.opening) {
      this.opening = this.openStream().finally(() => {
        this.opening = null;
      });
    }
    return this.opening;
  }

  async openStream() {
    this.stop();
    const size = { width: { ideal: 1280 }, height: { ideal: 720 } };
    const wanted = this.chosenDevice;
    // facingMode only as {ideal}: {exact} fails on cameras that report no facing mode.
    const attempts = wanted ? [{ deviceId: { exact: wanted }, ...size }] : [];
    attempts.push({ facingMode: { ideal: "environment" }, ...size }, true);
    let lastError = null;
    for (const video of attempts) {
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
        break;
      } catch (error) {
        lastError = error;
        if (error && error.name === "NotAllowedError") break;
        if (video !== true && video.deviceId) this.chosenDevice = null; // that camera is gone
      }
    }
    if (!this.stream) {
      const denied = lastError && (lastError.name === "NotAllowedError" || lastError.name === "SecurityError");
      this.showHint(denied ? this.texts.denied : this.texts.missing, denied ? "denied" : "missing");
      if (!denied) this.retryLater();
      return false;
    }
    this.hideHint();
    const track = this.stream.getVideoTracks()[0];
    if (track) track.onended = () => this.open(); // unplugged or taken by the system: reopen
    this.video.srcObject = this.stream;
    try {
      await this.video.play();
    } catch {
      /* autoplay muted video may still start on the next frame */
    }
    this.lastProgress = performance.now();
    this.schedule();
    this.updateSwitch();
    this.onState("open");
    if (this.onOpen) this.onOpen();
    return true;
  }

  stop() {
    this.cancelFrame();
    if (this.stream) {
      for (const track of this.stream.getTracks()) {
        track.onended = null;
        track.stop();
      }
    }
    this.stream = null;
    this.video.srcObject = null;
  }

  retryLater() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stream) this.open();
    }, RETRY_MS);
  }

  showHint(text, state) {
    this.onState(state);
    if (text) this.hint.textContent = text;
    this.hint.hidden = false;
    document.body.classList.add("no-camera");
  }

  hideHint() {
    this.hint.hidden = true;
    document.body.classList.remove("no-camera");
  }

  async updateSwitch() {
    const cameras = await this.cameras();
    this.switchButton.hidden = cameras.length < 2;
  }

  async cameras() {
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      return devices.filter((device) => device.kind === "videoinput");
    } catch {
      return [];
    }
  }

  /** Cycle to the next camera and remember it for this station. */
  async switchCamera() {
    const cameras = await this.cameras();
    if (cameras.length < 2) return;
    const track = this.stream && this.stream.getVideoTracks()[0];
    const current = track ? track.getSettings().deviceId : this.chosenDevice;
    const index = cameras.findIndex((camera) => camera.deviceId === current);
    this.chosenDevice = cameras[(index + 1) % cameras.length].deviceId;
    await this.open();
  }

  /** One pending frame callback at most, so reopening never doubles the decode loop. */
  schedule() {
    if (this.frameHandle !== null || !this.stream || document.hidden) return;
    if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
      this.frameIsTimeout = false;
      this.frameHandle = this.video.requestVideoFrameCallback(this.onFrame);
    } else {
      this.frameIsTimeout = true;
      this.frameHandle = setTimeout(this.onFrame, DECODE_INTERVAL_MS);
    }
  }

  cancelFrame() {
    if (this.frameHandle === null) return;
    if (this.frameIsTimeout) clearTimeout(this.frameHandle);
    else this.video.cancelVideoFrameCallback(this.frameHandle);
    this.frameHandle = null;
  }

  onFrame(now) {
    this.frameHandle = null;
    if (!this.stream) return;
    const time = this.video.currentTime;
    if (time !== this.lastTime) {
      this.lastTime = time;
      this.lastProgress = performance.now();
    }
    if (!this.busy && this.resolvedDetector && performance.now() - this.lastDecode >= DECODE_INTERVAL_MS) this.decode();
    this.schedule();
  }

  decode() {
    const video = this.video;
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return;
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const w = Math.round(width * scale);
    const h = Math.round(height * scale);
    // Resizing clears the canvas and reallocates it: only when the camera's size changes.
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.context.drawImage(video, 0, 0, w, h);
    this.busy = true;
    this.lastDecode = performance.now();
    this.resolvedDetector
      .detect(this.canvas)
      .then((codes) => {
        for (const code of codes) {
          if (code.rawValue) {
            this.onCode(code.rawValue);
            break;
          }
        }
      })
      .catch(() => {})
      .finally(() => {
        this.busy = false;
      });
  }

  /** Reopen a camera whose track ended or whose picture stopped moving. */
  watchdog() {
    if (this.opening || document.hidden) return;
    if (!this.stream) return;
    const track = this.stream.getVideoTracks()[0];
    if (!track || track.readyState === "ended") {
      this.open();
      return;
    }
    if (this.video.paused) this.video.play().catch(() => {});
    if (performance.now() - this.lastProgress > STUCK_MS) this.open();
  }
}
