// Haven query page: send the query to the SPARQL endpoint and show the answer as a table.
// Plain DOM, no libraries: the page must work offline and from any host that serves Haven.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var textarea = document.getElementById("query");
  var status = document.getElementById("status");
  var errorBox = document.getElementById("error");
  var results = document.getElementById("results");
  var examples = JSON.parse(document.getElementById("example-queries").textContent);
  var endpoint = form.dataset.endpoint;
  var base = form.dataset.base;
  var root = form.dataset.root;
  // the only IRIs made clickable: the same test as haven.iris.is_web_url on the server
  var WEB_URL = /^https?:\/\//i;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    status.textContent = "The query failed.";
  }

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri" && WEB_URL.test(term.value)) {
      var a = document.createElement("a");
      // our IRIs browse on this host; everyone else's stay as they are
      a.href = base && term.value.indexOf(base) === 0 ? root + term.value.slice(base.length) : term.value;
      a.textContent = term.value;
      td.appendChild(a);
    } else {
      // literals, and IRIs a browser would not just fetch (javascript:, data:, urn:…), are shown as text:
      // a query is chosen by whoever wrote the link to this page, and IRI("javascript:…") is one
      td.textContent = term.value;
      if (term["xml:lang"]) { td.title = "@" + term["xml:lang"]; }
    }
    return td;
  }

  function render(data) {
    results.textContent = "";
    var table = document.createElement("table");
    table.className = "results-table";
    var thead = table.createTHead().insertRow();
    if (typeof data.boolean === "boolean") {
      var th = document.createElement("th"); th.textContent = "answer"; thead.appendChild(th);
      table.createTBody().insertRow().appendChild(cell({ type: "literal", value: String(data.boolean) }));
      results.appendChild(table);
      status.textContent = "ASK: " + data.boolean;
      return;
    }
    var vars = data.head.vars;
    vars.forEach(function (v) { var th = document.createElement("th"); th.scope = "col"; th.textContent = v; thead.appendChild(th); });
    var body = table.createTBody();
    data.results.bindings.forEach(function (b) {
      var row = body.insertRow();
      vars.forEach(function (v) { row.appendChild(cell(b[v])); });
    });
    results.appendChild(table);
    status.textContent = data.results.bindings.length + " row(s).";
  }

  function run() {
    errorBox.hidden = true;
    results.textContent = "";
    status.textContent = "Running…";
    var params = new URLSearchParams();
    params.set("query", textarea.value);
    fetch(endpoint, {
      method: "POST",
      headers: { "Accept": "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded" },
      body: params.toString()
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok) {
        return response.text().then(function (text) { showError("HTTP " + response.status + ": " + text); });
      }
      if (type.indexOf("json") < 0) {
        showError("This page shows SELECT and ASK results; the endpoint answered " + type + ".");
        return;
      }
      return response.json().then(render);
    }).catch(function (e) { showError(String(e)); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    history.replaceState(null, "", "?" + new URLSearchParams({ query: textarea.value }).toString());
    run();
  });
  document.getElementById("examples").addEventListener("change", function (event) {
    if (event.target.value !== "") { textarea.value = examples[Number(event.target.value)]; }
  });
  if (form.dataset.autorun === "true") { run(); }
}());
