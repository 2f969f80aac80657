// Handheld scanners that type the code and press Enter ("keyboard wedge"), with no field focused.

const PAUSE_MS = 1000; // a pause this long starts a new code: stray keys never stick to the next scan
const MAX_AVERAGE_MS = 100; // scanners type a key every few ms; a person typing blind is slower
const MIN_LENGTH = 4;

function inField(target) {
  return Boolean(target && target.closest && target.closest("input, textarea, select, [contenteditable]"));
}

/** Call ON_CODE with each fast-typed code ended by Enter while focus is not in a field. */
export function listenForWedge(onCode) {
  let buffer = "";
  let first = 0;
  let last = 0;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing || inField(event.target)) return;
    const now = event.timeStamp;
    if (now - last > PAUSE_MS) buffer = "";
    if (event.key === "Enter") {
      const code = buffer;
      buffer = "";
      // Judged on the average gap: one late key (a busy main thread) must not split a scan.
      if (code.length >= MIN_LENGTH && (last - first) / (code.length - 1) <= MAX_AVERAGE_MS) {
        event.preventDefault(); // not a click on whatever button has focus
        onCode(code);
      }
      return;
    }
    if (event.key.length !== 1) return; // Shift, Tab and the like
    if (!buffer) first = now;
    last = now;
    if (buffer.length < 200) buffer += event.key;
  });
}
