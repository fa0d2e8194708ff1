/* Haven's pictures: the network (Cytoscape) and the timeline (vis-timeline) drawn from the JSON the server puts in
   the page (<script type="application/json" id="pictures-data">, built by haven.web.pictures.data). The page
   lists the same statements as text; without JavaScript the pictures stay hidden and the lists say it all.
   Text from the data is only ever set as text (textContent, Cytoscape labels), never parsed as HTML, and only
   links to this site are followed. */
(function () {
  "use strict";

  // distinct colours, dark enough for a line on white (Okabe-Ito, Tableau 10, then Kelly's and Trubetskoy's); a picture gives
  // them to its kinds in the legend's order (families together)
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8c564b", "#7f7f7f",
                 "#bcbd22", "#9467bd", "#17becf", "#000000", "#e6194b", "#3cb44b", "#911eb4", "#808000",
                 "#000075", "#f58231", "#469990", "#9a6324"];

  function localLink(href) {
    if (!href) { return null; }
    try {
      var url = new URL(href, window.location.href);
      return url.origin === window.location.origin ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function coloursOf(kinds) {
    var colours = {};
    kinds.forEach(function (kind, i) {
      // past the palette, hues a golden angle apart: never the same colour twice in one picture
      colours[kind.id] = i < PALETTE.length ? PALETTE[i] : "hsl(" + Math.round((i * 137.508) % 360) + ", 65%, 38%)";
    });
    return colours;
  }

  function kindLegend(list, kinds, colours) {
    var lastFamily = null;
    kinds.forEach(function (kind) {
      var item = element("li", kind.family !== lastFamily ? "family-start" : "");
      var swatch = element("span", "kind-swatch");
      swatch.style.backgroundColor = colours[kind.id];  // CSSOM, which the policy allows (style attributes it does not)
      item.appendChild(swatch);
      var text = kind.label + (kind.family !== kind.id ? " (" + kind.family_label.toLowerCase() + ")" : "");
      item.appendChild(document.createTextNode(" " + text));
      list.appendChild(item);
      lastFamily = kind.family;
    });
  }

  function drawNetwork(container, data) {
    var colours = coloursOf(data.kinds);
    var elements = data.nodes.map(function (n) {
      return { group: "nodes", data: { id: n.id, label: n.label, href: localLink(n.href) || "", focus: n.focus } };
    }).concat(data.edges.map(function (e) {
      return { group: "edges", data: { id: e.id, source: e.source, target: e.target, label: e.label,
               colour: colours[e.kind] || "#555", hedged: e.hedged, href: localLink(e.href) || "" } };
    }));
    var large = container.getAttribute("data-layout") === "dataset";
    // every edge named on a small picture; on a busy one only the edge under the pointer
    var named = data.edges.length <= 12;
    var cy = cytoscape({
      container: container,
      elements: elements,
      boxSelectionEnabled: false,
      autoungrabify: false,
      minZoom: 0.2,
      maxZoom: 3,
      style: [
        { selector: "node", style: {
          "label": "data(label)", "font-size": large ? 9 : 11, "text-wrap": "wrap", "text-max-width": 110,
          "text-valign": "bottom", "text-margin-y": 3, "width": 16, "height": 16, "background-color": "#6b7280",
          "color": "#111827", "text-background-color": "#ffffff", "text-background-opacity": 0.8,
          "text-background-padding": 1 } },
        { selector: "node[?focus]", style: { "width": 26, "height": 26, "background-color": "#111827",
          "font-weight": "bold" } },
        { selector: "node[href != '']", style: { "border-width": 2, "border-color": "#ffffff" } },
        { selector: "edge", style: {
          "width": 2.5, "line-color": "data(colour)", "target-arrow-color": "data(colour)",
          "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 1.1 } },
        { selector: "edge[?hedged]", style: { "line-style": "dashed", "line-dash-pattern": [6, 4] } },
        { selector: named ? "edge" : "edge.hover", style: {
          "label": "data(label)", "font-size": 8, "text-rotation": "autorotate", "color": "#374151",
          "text-outline-color": "#ffffff", "text-outline-width": 1.5, "text-margin-y": -7 } }
      ],
      // rings: the entity alone in the middle and its parties around it; on the dataset network, the most
      // connected parties inwards (deterministic, unlike a force layout, so a picture is the same every time)
      layout: large
        ? { name: "concentric", animate: false, padding: 24, minNodeSpacing: 44,
            concentric: function (node) { return node.degree(); },
            levelWidth: function (nodes) { return Math.max(1, nodes.maxDegree() / 4); } }
        : { name: "concentric", animate: false, padding: 24, minNodeSpacing: 90,
            concentric: function (node) { return node.data("focus") ? 2 : 1; },
            levelWidth: function () { return 1; } }
    });
    function follow(evt) {
      var href = evt.target.data("href");
      if (href) { window.location.assign(href); }
    }
    cy.on("tap", "node", follow);
    cy.on("tap", "edge", follow);
    cy.on("mouseover", "edge", function (evt) { evt.target.addClass("hover"); });
    cy.on("mouseout", "edge", function (evt) { evt.target.removeClass("hover"); });
    cy.on("mouseover", "node[href != '']", function () { container.classList.add("pointing"); });
    cy.on("mouseout", "node", function () { container.classList.remove("pointing"); });
    // what was drawn, for readers of the page (and its tests): the counts Cytoscape holds
    container.setAttribute("data-nodes", String(cy.nodes().length));
    container.setAttribute("data-edges", String(cy.edges().length));
    var legend = container.parentNode.querySelector(".legend-kinds");
    if (legend) { kindLegend(legend, data.kinds, colours); }
    return cy;
  }

  // -- the timeline ---------------------------------------------------------------------------------------------

  var SPAN = { day: [1, "day"], month: [1, "month"], year: [1, "year"], decade: [10, "year"] };

  function utc(text) { return moment.utc(text, "YYYY-MM-DD"); }

  // the end of the period a date stands for at its precision: 1996 (year) covers 1996 up to 1997
  function upper(text, precision) {
    var span = SPAN[precision] || SPAN.day;
    return utc(text).add(span[0], span[1]);
  }

  function drawTimeline(container, items) {
    var known = [];
    items.forEach(function (it) {
      if (it.start) { known.push(utc(it.start)); known.push(upper(it.start, it.startPrecision)); }
      if (it.end) { known.push(utc(it.end)); known.push(upper(it.end, it.endPrecision)); }
    });
    var first = moment.min(known), last = moment.max(known);
    var margin = Math.max(last.diff(first, "days") / 8, 365);
    // an open end runs to the right edge of what the timeline shows, an unknown start from the left edge
    var left = first.clone().subtract(margin, "days"), right = last.clone().add(margin, "days");
    var rows = items.map(function (it) {
      var classes = ["certainty-" + (it.certainty || "none").toLowerCase()];
      if (it.hedged) { classes.push("hedged"); }
      if (it.start) { classes.push("start-" + (it.startPrecision || "day")); } else { classes.push("open-start"); }
      // no end: a statement's period whose end the source does not give runs on; an event's own date is the
      // day, month or year it happened
      var end = it.end ? upper(it.end, it.endPrecision) : (it.openEnded ? right : upper(it.start, it.startPrecision));
      if (it.end || !it.openEnded) {
        classes.push("end-" + ((it.end ? it.endPrecision : it.startPrecision) || "day"));
      } else {
        classes.push("open-end");
      }
      var content = element("span", "item-text");
      var when = (it.startText || "?") + (it.endText && it.endText !== it.startText ? " – " + it.endText : "");
      content.appendChild(element("span", "item-when", when + (it.openEnded ? " –" : "")));
      content.appendChild(document.createTextNode(" " + it.text));
      return {
        id: it.id, content: content, type: "range", className: classes.join(" "),
        start: (it.start ? utc(it.start) : left).toDate(),
        end: end.toDate(),
        href: localLink(it.href)
      };
    });
    var timeline = new vis.Timeline(container, new vis.DataSet(rows), {
      start: left.toDate(), end: right.toDate(), min: left.clone().subtract(margin * 4, "days").toDate(),
      max: right.clone().add(margin * 4, "days").toDate(), stack: true, selectable: false, zoomKey: "ctrlKey",
      maxHeight: 480, verticalScroll: true,
      moment: function (date) { return moment(date).utc(); }, margin: { item: { horizontal: 0, vertical: 6 } },
      // the earliest periods at the top, where the timeline opens (items stack from the bottom by default)
      orientation: { axis: "top", item: "top" }, showCurrentTime: false
    });
    timeline.on("click", function (props) {
      var row = rows.filter(function (r) { return r.id === props.item; })[0];
      if (row && row.href) { window.location.assign(row.href); }
    });
    container.setAttribute("data-items", String(rows.length));
    return timeline;
  }

  function start() {
    var source = document.getElementById("pictures-data");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var section = source.parentNode;
    section.hidden = false;
    var drawn = {};
    var network = document.getElementById("network");
    if (network && data.edges.length) { drawn.network = drawNetwork(network, data); }
    var timeline = document.getElementById("timeline");
    if (timeline && data.timeline && data.timeline.length) { drawn.timeline = drawTimeline(timeline, data.timeline); }
    window.havenPictures = drawn;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
