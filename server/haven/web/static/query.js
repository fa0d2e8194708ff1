// Haven query page: YASGUI's editor (Yasqe) and result views (Yasr) over this server's /sparql.
// Without JavaScript, or if YASGUI did not load, the page is a plain form that the server answers itself.
// YASGUI is served by Haven (static/vendor/yasgui, from assets/package.json) and configured so that it never
// calls another host: no prefix.cc or LOV look-ups (autocompletion of prefixes from its bundled list and of
// variables only), no URL shortener, no endpoint other than this one, nothing kept in localStorage.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var textarea = document.getElementById("query");
  var editorEl = document.getElementById("editor");
  var answerEl = document.getElementById("answer");
  var capNote = document.getElementById("cap-note");
  var results = document.getElementById("results");
  var config = JSON.parse(document.getElementById("query-page-config").textContent);
  var endpoint = form.dataset.endpoint;
  var base = form.dataset.base;
  var root = form.dataset.root;
  var Yasgui = window.Yasgui;
  if (!Yasgui || !Yasgui.Yasqe || !Yasgui.Yasr) { return; }  // the plain form stays
  // the only IRIs made clickable: the same test as haven.iris.is_web_url on the server
  var WEB_URL = /^https?:\/\//i;
  // the answer's header when the server cut it at its result limit (routes.CAPPED_HEADER)
  var CAPPED_HEADER = "Haven-Result-Capped";

  // this page's own link to a query: what the server's example links and "Link to this query" are
  function linkTo(query) {
    return root + "query?" + new URLSearchParams({ query: query }).toString();
  }

  // DataTables, under Yasr's table view, guesses each column's type and measures its widest cell by rendering
  // every cell of every row, each through DOMPurify: 53 s for an answer of 10,000 rows (the cap) on the test
  // machine. Told that every column is text, and not to measure a large answer, it draws that one in about
  // 4 s; a small answer is still measured, so that its columns get the widths their contents need.
  var tableConfig = Yasgui.Yasr.plugins.table.defaults.tableConfig;
  tableConfig.columnDefs = [{ targets: "_all", type: "string" }];
  var MEASURED_BELOW_BYTES = 200000;

  // Yasqe merges its configuration into its defaults index by index, so a shorter list of autocompleters would
  // keep the defaults' tail (the LOV look-ups of classes and properties): the defaults themselves are set
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];

  // shown before the editor is made: CodeMirror measures its gutter when it starts
  form.hidden = true;
  editorEl.hidden = false;
  var yasqe = new Yasgui.Yasqe(editorEl, {
    value: textarea.value,
    persistenceId: null,
    consumeShareLink: null,
    createShareableLink: function (y) { return linkTo(y.getValue()); },
    createShortLink: undefined,
    autocompleters: ["prefixes", "variables"],
    prefixCcApi: null,
    resizeable: true,
    editorHeight: "18rem",
    requestConfig: {
      endpoint: endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle"
    }
  });
  var yasr = new Yasgui.Yasr(results, {
    persistenceId: null,
    prefixes: config.prefixes,
    getPlainQueryLinkToEndpoint: undefined
  });

  // the cap: the answer's header says the server cut it (JSON and XML results also link to the limit's
  // description in their head; the header is there for every format)
  function showCap(response) {
    var capped = response && response.headers && response.headers.get(CAPPED_HEADER);
    if (!capped) { capNote.hidden = true; return; }
    var limit = (/limit=(\d+)/.exec(capped) || [])[1];
    var unit = /^(CONSTRUCT|DESCRIBE)$/i.test(yasqe.getQueryType()) ? "triples" : "rows";
    capNote.textContent = "The answer was cut at " + (limit ? Number(limit).toLocaleString("en") + " " + unit : "the server's limit") +
      ", the most this server sends: there are more. Narrow the query (filters, LIMIT and OFFSET) " +
      "or download the dumps for everything.";
    capNote.hidden = false;
  }

  yasqe.on("query", function () {
    // the server's own rendering of an earlier query gives way to YASGUI's
    answerEl.hidden = true;
    capNote.hidden = true;
    history.replaceState(null, "", linkTo(yasqe.getValue()));
  });
  yasqe.on("queryResponse", function (y, response, duration) {
    showCap(response);
    tableConfig.autoWidth = Boolean(response && response.content && response.content.length < MEASURED_BELOW_BYTES);
    yasr.setResponse(response, duration);
  });

  // Yasr links every IRI where it points; Haven's own IRIs browse on this host instead (as the server's
  // table does), and an IRI that is no web URL is no link at all
  yasr.on("drawn", function () {
    results.querySelectorAll("a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (base && href.indexOf(base) === 0) {
        a.setAttribute("href", root + href.slice(base.length));
      } else if (!WEB_URL.test(href) && !a.closest(".yasr_header")) {
        a.replaceWith(document.createTextNode(a.textContent));
      }
    });
  });

  document.querySelectorAll("a.example-query").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      yasqe.setValue(config.examples[Number(link.dataset.example)]);
      editorEl.scrollIntoView({ block: "start" });
      yasqe.query().catch(function () { /* Yasr shows the error */ });
    });
  });
}());
