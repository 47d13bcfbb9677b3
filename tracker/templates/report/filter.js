/* Client-side filtering of articles.html by team, source, publisher and date (no library). */
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var list = document.getElementById("articles");
  if (!form || !list) { return; }
  var items = Array.prototype.slice.call(list.querySelectorAll("li.article"));
  var count = document.getElementById("shown-count");

  function words(value) { return (value || "").split(" ").filter(Boolean); }

  function apply() {
    var team = form.elements.team.value;
    var source = form.elements.source.value;
    var publisher = form.elements.publisher.value;
    var from = form.elements.from.value;
    var to = form.elements.to.value;
    var shown = 0;
    items.forEach(function (item) {
      var day = item.getAttribute("data-date") || "";
      var ok = (!team || words(item.getAttribute("data-teams")).indexOf(team) >= 0) &&
        (!source || words(item.getAttribute("data-sources")).indexOf(source) >= 0) &&
        (!publisher || item.getAttribute("data-publisher") === publisher) &&
        (!from || (day && day >= from)) && (!to || (day && day <= to));
      item.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + "건 표시";
    // Keep the choice in the address (#team=…&from=…) so a filtered view can be linked.
    var state = [];
    ["team", "source", "publisher", "from", "to"].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) { state.push(name + "=" + encodeURIComponent(value)); }
    });
    try {
      window.history.replaceState(null, "", state.length ? "#" + state.join("&") : location.pathname);
    } catch (error) {
      /* some browsers refuse history changes on file:// pages; filtering still works */
    }
  }

  function fromHash() {
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var parts = pair.split("=");
      var field = form.elements[parts[0]];
      if (parts.length === 2 && field) { field.value = decodeURIComponent(parts[1]); }
    });
  }

  form.addEventListener("change", apply);
  form.addEventListener("input", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  fromHash();
  apply();
})();
