/* The fund tree: a nested list in which each county's villages fold under a disclosure button
   (aria-expanded says whether they are shown, aria-controls names the list it opens). A button
   is a button, so Tab reaches it and Enter or Space opens and closes it.

   The search box, as one types: hides the funds whose name and code do not contain the text,
   keeps the counties and the city above a match, and opens the counties that hold one.
   Without this script the same box searches on the server (?q=), and "Show all villages"
   opens every county, so nothing depends on it. */
(function () {
  "use strict";
  var tree = document.getElementById("fund-tree");
  if (!tree) { return; }

  function setOpen(button, open) {
    var below = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (below) { below.hidden = !open; }
  }

  tree.addEventListener("click", function (event) {
    var button = event.target.closest("[data-tree-toggle]");
    if (!button) { return; }
    setOpen(button, button.getAttribute("aria-expanded") !== "true");
  });

  var input = document.querySelector("[data-fund-filter='fund-tree']");
  if (!input) { return; }
  var items = Array.prototype.slice.call(tree.querySelectorAll("li.fund-item"));
  var none = tree.querySelector(".fund-tree-none");

  function shownChild(item) {
    var children = item.querySelectorAll(":scope > ul > li, :scope > .fund-below > ul > li");
    for (var i = 0; i < children.length; i += 1) {
      if (!children[i].hidden) { return true; }
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
      var toggle = item.querySelector(":scope > .fund-row [data-tree-toggle]");
      if (toggle && wanted !== "" && below) { setOpen(toggle, true); }
    }
    if (none) { none.hidden = any; }
  }

  input.addEventListener("input", apply);
}());
