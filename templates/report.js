// report.html: filters by status, account and criterion, without a server.
// Embedded into the page at render time. Without JavaScript the page shows
// everything; this script only hides rows, accounts and sections and opens
// collapsed lists, it never adds content.
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

  // Shows the accounts of `root` matching `a` (all when empty); true when one is shown.
  function filterMembers(root, a) {
    var any = false;
    all("li[data-account]", root).forEach(function (li) {
      var ok = !a || li.getAttribute("data-account") === a;
      hide(li, !ok);
      any = any || ok;
    });
    if (a && any) { all("details", root).forEach(function (d) { d.open = true; }); }
    return any;
  }

  function filterControls(s, a, t) {
    var controls = all("article.control"), shown = 0;
    controls.forEach(function (control) {
      var visible = 0, items = 0;
      all("table.findings tbody tr", control).forEach(function (row) {
        items++;
        var ok = filterMembers(row, a) && (!s || row.getAttribute("data-status") === s);
        hide(row, !ok);
        if (ok) { visible++; }
      });
      // The changes of the period follow the filters but do not decide whether
      // the control is shown (its items do).
      all("table.changes tbody tr", control).forEach(function (row) {
        hide(row, !((!a || row.getAttribute("data-account") === a) && (!s || row.getAttribute("data-status") === s)));
      });
      all("details.passed", control).forEach(function (passed) {
        items++;
        var ok = filterMembers(passed, a) && (!s || s === "pass");
        hide(passed, !ok);
        if (ok && s === "pass") { passed.open = true; }
        if (ok) { visible++; }
      });
      var criteria = (control.getAttribute("data-tsc") || "").split(" ");
      var ok = (!t || criteria.indexOf(t) >= 0) &&
        (items ? visible > 0 : !a && (!s || control.getAttribute("data-status") === s));
      hide(control, !ok);
      if (ok) { shown++; }
    });
    count.textContent = shown + " of " + controls.length + " controls shown";
    hide(empty, shown > 0);
  }

  function filterAccounts(a) {
    all("#coverage tr[data-account], #population tr[data-account], #evidence tbody[data-account]")
      .forEach(function (row) { hide(row, !!a && row.getAttribute("data-account") !== a); });
    all("table.matrix tbody").forEach(function (group) {
      hide(group, all("tr[data-account]:not(.hidden)", group).length === 0);
    });
    all("#exceptions table.exceptions tbody tr").forEach(function (row) {
      var whole = all("li[data-account]", row).length === 0;
      hide(row, !whole && !filterMembers(row, a));
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
  // Nothing to hide on a fresh page; a browser restoring the form's state
  // (back/forward, reload) needs the filters applied.
  if (status.value || account.value || tsc.value) {
    apply();
  } else {
    count.textContent = all("article.control").length + " controls";
  }
})();
