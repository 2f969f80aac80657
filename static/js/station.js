// Station pages (kiosk, room door): keep the screen on and offer full screen, so a tablet at the door never dims.

let lock = null;

async function keepAwake() {
  if (!("wakeLock" in navigator) || document.visibilityState !== "visible" || lock) return;
  try {
    lock = await navigator.wakeLock.request("screen");
    document.documentElement.dataset.wakeLock = "on";
    lock.addEventListener("release", () => {
      lock = null;
      document.documentElement.dataset.wakeLock = "off";
    });
  } catch (_error) {
    // Refused (battery saver, no user gesture yet on some browsers): try again on the next tap.
    document.documentElement.dataset.wakeLock = "refused";
  }
}

// The browser releases the lock whenever the page is hidden; take it again when it shows.
document.addEventListener("visibilitychange", keepAwake);
document.addEventListener("pointerdown", keepAwake);
keepAwake();

const toggle = document.getElementById("fullscreen-toggle");
if (toggle && document.fullscreenEnabled) {
  const label = () => {
    toggle.textContent = document.fullscreenElement ? toggle.dataset.leaveText : toggle.dataset.enterText;
    toggle.setAttribute("aria-pressed", document.fullscreenElement ? "true" : "false");
  };
  toggle.hidden = false;
  label();
  toggle.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else document.documentElement.requestFullscreen().catch(() => {});
  });
  document.addEventListener("fullscreenchange", label);
}

// The answer screen starts below the station bar, which wraps to two or three lines on a phone.
const bar = document.querySelector(".kiosk-bar");
if (bar && "ResizeObserver" in window) {
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--kiosk-bar-height", `${bar.offsetHeight}px`);
  }).observe(bar);
}
