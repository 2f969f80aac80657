// The wall on a TV: when the rooms do not fit on the screen, show them a screenful at a time and page on.

const PAGE_MS = 12000;
const wall = () => document.getElementById("wall-rooms");
const pager = document.getElementById("wall-pager");
const pause = document.getElementById("wall-pause");
let current = 0;
let paused = false;
let timer = null;

function cards() {
  const root = wall();
  return root ? [...root.querySelectorAll(".wall-room")] : [];
}

// Screenfuls of cards, measured with every card shown: a page ends before the first card whose
// bottom would fall below the screen.
function pages() {
  const all = cards();
  const root = wall();
  if (!root) return [];
  for (const element of root.querySelectorAll(".off-page")) element.classList.remove("off-page");
  if (!all.length) return [];
  // Every page starts where the first card is now; what fits below that, down to the screen's foot, is a page.
  const first = all[0].getBoundingClientRect().top + window.scrollY;
  const room = window.innerHeight - first - 8;
  const result = [];
  let page = [];
  let start = null;
  for (const card of all) {
    const box = card.getBoundingClientRect();
    if (start === null) start = box.top;
    if (page.length && box.bottom - start > room) {
      result.push(page);
      page = [];
      start = box.top;
    }
    page.push(card);
  }
  if (page.length) result.push(page);
  return result;
}

function setPaged(on, count) {
  if (pager) {
    pager.textContent = pager.dataset.text.replace("{page}", current + 1).replace("{pages}", count);
    pager.hidden = !on;
  }
  if (pause) pause.hidden = !on;
  document.body.classList.toggle("wall-paged", on);
}

function show() {
  setPaged(false, 1);
  let split = pages();
  const root = wall();
  if (!root || split.length < 2) return;
  // The pager and its button take room in the bar (a second line on a narrow screen): measure again with them shown.
  setPaged(true, split.length);
  split = pages();
  current %= split.length;
  const visible = new Set(split[current]);
  for (const card of cards()) card.classList.toggle("off-page", !visible.has(card));
  for (const group of root.querySelectorAll(".wall-group")) {
    group.classList.toggle("off-page", !group.querySelector(".wall-room:not(.off-page)"));
  }
  setPaged(true, split.length);
}

function next() {
  if (!paused) {
    current += 1;
    show();
  }
}

if (wall()) {
  timer = setInterval(next, PAGE_MS);
  // The live part is swapped whenever a count changes: keep showing the same page of the new one.
  document.body.addEventListener("htmx:afterSettle", (event) => { if (event.detail.elt && event.detail.elt.id === "wall-rooms") show(); });
  window.addEventListener("resize", show);
  // What sits above the cards can grow after a page was measured: an alert banner appears, the bar
  // wraps. Page again then, or the last card of a page ends below the screen.
  if (window.ResizeObserver) {
    const watcher = new ResizeObserver(() => show());
    for (const element of [document.querySelector(".wall-bar"), document.getElementById("alert-banner")]) {
      if (element) watcher.observe(element);
    }
  }
  if (pause) {
    pause.addEventListener("click", () => {
      paused = !paused;
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
    });
  }
  show();
}
window.addEventListener("pagehide", () => clearInterval(timer));
