// The editors' forms' small behaviours. They live in a file, not in hx-on attributes, because
// the Content-Security-Policy allows no inline or evaluated script. Without a script the forms
// work too: each group of rows keeps a spare empty row, and CSS follows "same numbers".

// "Same numbers for both sides" hides the second release, whose figures copy the first's.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.name === "same") {
    const second = document.getElementById("release-1");
    if (second) second.hidden = box.checked;
  }
});

// "Remove this …" removes its row (a release, a source, a count, a party); keyboard users land
// on the group's "Add …" button, and the live preview follows.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest(".remove-row") : null;
  if (!button) return;
  const row = button.closest(".row");
  const rows = row?.parentElement;
  const form = button.closest("form");
  row?.remove();
  if (rows?.id) document.querySelector(`.add-row[hx-target="#${rows.id}"]`)?.focus();
  form?.dispatchEvent(new Event("change", { bubbles: true }));
});

// "Add …" asks the server for the row numbered after the highest in its group, so ids stay
// unique once rows are removed.
document.addEventListener("htmx:configRequest", (event) => {
  const button = event.detail.elt;
  if (!(button instanceof Element) || !button.matches(".add-row")) return;
  const rows = document.querySelector(button.getAttribute("hx-target"));
  const indexes = Array.from(rows?.children ?? [], (row) => Number(row.dataset.index));
  event.detail.parameters.index = 1 + Math.max(-1, ...indexes.filter(Number.isFinite));
});

// Keyboard users land in the row they just added, ready to fill it in.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (target.classList.contains("rows")) {
    target.lastElementChild?.querySelector("input, select")?.focus();
  }
});

// The spare empty rows are for editors without a script; with one, "Add …" numbers new rows
// from the last real one. Also after htmx swaps in a re-rendered part.
const removeSpareRows = () => {
  for (const spare of document.querySelectorAll(".row.spare")) spare.remove();
};
removeSpareRows();
document.addEventListener("htmx:afterSettle", removeSpareRows);

// After a refused save, the error summary (or the check before publishing, or the conflict) takes focus, so that screen
// readers announce it and the editor sees it first; its links move focus into the field.
(
  document.getElementById("error-summary") ??
  document.getElementById("confirm-publish") ??
  document.getElementById("conflict")
)?.focus();
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest(".error-summary a, .preview-errors a") : null;
  const target = link && document.getElementById(link.hash.slice(1));
  if (!target) return;
  event.preventDefault();
  const control = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
  target.scrollIntoView({ block: "center" });
  (control ?? target).focus({ preventScroll: true });
});
