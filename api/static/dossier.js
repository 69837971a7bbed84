// The transfer dossier lives in this browser's localStorage (no account, no cookie):
// "Ajouter au dossier" buttons toggle a practice; the /dossier page shows the stored
// selection by loading /dossier?id=…, which the server renders (and exports).
(function () {
  "use strict";
  var KEY = "savoir-faire-dossier";

  function load() {
    try {
      var items = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(items) ? items.filter(function (i) { return i && typeof i.id === "string"; }) : [];
    } catch (e) {
      return [];
    }
  }

  function save(items) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(items));
    } catch (e) {
      // storage full or disabled: the page keeps working, the selection is not kept
    }
  }

  function has(items, id) {
    return items.some(function (i) { return i.id === id; });
  }

  function lang() {
    return document.documentElement.getAttribute("lang") === "en" ? "en" : "fr";
  }

  function dossierUrl(items) {
    var params = new URLSearchParams();
    items.forEach(function (i) { params.append("id", i.id); });
    if (lang() === "en") { params.append("lang", "en"); }
    var query = params.toString();
    return "/dossier" + (query ? "?" + query : "");
  }

  function refresh() {
    var items = load();
    document.querySelectorAll("[data-dossier-count]").forEach(function (el) {
      el.textContent = items.length ? String(items.length) : "";
    });
    document.querySelectorAll("[data-dossier-link]").forEach(function (el) {
      el.setAttribute("href", dossierUrl(items));
    });
    document.querySelectorAll("button[data-dossier-id]").forEach(function (button) {
      var inside = has(items, button.getAttribute("data-dossier-id"));
      button.hidden = false;
      button.setAttribute("aria-pressed", inside ? "true" : "false");
      button.textContent = button.getAttribute(inside ? "data-label-remove" : "data-label-add");
    });
  }

  function onDossierPage() {
    return document.querySelector("[data-dossier-page]") !== null;
  }

  function shownIds() {
    return new URLSearchParams(window.location.search).getAll("id");
  }

  function toggle(button) {
    var id = button.getAttribute("data-dossier-id");
    var items = load();
    if (has(items, id)) {
      items = items.filter(function (i) { return i.id !== id; });
    } else {
      items.push({ id: id, title: button.getAttribute("data-dossier-title") || id });
    }
    save(items);
    if (onDossierPage()) {
      window.location.assign(dossierUrl(items));
      return;
    }
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (onDossierPage()) {
      var gone = Array.prototype.map.call(
        document.querySelectorAll("[data-dossier-unknown] [data-id]"),
        function (el) { return el.getAttribute("data-id"); }
      );
      if (gone.length) {
        save(load().filter(function (i) { return gone.indexOf(i.id) < 0; }));
      }
      var items = load();
      var stored = items.map(function (i) { return i.id; }).join("\n");
      // show the stored selection; a shared /dossier?id=… link is shown as is when
      // this browser holds no dossier
      if (items.length && stored !== shownIds().join("\n")) {
        window.location.replace(dossierUrl(items));
        return;
      }
      document.querySelectorAll("[data-print], [data-dossier-clear]").forEach(function (b) {
        b.hidden = false;
      });
    }
    document.addEventListener("click", function (event) {
      var target = event.target;
      if (!(target instanceof Element)) { return; }
      var button = target.closest("button[data-dossier-id]");
      if (button) {
        toggle(button);
      } else if (target.closest("[data-print]")) {
        window.print();
      } else if (target.closest("[data-dossier-clear]")) {
        save([]);
        window.location.assign(dossierUrl([]));
      }
    });
    refresh();
  });
})();
