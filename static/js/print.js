// Print-on-arrival: load the attendee's label badge in a hidden same-site frame and print it.

let frame = null;
let pending = null;

function onLoad() {
  if (!pending || !frame.contentWindow || frame.contentWindow.location.href === "about:blank") return;
  const job = pending;
  pending = null;
  try {
    frame.contentWindow.focus();
    frame.contentWindow.print();
  } catch {
    return; // nothing was printed, so nothing is logged
  }
  fetch(job.printedUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": job.csrf, "HX-Request": "true" },
  }).catch(() => {});
}

/** Print the badge at URL once, then tell the server at PRINTED_URL that it went to the printer. */
export function printBadge(url, printedUrl, csrf) {
  if (!frame) {
    frame = document.createElement("iframe");
    frame.className = "print-frame";
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    frame.title = "print";
    frame.addEventListener("load", onLoad);
    document.body.append(frame);
  }
  pending = { printedUrl, csrf };
  frame.src = url;
}
