// Handheld scanners that type the code and press Enter ("keyboard wedge"), with no field focused.

const MAX_GAP_MS = 120; // scanners type far faster than people; a slower key starts a new code
const MIN_LENGTH = 4;

function inField(target) {
  return Boolean(target && target.closest && target.closest("input, textarea, select, [contenteditable]"));
}

/** Call ON_CODE with each fast-typed code ended by Enter while focus is not in a field. */
export function listenForWedge(onCode) {
  let buffer = "";
  let last = 0;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing || inField(event.target)) return;
    const now = event.timeStamp;
    if (event.key === "Enter") {
      const code = buffer;
      buffer = "";
      if (code.length >= MIN_LENGTH && now - last <= MAX_GAP_MS * 4) {
        event.preventDefault(); // not a click on whatever button has focus
        onCode(code);
      }
      return;
    }
    if (event.key.length !== 1) return; // Shift, Tab and the like
    if (now - last > MAX_GAP_MS) buffer = "";
    last = now;
    if (buffer.length < 200) buffer += event.key;
  });
}
