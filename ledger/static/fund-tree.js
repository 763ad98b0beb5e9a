/* The fund tree's search box, as one types: hides the funds whose name and code do not contain
   the text, keeps the counties and the city above a match, and opens the counties that hold one.
   Without this script the same box searches on the server (?q=), so nothing depends on it. */
(function () {
  "use strict";
  var input = document.querySelector("[data-fund-filter]");
  if (!input) { return; }
  var tree = document.getElementById(input.getAttribute("data-fund-filter"));
  if (!tree) { return; }
  var items = Array.prototype.slice.call(tree.querySelectorAll("li.fund-item"));
  var none = tree.querySelector(".fund-tree-none");

  function shownChild(item) {
    var lists = item.querySelectorAll(":scope > ul > li, :scope > details > ul > li");
    for (var i = 0; i < lists.length; i += 1) {
      if (!lists[i].hidden) { return true; }
    }
    return false;
  }

  function apply() {
    var wanted = input.value.trim().toLowerCase();
    var any = false;
    // Deepest first (reverse document order): a parent knows whether a child stays.
    for (var i = items.length - 1; i >= 0; i -= 1) {
      var item = items[i];
      var own = (item.getAttribute("data-search") || "").toLowerCase().indexOf(wanted) !== -1;
      var below = shownChild(item);
      item.hidden = wanted !== "" && !own && !below;
      if (!item.hidden) { any = true; }
      var details = item.querySelector(":scope > details");
      if (details && wanted !== "" && below) { details.open = true; }
    }
    if (none) { none.hidden = any; }
  }

  input.addEventListener("input", apply);
}());
