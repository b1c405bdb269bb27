// Filters the report by status, account and criterion, without a server.
// Without JavaScript the page shows everything; this only hides rows.
(function () {
  document.body.classList.add("js");
  var status = document.getElementById("f-status");
  var account = document.getElementById("f-account");
  var tsc = document.getElementById("f-tsc");
  var count = document.getElementById("f-count");
  function apply() {
    var s = status.value, a = account.value, t = tsc.value, shown = 0;
    document.querySelectorAll("article.control").forEach(function (control) {
      var criteria = (control.getAttribute("data-tsc") || "").split(" ");
      var visibleRows = 0;
      control.querySelectorAll("tbody tr").forEach(function (row) {
        var ok = (!s || row.getAttribute("data-status") === s) && (!a || row.getAttribute("data-account") === a);
        row.classList.toggle("hidden", !ok);
        if (ok) { visibleRows++; }
      });
      var rows = control.querySelectorAll("tbody tr").length;
      var statusOk = !s || control.getAttribute("data-status") === s || visibleRows > 0;
      var accountOk = !a || visibleRows > 0;
      var ok = (!t || criteria.indexOf(t) >= 0) && statusOk && accountOk && (rows === 0 ? !a : true);
      control.classList.toggle("hidden", !ok);
      if (ok) { shown++; }
    });
    document.querySelectorAll("table.matrix tbody tr").forEach(function (row) {
      row.classList.toggle("hidden", !!a && row.getAttribute("data-account") !== a);
    });
    count.textContent = shown + " control(s) shown";
  }
  [status, account, tsc].forEach(function (el) { el.addEventListener("change", apply); });
  apply();
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
