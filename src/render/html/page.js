// The cell detail: the counts of the reconciliation identity of the day under the pointer
// (or clicked, which keeps it), and the command that repairs it. Text only (textContent):
// nothing from the page's data is read as markup. The page opens on its first root.
(function () {
  "use strict";
  var panel = document.getElementById("detail");
  var pinned = null;
  var parts = [
    ["produced", "produced"],
    ["expected skips", "expectedSkips"],
    ["cascades", "cascades"],
    ["real failures", "realFailures"],
    ["unaccounted", "unaccounted"]
  ];
  var outside = [["duplicates", "duplicates"], ["unexpected", "unexpected"], ["records", "records"]];
  var labels = {};
  document.querySelectorAll("[data-legend]").forEach(function (li) {
    labels[li.dataset.legend] = li.querySelector(".label").textContent;
  });

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function row(table, label, value, cls) {
    var tr = el("tr", undefined, cls);
    tr.appendChild(el("td", label));
    tr.appendChild(el("td", value, "num"));
    table.appendChild(tr);
  }

  function show(cell) {
    var d = cell.dataset;
    panel.textContent = "";
    panel.dataset.processor = d.processor;
    panel.dataset.date = d.date;
    panel.appendChild(el("h2", d.processor + " " + d.date));
    var state = labels[d.state] || d.state;
    var line = state;
    if (d.role === "root") line += ", a root cause";
    if (d.cause) line += ", caused by " + d.cause;
    panel.appendChild(el("p", line, "state"));
    if (d.state === "no_games") {
      panel.appendChild(el("p", "No games: nothing is expected."));
      return;
    }
    var identity = el("table", undefined, "identity");
    parts.forEach(function (p) { row(identity, p[0], d[p[1]]); });
    row(identity, "expected", d.expected, "total");
    panel.appendChild(identity);
    var more = el("table", undefined, "outside-identity");
    outside.forEach(function (p) { row(more, p[0], d[p[1]]); });
    panel.appendChild(more);
    if (d.staleAfter) {
      panel.appendChild(el("p", "Stale: computed before " + d.staleAfter + "'s latest rows of the day."));
    }
    if (d.repair) {
      panel.appendChild(el("p", "Repair (without --apply it prints the plan):"));
      panel.appendChild(el("code", d.repair, "repair"));
    } else {
      panel.appendChild(el("p", "Nothing to repair."));
    }
  }

  // A click keeps a day in the panel (pointing elsewhere no longer changes it); a
  // second click on it, or Escape, lets the pointer lead again.
  function select(cell) {
    if (pinned) pinned.classList.remove("selected");
    if (pinned === cell) {
      pinned = null;
      return;
    }
    pinned = cell;
    cell.classList.add("selected");
    show(cell);
  }
  document.addEventListener("mouseover", function (e) {
    var cell = e.target.closest("td[data-state]");
    if (cell && !pinned) show(cell);
  });
  document.addEventListener("click", function (e) {
    var cell = e.target.closest("td[data-state]");
    if (cell) select(cell);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && pinned) select(pinned);
    if (e.key === "Enter" && e.target.matches && e.target.matches("td[data-state]")) select(e.target);
  });
  // The page opens on its first root cause, kept in the panel.
  var first = document.querySelector('td[data-role="root"]') || document.querySelector("td[data-state]");
  if (first) select(first);
})();
