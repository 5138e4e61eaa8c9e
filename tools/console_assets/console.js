// Stafett console: refreshes a table marked data-refresh="URL" every 5 s from its JSON
// endpoint. Without JavaScript the page works the same, only without refreshing. Cells are set
// with textContent (never as markup).
(function () {
  "use strict";
  function refresh(table) {
    var url = table.getAttribute("data-refresh");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !Array.isArray(data.rows)) return;
        var body = document.createElement("tbody");
        data.rows.forEach(function (row) {
          var tr = document.createElement("tr");
          row.cells.forEach(function (cell, index) {
            var td = document.createElement(index === 0 ? "th" : "td");
            if (index === 0) td.setAttribute("scope", "row");
            td.textContent = cell.text;
            if (cell.class) td.className = cell.class;
            tr.appendChild(td);
          });
          body.appendChild(tr);
        });
        table.replaceChild(body, table.tBodies[0]);
        var stamp = document.getElementById(table.getAttribute("data-updated"));
        if (stamp && data.updated) stamp.textContent = data.updated;
      })
      .catch(function () { /* keep the rows shown; the next round tries again */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var tables = document.querySelectorAll("table[data-refresh]");
    Array.prototype.forEach.call(tables, function (table) {
      setInterval(function () { refresh(table); }, 5000);
    });
  });
})();
