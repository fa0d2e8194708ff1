// Suggestions under the search box of every page, as the reader types: the JSON of /search?prefix=1.
// Without this script the box is a plain GET form to /search. Text goes in with textContent only, and only
// links on this origin are followed (the Content-Security-Policy runs no other script either).
"use strict";
(function () {
  const DELAY_MS = 120;
  const LIMIT = 8;

  function attach(input) {
    const form = input.form;
    const list = document.createElement("ul");
    list.className = "suggestions";
    list.id = "search-suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    form.appendChild(list);
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-autocomplete", "list");
    let timer = null;
    let asked = 0;

    function close() { list.hidden = true; list.replaceChildren(); }

    function show(results, ticket) {
      if (ticket !== asked) { return; } // an older answer arriving after a newer one
      list.replaceChildren();
      for (const hit of results) {
        const target = new URL(hit.url || "", window.location.href);
        if (!hit.url || target.origin !== window.location.origin) { continue; }
        const item = document.createElement("li");
        item.setAttribute("role", "option");
        const link = document.createElement("a");
        link.href = target.href;
        link.textContent = hit.label;
        const kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = (hit.type || []).map(function (t) { return t.label; }).join(", ");
        link.appendChild(kind);
        item.appendChild(link);
        list.appendChild(item);
      }
      list.hidden = list.children.length === 0;
    }

    function ask() {
      const text = input.value.trim();
      const ticket = ++asked;
      if (!text) { close(); return; }
      const url = new URL(input.dataset.suggest, window.location.href);
      url.searchParams.set("q", text);
      url.searchParams.set("prefix", "1");
      url.searchParams.set("limit", String(LIMIT));
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (answer) { show(answer.results || [], ticket); })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !list.hidden) {
        event.preventDefault();
        list.querySelector("a").focus();
      } else if (event.key === "Escape") {
        close();
      }
    });
    list.addEventListener("keydown", function (event) {
      const links = Array.from(list.querySelectorAll("a"));
      const at = links.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
      if (event.key === "Escape") { close(); input.focus(); }
    });
    document.addEventListener("click", function (event) { if (!form.contains(event.target)) { close(); } });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-suggest]").forEach(attach);
  });
})();
