// report.html: filters by status, account and criterion, without a server.
// Embedded into the page at render time. Without JavaScript the page shows
// everything; this script only hides rows and sections, it never adds content.
(function () {
  "use strict";
  var body = document.body;
  body.classList.add("js");
  var status = document.getElementById("f-status");
  var account = document.getElementById("f-account");
  var tsc = document.getElementById("f-tsc");
  var count = document.getElementById("f-count");
  var empty = document.getElementById("f-empty");
  var all = function (selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); };
  var hide = function (el, hidden) { el.classList.toggle("hidden", hidden); };

  function filterControls(s, a, t) {
    var controls = all("article.control"), shown = 0;
    controls.forEach(function (control) {
      var rows = all("table.results tbody tr", control), visible = 0;
      rows.forEach(function (row) {
        var ok = (!s || row.getAttribute("data-status") === s) && (!a || row.getAttribute("data-account") === a);
        hide(row, !ok);
        if (ok) { visible++; }
      });
      var criteria = (control.getAttribute("data-tsc") || "").split(" ");
      var ok = (!t || criteria.indexOf(t) >= 0) &&
        (rows.length ? visible > 0 : !a && (!s || control.getAttribute("data-status") === s));
      hide(control, !ok);
      if (ok) { shown++; }
    });
    count.textContent = shown + " of " + controls.length + " controls shown";
    hide(empty, shown > 0);
  }

  function filterAccounts(a) {
    all("#coverage tr[data-account], #population tr[data-account], #exceptions tr[data-account], #evidence tr[data-account]")
      .forEach(function (row) { hide(row, !!a && row.getAttribute("data-account") !== a); });
    all("table.matrix tbody").forEach(function (group) {
      hide(group, all("tr[data-account]:not(.hidden)", group).length === 0);
    });
  }

  function apply() {
    var s = status.value, a = account.value, t = tsc.value;
    filterControls(s, a, t);
    filterAccounts(a);
    all("table.criteria tbody tr").forEach(function (row) { hide(row, !!t && row.getAttribute("data-tsc") !== t); });
  }

  [status, account, tsc].forEach(function (el) { el.addEventListener("change", apply); });
  document.getElementById("filters").addEventListener("reset", function () { setTimeout(apply, 0); });
  window.addEventListener("beforeprint", function () {
    all("details").forEach(function (d) { d.open = true; });
  });
  apply();
})();
