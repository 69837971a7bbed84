/*
 * Savoir-faire search widget: <savoir-faire-search>.
 *
 * Embed with two lines:
 *   <script src="https://HOST/widget.js" defer></script>
 *   <savoir-faire-search lang="fr"></savoir-faire-search>
 *
 * Vanilla JavaScript, no build step. Everything renders in an open shadow root styled
 * by a constructed stylesheet, so the host page's CSS does not reach inside, ours does
 * not leak out, and a host CSP without 'unsafe-inline' styles still works. Data from the
 * API is only ever written with textContent / text nodes, never parsed as HTML.
 *
 * Attributes: api (base URL; default: the origin this script was loaded from), lang (fr|en),
 * limit, trip, theme (preset filters, comma-separated), placeholder, q (initial query),
 * target (_self|_blank|_top|_parent for result links).
 * Theming: --sf-accent, --sf-font, --sf-font-size, --sf-radius, --sf-bg, --sf-text,
 * --sf-muted, --sf-border, --sf-active-bg, --sf-mark-bg, --sf-mark-text.
 */
(function () {
  "use strict";

  var TAG = "savoir-faire-search";
  if (!window.customElements || window.customElements.get(TAG)) return;

  // document.currentScript is only set while this file first runs: capture it now.
  var script = document.currentScript;
  var DEFAULT_API = script && script.src ? new URL(script.src).origin : window.location.origin;
  var DEBOUNCE_MS = 250;
  var MIN_CHARS = 2;
  var DEFAULT_LIMIT = 5;
  var TARGETS = ["_self", "_blank", "_top", "_parent"];

  var STRINGS = {
    fr: {
      label: "Rechercher dans Savoir-faire",
      placeholder: "Rechercher une bonne pratique…",
      list: "Résultats",
      loading: "Recherche…",
      empty: "Aucun résultat",
      error: "Recherche indisponible",
      count: function (n) { return n === 1 ? "1 résultat" : fmt(n, "fr-FR") + " résultats"; },
      low: "Pas de correspondance proche : voici les passages les plus voisins.",
      also: "Aussi dans ce document : ",
      more: "Tous les résultats dans Savoir-faire",
      page: "p. "
    },
    en: {
      label: "Search Savoir-faire",
      placeholder: "Search good practices…",
      list: "Results",
      loading: "Searching…",
      empty: "No results",
      error: "Search unavailable",
      count: function (n) { return n === 1 ? "1 result" : fmt(n, "en-GB") + " results"; },
      low: "No close match: these are the nearest passages.",
      also: "Also in this document: ",
      more: "All results in Savoir-faire",
      page: "p. "
    }
  };

  function fmt(n, locale) {
    try { return n.toLocaleString(locale); } catch (e) { return String(n); }
  }

  var CSS = [
    ":host{all:initial;display:block;contain:content}",
    ":host([hidden]){display:none}",
    "*,*::before,*::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    // The host page may override :host (e.g. `* { all: unset }`), so the container
    // resets again; inline-block also stops a host's text-decoration propagating in.
    ".sf{all:initial;display:inline-block;width:100%;vertical-align:top;text-align:start;",
    "font-family:var(--sf-font,system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,sans-serif);",
    "font-size:var(--sf-font-size,16px);font-weight:400;font-style:normal;line-height:1.45;",
    "letter-spacing:normal;text-transform:none;color:var(--sf-text,#1f2328);",
    "background:var(--sf-bg,#fff);visibility:visible;opacity:1}",
    ".label{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;",
    "clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    ".field{display:flex;align-items:center;gap:.5em;margin:0;padding:0 .8em;",
    "border:1px solid var(--sf-border,#8c959f);border-radius:var(--sf-radius,8px);",
    "background:var(--sf-bg,#fff);color:var(--sf-text,#1f2328)}",
    ".field:focus-within{border-color:var(--sf-accent,#0b5cad);",
    "outline:2px solid var(--sf-accent,#0b5cad);outline-offset:1px}",
    "svg{display:block;flex:none;width:1.1em;height:1.1em;fill:none;stroke:currentColor;",
    "stroke-width:2;stroke-linecap:round;opacity:.65}",
    "input{all:unset;display:block;flex:1 1 auto;min-width:0;width:100%;margin:0;",
    "padding:.65em 0;font:inherit;color:inherit;background:transparent;cursor:text}",
    "input::placeholder{color:var(--sf-muted,#59636e);opacity:1}",
    "input::-webkit-search-cancel-button,input::-webkit-search-decoration{",
    "-webkit-appearance:none;appearance:none}",
    ".status{display:block;margin:.35em .2em 0;padding:0;font-size:.85em;",
    "color:var(--sf-muted,#59636e)}",
    ".status:empty{margin:0}",
    ".status.error{color:#b3261e}",
    ".note{display:block;margin:.35em .2em 0;padding:0;font-size:.85em;font-style:italic;",
    "color:var(--sf-muted,#59636e)}",
    "ul{display:block;list-style:none;margin:.4em 0 0;padding:0;overflow:hidden;",
    "border:1px solid var(--sf-border,#8c959f);border-radius:var(--sf-radius,8px);",
    "background:var(--sf-bg,#fff)}",
    "li{display:block;margin:0;padding:0;border-top:1px solid var(--sf-border,#d0d7de)}",
    "li:first-child{border-top:0}",
    "a{display:block;margin:0;padding:.6em .85em;color:inherit;text-decoration:none;",
    "cursor:pointer}",
    "a:hover,li[aria-selected=true] a{background:var(--sf-active-bg,#eef3fa)}",
    "li[aria-selected=true] a{box-shadow:inset 3px 0 0 var(--sf-accent,#0b5cad)}",
    ".title{display:block;font-weight:600;color:var(--sf-accent,#0b5cad)}",
    "a:hover .title,li[aria-selected=true] .title{text-decoration:underline}",
    ".meta{display:block;margin-top:.1em;font-size:.8em;color:var(--sf-muted,#59636e)}",
    ".snippet{display:block;margin-top:.25em;font-size:.9em}",
    ".also{display:block;margin-top:.2em;font-size:.82em;color:var(--sf-muted,#59636e)}",
    ".excerpt{display:block;margin-top:.1em;color:var(--sf-text,#1f2328)}",
    "mark{display:inline;margin:0;padding:0 .1em;border-radius:2px;font:inherit;",
    "font-weight:600;background:var(--sf-mark-bg,#ffe58a);color:var(--sf-mark-text,inherit)}",
    ".more{display:inline-block;margin:.45em .2em 0;font-size:.85em;padding:0;",
    "color:var(--sf-accent,#0b5cad);text-decoration:underline}",
    "@media (forced-colors:active){li[aria-selected=true] a{outline:2px solid Highlight}",
    "mark{background:Mark;color:MarkText}}"
  ].join("");

  var sharedSheet = null;

  /** Constructed stylesheet (allowed under a strict style-src); <style> as a fallback. */
  function adoptStyles(root) {
    try {
      if (!sharedSheet) {
        sharedSheet = new CSSStyleSheet();
        sharedSheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sharedSheet];
      return;
    } catch (e) {
      // Older browsers: no constructable stylesheets. A host CSP may block this one.
    }
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function searchIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var circle = document.createElementNS(ns, "circle");
    circle.setAttribute("cx", "11");
    circle.setAttribute("cy", "11");
    circle.setAttribute("r", "7");
    var line = document.createElementNS(ns, "path");
    line.setAttribute("d", "M20 20l-4-4");
    svg.appendChild(circle);
    svg.appendChild(line);
    return svg;
  }

  /**
   * Append `snippet.text` to `node` with its highlight ranges as <mark> elements.
   * Offsets count code points (as Python does), so split by code point, not UTF-16 unit.
   */
  function appendSnippet(node, snippet) {
    var chars = Array.from((snippet && snippet.text) || "");
    var ranges = ((snippet && snippet.highlights) || [])
      .map(function (r) {
        return [Math.max(0, Number(r[0]) || 0), Math.min(chars.length, Number(r[1]) || 0)];
      })
      .filter(function (r) { return r[1] > r[0]; })
      .sort(function (a, b) { return a[0] - b[0]; });
    var pos = 0;
    ranges.forEach(function (r) {
      var start = Math.max(r[0], pos);
      if (r[1] <= start) return;
      if (start > pos) node.appendChild(document.createTextNode(chars.slice(pos, start).join("")));
      node.appendChild(el("mark", null, chars.slice(start, r[1]).join("")));
      pos = r[1];
    });
    if (pos < chars.length) node.appendChild(document.createTextNode(chars.slice(pos).join("")));
  }

  function splitList(value) {
    return (value || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  var counter = 0;

  class SavoirFaireSearch extends HTMLElement {
    static get observedAttributes() {
      return ["lang", "placeholder", "api", "limit", "trip", "theme", "target"];
    }

    constructor() {
      super();
      this._uid = "sf" + (++counter);
      this._timer = 0;
      this._controller = null;
      this._results = [];
      this._active = -1;
      this._query = "";
      this._lowConfidence = false;
      var root = this.attachShadow({ mode: "open" });
      adoptStyles(root);
      this._build(root);
    }

    _build(root) {
      var listId = this._uid + "-list";
      var inputId = this._uid + "-input";
      var box = el("div", "sf");
      box.setAttribute("part", "container");
      var label = el("label", "label");
      label.htmlFor = inputId;
      var field = el("div", "field");
      var input = el("input");
      input.id = inputId;
      input.type = "search";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.setAttribute("part", "input");
      input.setAttribute("enterkeyhint", "search");
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-controls", listId);
      field.appendChild(searchIcon());
      field.appendChild(input);
      var status = el("div", "status");
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      var note = el("p", "note");
      note.hidden = true;
      var list = el("ul");
      list.id = listId;
      list.setAttribute("role", "listbox");
      list.setAttribute("part", "results");
      list.hidden = true;
      var more = el("a", "more");
      more.hidden = true;
      box.append(label, field, status, note, list, more);
      root.appendChild(box);

      this._label = label;
      this._input = input;
      this._status = status;
      this._note = note;
      this._list = list;
      this._more = more;

      input.addEventListener("input", this._onInput.bind(this));
      input.addEventListener("keydown", this._onKeydown.bind(this));
      input.addEventListener("focus", this._onFocus.bind(this));
      this.addEventListener("focusout", this._onFocusout.bind(this));
      // Keep focus in the input when a result is clicked; the link still follows.
      list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    }

    connectedCallback() {
      this._applyTexts();
      var initial = (this.getAttribute("q") || "").trim();
      if (initial && !this._input.value) {
        this._input.value = initial;
        this._search(initial);
      }
    }

    disconnectedCallback() {
      clearTimeout(this._timer);
      if (this._controller) this._controller.abort();
    }

    attributeChangedCallback(name) {
      if (!this._input) return;
      if (name === "lang" || name === "placeholder") this._applyTexts();
      else if (this._query) this._search(this._query);
    }

    get _t() {
      var lang = (this.getAttribute("lang") || "fr").toLowerCase().slice(0, 2);
      return STRINGS[lang] || STRINGS.fr;
    }

    get _api() {
      return (this.getAttribute("api") || DEFAULT_API).replace(/\/+$/, "");
    }

    get _limit() {
      var n = parseInt(this.getAttribute("limit"), 10);
      return n > 0 ? n : DEFAULT_LIMIT;
    }

    _applyTexts() {
      var t = this._t;
      this._label.textContent = t.label;
      this._input.placeholder = this.getAttribute("placeholder") || t.placeholder;
      this._input.lang = this.getAttribute("lang") || "fr";
      this._list.setAttribute("aria-label", t.list);
      this._more.textContent = t.more;
      this._note.textContent = t.low;
    }

    _onInput() {
      clearTimeout(this._timer);
      var q = this._input.value.trim();
      if (q.length < MIN_CHARS) {
        this._abort();
        this._query = "";
        this._render([], null);
        this._setStatus("");
        return;
      }
      var self = this;
      this._timer = setTimeout(function () { self._search(q); }, DEBOUNCE_MS);
    }

    _onKeydown(event) {
      var n = this._results.length;
      switch (event.key) {
        case "ArrowDown":
        case "ArrowUp":
          if (!n) return;
          event.preventDefault();
          if (this._list.hidden) this._open(true);
          var step = event.key === "ArrowDown" ? 1 : -1;
          var next = this._active + step;
          if (next >= n) next = 0;
          if (next < 0) next = n - 1;
          this._setActive(next);
          return;
        case "Enter":
          if (event.isComposing) return;
          event.preventDefault();
          if (!this._list.hidden && this._active >= 0) {
            var link = this._list.children[this._active].querySelector("a");
            if (link) link.click();
            return;
          }
          clearTimeout(this._timer);
          var q = this._input.value.trim();
          if (q.length >= MIN_CHARS) this._search(q);
          return;
        case "Escape":
          event.preventDefault();
          if (!this._list.hidden) {
            this._open(false);
          } else {
            this._input.value = "";
            this._onInput();
          }
          return;
      }
    }

    _onFocus() {
      if (this._results.length && this._list.hidden) this._open(true);
    }

    _onFocusout(event) {
      if (event.relatedTarget && this.contains(event.relatedTarget)) return;
      this._open(false);
    }

    _abort() {
      if (this._controller) {
        this._controller.abort();
        this._controller = null;
      }
    }

    _url(q) {
      var url = new URL(this._api + "/api/search");
      url.searchParams.set("q", q);
      url.searchParams.set("limit", String(this._limit));
      var self = this;
      ["trip", "theme"].forEach(function (name) {
        splitList(self.getAttribute(name)).forEach(function (v) { url.searchParams.append(name, v); });
      });
      return url;
    }

    _search(q) {
      this._abort(); // a newer query makes the one in flight stale
      var controller = new AbortController();
      this._controller = controller;
      this._query = q;
      this._setStatus(this._t.loading);
      this._list.setAttribute("aria-busy", "true");
      var self = this;
      fetch(this._url(q), {
        signal: controller.signal,
        credentials: "omit",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (controller.signal.aborted) return;
          self._controller = null;
          var results = Array.isArray(data.results) ? data.results : [];
          self._render(results, data);
          var total = typeof data.total === "number" ? data.total : results.length;
          self._setStatus(results.length ? self._t.count(total) : self._t.empty);
        })
        .catch(function (error) {
          if (controller.signal.aborted || (error && error.name === "AbortError")) return;
          self._controller = null;
          self._render([], null);
          self._setStatus(self._t.error, true);
        });
    }

    _setStatus(text, isError) {
      this._status.textContent = text;
      this._status.classList.toggle("error", !!isError);
      this._list.removeAttribute("aria-busy");
    }

    _documentUrl(result) {
      var doc = result.document || {};
      var passage = result.passage || {};
      var url = this._api + "/documents/" + encodeURIComponent(String(doc.id || ""));
      if (passage.position != null) url += "#passage-" + encodeURIComponent(String(passage.position));
      return url;
    }

    _render(results, data) {
      var t = this._t;
      var target = this.getAttribute("target");
      if (TARGETS.indexOf(target) < 0) target = null;
      var list = this._list;
      list.textContent = "";
      this._results = results;
      this._active = -1;
      this._input.removeAttribute("aria-activedescendant");
      var self = this;
      results.forEach(function (result, i) {
        var doc = result.document || {};
        var passage = result.passage || {};
        var li = el("li");
        li.id = self._uid + "-opt-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var a = el("a");
        a.href = self._documentUrl(result);
        a.tabIndex = -1;
        if (target) {
          a.target = target;
          if (target === "_blank") a.rel = "noopener";
        }
        a.appendChild(el("span", "title", doc.title || doc.id || ""));
        var meta = [doc.trip_name || doc.trip, passage.heading];
        if (passage.page != null) meta.push(t.page + passage.page);
        meta = meta.filter(Boolean).join(" · ");
        if (meta) a.appendChild(el("span", "meta", meta));
        var snippet = el("span", "snippet");
        appendSnippet(snippet, result.snippet || { text: passage.text || "" });
        a.appendChild(snippet);
        var excerpts = (result.passages || []).filter(function (p) { return p && p.snippet; });
        if (excerpts.length) {
          var also = el("span", "also", t.also);
          excerpts.forEach(function (p) {
            var excerpt = el("span", "excerpt");
            appendSnippet(excerpt, p.snippet);
            also.appendChild(excerpt);
          });
          a.appendChild(also);
        }
        li.appendChild(a);
        list.appendChild(li);
      });
      this._lowConfidence = !!(data && data.low_confidence);
      if (results.length) {
        var more = new URL(this._api + "/");
        more.searchParams.set("q", this._query);
        this._more.href = more.href;
        if (target) this._more.target = target;
      }
      this._open(results.length > 0 && this._input.value.trim().length >= MIN_CHARS);
    }

    _open(open) {
      open = open && this._results.length > 0;
      this._list.hidden = !open;
      this._input.setAttribute("aria-expanded", open ? "true" : "false");
      this._note.hidden = !(open && this._lowConfidence);
      this._more.hidden = !open;
      if (!open) this._setActive(-1);
    }

    _setActive(index) {
      var items = this._list.children;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      this._active = index;
      if (index >= 0 && items[index]) {
        this._input.setAttribute("aria-activedescendant", items[index].id);
        if (items[index].scrollIntoView) items[index].scrollIntoView({ block: "nearest" });
      } else {
        this._input.removeAttribute("aria-activedescendant");
      }
    }
  }

  window.customElements.define(TAG, SavoirFaireSearch);
})();
