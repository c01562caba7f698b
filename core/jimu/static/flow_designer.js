// The flow designer (流程设计器), on LogicFlow (decision 0017).
//
// The page (templates/core/flow_designer.html) hands over everything in its JSON data block:
// the version's graph, the node types on offer with their settings schemas, the API addresses
// and every word shown here, already in the page's language. The graph is edited on a
// LogicFlow canvas and saved through the flows API in our own format (docs/workflows.md):
// nodes {id, type, label, x, y, settings}, edges {id, source, target, outcome, label}.
// No inline scripts or styles anywhere (the CSP forbids them).
(function () {
  "use strict";

  var root = document.getElementById("flow-designer");
  var source = document.getElementById("flow-designer-data");
  if (!root || !source || !window.Core || !window.Core.LogicFlow) { return; }

  var data = JSON.parse(source.textContent);
  var T = data.text;
  var Core = window.Core;
  var h = Core.h;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var editable = !!data.editable;
  var types = {};
  data.types.forEach(function (type) { types[type.key] = type; });
  var problemPatterns = data.problems.map(function (pair) {
    try { return [new RegExp(pair[0]), pair[1]]; } catch (error) { return null; }
  }).filter(Boolean);

  var NODE_W = 160, NODE_H = 52;
  var canvas = document.getElementById("designer-canvas");
  var panel = document.getElementById("designer-panel");
  var report = document.getElementById("designer-problems");
  var stateLine = document.getElementById("designer-state");
  var state = {
    version: data.version, status: data.status, saved: "", busy: false,
    selected: null,            // {kind: "node"|"edge", id}
    dynamicOutcomes: {},       // node id → outcomes, for types whose outcomes follow settings
    dragFrom: null,            // the dot a line is being drawn from
    outcomeTimers: {}
  };

  // ------------------------------------------------------------------ small helpers

  function fmt(template, params) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, name) {
      return params && params[name] !== undefined ? String(params[name]) : all;
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) { return; }
      if (key === "text") { node.textContent = value; }
      else if (key === "className") { node.className = value; }
      else if (key.slice(0, 2) === "on") { node.addEventListener(key.slice(2), value); }
      else if (value === true) { node.setAttribute(key, ""); }
      else { node.setAttribute(key, String(value)); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function svgIcon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    (data.icons[name] || data.icons.circle).forEach(function (d) {
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  function clone(value) { return JSON.parse(JSON.stringify(value === undefined ? null : value)); }

  function outcomeTitle(outcome) { return data.outcome_titles[outcome] || outcome; }

  // Roughly how wide a text is drawn at 13px: CJK characters take about twice a Latin one.
  function fit(text, maxWidth, size) {
    text = String(text || "");
    var width = 0;
    for (var i = 0; i < text.length; i++) {
      width += (text.charCodeAt(i) > 0x2e80 ? 1 : 0.58) * size;
      if (width > maxWidth) { return text.slice(0, Math.max(1, i - 1)) + "…"; }
    }
    return text;
  }

  function say(text) {
    stateLine.textContent = text || "";
  }

  // ------------------------------------------------------------------ the API

  function api(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).catch(function () {
      var error = new Error(T.network);
      error.status = 0;
      throw error;
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var error = new Error(json.message || String(response.status));
          error.status = response.status;
          error.body = json;
          throw error;
        }
        return json;
      });
    });
  }

  function url(name, params) { return fmt(data.urls[name].replace(/\{(\w+)\}/g, "%($1)s"), params); }

  // ------------------------------------------------------------------ LogicFlow

  function nodeType(model) { return types[(model.properties || {}).nodeType]; }

  function outcomesOf(nodeId) {
    var model = lf.getNodeModelById(nodeId);
    if (!model) { return []; }
    var type = nodeType(model);
    if (!type) { return null; }
    if (type.outcomes) { return type.outcomes; }
    return state.dynamicOutcomes[nodeId] || null;
  }

  function edgesFrom(nodeId) {
    return lf.getNodeOutgoingEdge(nodeId) || [];
  }

  function freeOutcomes(nodeId, exceptEdge) {
    var outcomes = outcomesOf(nodeId);
    if (outcomes === null) { return null; }
    var used = edgesFrom(nodeId).filter(function (edge) { return edge.id !== exceptEdge; })
      .map(function (edge) { return (edge.properties || {}).outcome; });
    return outcomes.filter(function (outcome) { return used.indexOf(outcome) < 0; });
  }

  class JimuNodeModel extends Core.RectNodeModel {
    setAttributes() {
      this.width = NODE_W;
      this.height = NODE_H;
      this.radius = 10;
      this.text.value = "";  // the name is drawn by the view, with the type under it
    }
    getConnectedSourceRules() {
      var rules = super.getConnectedSourceRules();
      rules.push({ message: T.no_way_out, validate: function (source) {
        var type = types[(source.properties || {}).nodeType];
        return !type || type.role !== "end";
      } });
      rules.push({ message: T.no_outcome_left, validate: function (source) {
        var free = freeOutcomes(source.id);
        return free === null || free.length > 0;
      } });
      return rules;
    }
    getConnectedTargetRules() {
      var rules = super.getConnectedTargetRules();
      rules.push({ message: T.self_loop, validate: function (source, target) {
        return source.id !== target.id;
      } });
      rules.push({ message: T.no_way_in, validate: function (source, target) {
        var type = types[(target.properties || {}).nodeType];
        return !type || type.role !== "start";
      } });
      return rules;
    }
  }

  class JimuNodeView extends Core.RectNode {
    getShape() {
      var model = this.props.model;
      var props = model.properties || {};
      var type = types[props.nodeType];
      var x = model.x - model.width / 2, y = model.y - model.height / 2;
      var classes = ["jimu-node", "role-" + (type ? type.role : "unknown"),
                     "cat-" + (type ? type.category : "unknown")];
      var problem = model.style && model.style.jimuProblem;
      if (model.isSelected) { classes.push("is-selected"); }
      if (problem) { classes.push("is-problem"); }
      if (!type) { classes.push("is-unknown"); }
      var title = type ? type.title : fmt(T.unknown_type, { type: props.nodeType });
      var icon = (data.icons[type ? type.icon : "circle"] || data.icons.circle).map(
        function (d) { return h("path", { d: d }); });
      return h("g", { className: classes.join(" "), "data-node-id": model.id,
                      "data-node-type": props.nodeType || "" },
        h("rect", { className: "jimu-card", x: x, y: y, width: model.width,
                    height: model.height, rx: model.radius, ry: model.radius }),
        h("circle", { className: "jimu-badge", cx: x + 25, cy: model.y, r: 15 }),
        h("g", { className: "jimu-icon",
                 transform: "translate(" + (x + 16) + " " + (model.y - 9) + ") scale(0.75)" },
          icon),
        h("text", { className: "jimu-label", x: x + 48, y: model.y - 3 },
          fit(props.label || title, model.width - 56, 13)),
        h("text", { className: "jimu-type", x: x + 48, y: model.y + 14 },
          fit(title, model.width - 56, 11)),
        problem ? h("g", { className: "jimu-alert" },
          h("circle", { cx: x + model.width - 2, cy: y + 2, r: 9 }),
          h("text", { x: x + model.width - 2, y: y + 6 }, "!")) : null);
    }
  }

  class JimuEdgeModel extends Core.PolylineEdgeModel {
    getEdgeStyle() {
      var style = super.getEdgeStyle();
      if (this.style && this.style.jimuProblem) {
        style.stroke = "#d92d20";
        style.strokeWidth = 2.5;
      } else if (this.isSelected) {
        style.stroke = "#1f6feb";
        style.strokeWidth = 2.5;
      }
      return style;
    }
  }

  var lf = new Core.LogicFlow({
    container: canvas,
    grid: { size: 20, visible: true, type: "dot", config: { color: "#c3cad5", thickness: 1 } },
    background: { backgroundColor: "#f8fafc" },
    keyboard: { enabled: false },  // ours below: it also works when the canvas has no focus
    isSilentMode: !editable,
    textEdit: false,
    adjustEdgeStartAndEnd: false,
    snapline: true,
    edgeType: "jimu-edge",
    plugins: window.Layout && window.Layout.Dagre ? [window.Layout.Dagre] : [],
    // A line dropped anywhere on a node ends at the node's dot that faces where it came from
    // (LogicFlow's default is the dot nearest the pointer: the top one for a drop mid-node).
    customTargetAnchor: function (node, position) {
      var from = state.dragFrom;
      if (!from || !node.anchors || !node.anchors.length) { return undefined; }
      var best = 0, bestDistance = Infinity;
      node.anchors.forEach(function (anchor, index) {
        var d = Math.pow(anchor.x - from.x, 2) + Math.pow(anchor.y - from.y, 2);
        if (d < bestDistance) { best = index; bestDistance = d; }
      });
      return { index: best, anchor: node.anchors[best] };
    },
    idGenerator: function (kind) {
      return (kind === "jimu-node" ? "node-" : "edge-") + Math.random().toString(36).slice(2, 10);
    },
    style: {
      polyline: { stroke: "#64748b", strokeWidth: 1.6 },
      arrow: { offset: 9, verticalLength: 4.5 },
      edgeText: { fontSize: 12, color: "#1e293b", background: { fill: "#ffffff", stroke: "#cbd5e1", radius: 4 } },
      anchor: { r: 5, fill: "#ffffff", stroke: "#1f6feb", strokeWidth: 1.5,
                hover: { r: 10, fill: "#1f6feb", fillOpacity: 0.15, stroke: "#1f6feb" } },
      anchorLine: { stroke: "#1f6feb", strokeWidth: 1.6, strokeDasharray: "4,3" },
      snapline: { stroke: "#1f6feb", strokeWidth: 1, strokeDasharray: "3,3" },
      edgeAdjust: { r: 4, fill: "#ffffff", stroke: "#1f6feb", strokeWidth: 1 }
    }
  });
  lf.register({ type: "jimu-node", view: JimuNodeView, model: JimuNodeModel });
  lf.register({ type: "jimu-edge", view: Core.PolylineEdge, model: JimuEdgeModel });
  lf.setDefaultEdgeType("jimu-edge");

  // ------------------------------------------------------------------ our graph ↔ LogicFlow

  function edgeText(outcome, label, sourceId) {
    if (label) { return label; }
    var outcomes = outcomesOf(sourceId);
    if (outcomes && outcomes.length === 1 && outcomes[0] === outcome) { return ""; }
    return outcome === "next" ? "" : outcomeTitle(outcome);
  }

  function toLogicFlow(graph) {
    var nodes = (graph.nodes || []).map(function (node) {
      return { id: node.id, type: "jimu-node", x: node.x || 0, y: node.y || 0,
               properties: { nodeType: node.type, label: node.label || "",
                             settings: clone(node.settings || {}) } };
    });
    var edges = (graph.edges || []).map(function (edge, index) {
      var outcome = edge.outcome || "next";
      return { id: edge.id || ("edge-" + edge.source + "-" + outcome + "-" + index),
               type: "jimu-edge", sourceNodeId: edge.source, targetNodeId: edge.target,
               properties: { outcome: outcome, label: edge.label || "" } };
    });
    return { nodes: nodes, edges: edges };
  }

  function fromLogicFlow() {
    var raw = lf.getGraphRawData();
    return {
      nodes: raw.nodes.map(function (node) {
        var props = node.properties || {};
        var out = { id: node.id, type: props.nodeType, label: props.label || "",
                    x: Math.round(node.x), y: Math.round(node.y) };
        if (props.settings && Object.keys(props.settings).length) { out.settings = props.settings; }
        return out;
      }),
      edges: raw.edges.map(function (edge) {
        var props = edge.properties || {};
        var out = { id: edge.id, source: edge.sourceNodeId, target: edge.targetNodeId,
                    outcome: props.outcome || "next" };
        if (props.label) { out.label = props.label; }
        return out;
      })
    };
  }

  function refreshEdgeTexts() {
    lf.graphModel.edges.forEach(function (edge) {
      var props = edge.properties || {};
      var text = edgeText(props.outcome || "next", props.label, edge.sourceNodeId);
      if ((edge.text && edge.text.value || "") !== text) { lf.updateText(edge.id, text); }
    });
  }

  // Outcomes of types such as a branch follow the node's settings: the server says which.
  function loadOutcomes(nodeId, delay) {
    var model = lf.getNodeModelById(nodeId);
    var type = model && nodeType(model);
    if (!type || type.outcomes) { return; }
    clearTimeout(state.outcomeTimers[nodeId]);
    state.outcomeTimers[nodeId] = setTimeout(function () {
      var current = lf.getNodeModelById(nodeId);
      if (!current) { return; }
      api("POST", url("outcomes", { key: encodeURIComponent(type.key) }),
          { settings: (current.properties || {}).settings || {} }).then(function (answer) {
        state.dynamicOutcomes[nodeId] = answer.outcomes;
      }).catch(function () {
        delete state.dynamicOutcomes[nodeId];  // settings not complete yet: outcomes unknown
      }).then(function () {
        refreshEdgeTexts();
        if (state.selected && (state.selected.id === nodeId
            || (state.selected.kind === "edge" && edgeSource(state.selected.id) === nodeId))) {
          showSelection();
        }
      });
    }, delay || 0);
  }

  function edgeSource(edgeId) {
    var edge = lf.getEdgeModelById(edgeId);
    return edge ? edge.sourceNodeId : null;
  }

  // ------------------------------------------------------------------ dirty state, history

  function snapshot() { return JSON.stringify(fromLogicFlow()); }

  function updateDirty() {
    if (!editable) { return; }
    var dirty = snapshot() !== state.saved;
    root.classList.toggle("is-dirty", dirty);
    if (!state.busy) { say(dirty ? T.unsaved : (state.saved ? T.all_saved : "")); }
  }

  function isDirty() { return editable && snapshot() !== state.saved; }

  function setToolState(undoAble, redoAble) {
    var undo = root.querySelector('[data-command="undo"]');
    var redo = root.querySelector('[data-command="redo"]');
    if (undo) { undo.disabled = !undoAble; }
    if (redo) { redo.disabled = !redoAble; }
  }

  // ------------------------------------------------------------------ problems

  function problemText(message) {
    for (var i = 0; i < problemPatterns.length; i++) {
      var match = problemPatterns[i][0].exec(message);
      if (match) {
        var groups = Object.assign({}, match.groups || {});
        if (groups.outcome) { groups.outcome = outcomeTitle(groups.outcome); }
        if (groups.offered && /^[\w, ]+$/.test(groups.offered)) {
          groups.offered = groups.offered.split(", ").map(outcomeTitle).join(", ");
        }
        return fmt(problemPatterns[i][1], groups);
      }
    }
    return message;
  }

  function clearMarks() {
    lf.graphModel.nodes.forEach(function (node) {
      if (node.style && node.style.jimuProblem) { node.setStyle("jimuProblem", 0); }
    });
    lf.graphModel.edges.forEach(function (edge) {
      if (edge.style && edge.style.jimuProblem) { edge.setStyle("jimuProblem", 0); }
    });
  }

  function elementName(kind, id) {
    if (kind === "node") {
      var node = lf.getNodeModelById(id);
      if (!node) { return id; }
      var type = nodeType(node);
      return (node.properties || {}).label || (type ? type.title : id);
    }
    var edge = lf.getEdgeModelById(id);
    if (!edge) { return T.connection; }
    return elementName("node", edge.sourceNodeId) + " → " + elementName("node", edge.targetNodeId);
  }

  function showReport(kind, title, problems) {
    clearMarks();
    report.hidden = false;
    report.className = "designer-problems " + kind;
    report.querySelector(".problems-title").textContent = title;
    var list = report.querySelector("ul");
    list.textContent = "";
    (problems || []).forEach(function (problem) {
      var target = null;
      if (problem.node && lf.getNodeModelById(problem.node)) {
        target = { kind: "node", id: problem.node };
        lf.getNodeModelById(problem.node).setStyle("jimuProblem", 1);
      } else if (problem.edge && lf.getEdgeModelById(problem.edge)) {
        target = { kind: "edge", id: problem.edge };
        lf.getEdgeModelById(problem.edge).setStyle("jimuProblem", 1);
      }
      var text = problemText(problem.message || "");
      var item;
      if (target) {
        item = el("li", { "data-problem-node": target.kind === "node" ? target.id : null,
                          "data-problem-edge": target.kind === "edge" ? target.id : null }, [
          el("button", { type: "button", className: "link-button problem-target",
                         text: elementName(target.kind, target.id),
                         onclick: function () { select(target.kind, target.id, true); } }),
          " — " + text
        ]);
      } else {
        item = el("li", {}, [el("strong", { text: T.flow_problem }), " — " + text]);
      }
      list.appendChild(item);
    });
  }

  function hideReport() {
    clearMarks();
    report.hidden = true;
  }

  function showFailure(error) {
    var problems = (error.body && error.body.errors) || [];
    var graphProblems = problems.length && problems.every(function (p) {
      return p.node || p.edge || p.field === "graph";
    });
    if (graphProblems) {
      showReport("error", fmt(T.problems, { count: problems.length }), problems);
    } else {
      var messages = problems.map(function (p) {
        return { message: (p.field ? p.field + ": " : "") + (p.message || "") };
      });
      showReport("error", T.failed + " " + problemText(error.message), messages);
    }
  }

  // ------------------------------------------------------------------ the side panel

  function labelled(id, text, control, help, required, tooltip) {
    var wide = control.tagName === "TEXTAREA" || control.hasAttribute("data-list");
    return el("div", { className: "panel-field" + (wide ? " wide" : "") }, [
      el("label", { "for": id, title: tooltip || null }, [text, required ? el("span", { className: "required", "aria-hidden": "true", text: " *" }) : null]),
      control,
      help ? el("small", { id: id + "-help", text: help }) : null
    ]);
  }

  var fieldSerial = 0;
  function nextId() { fieldSerial += 1; return "dp-" + fieldSerial; }

  function resolveSchema(schema, rootSchema) {
    if (!schema) { return {}; }
    var resolved = schema;
    if (schema.$ref) {
      var name = schema.$ref.split("/").pop();
      resolved = Object.assign({}, (rootSchema.$defs || {})[name] || {}, schema);
      delete resolved.$ref;
    }
    if (resolved.anyOf) {
      var branches = resolved.anyOf.filter(function (b) { return b.type !== "null"; });
      if (branches.length === 1) {
        var merged = Object.assign({}, resolveSchema(branches[0], rootSchema), resolved);
        delete merged.anyOf;
        merged.nullable = resolved.anyOf.length > branches.length;
        return merged;
      }
    }
    return resolved;
  }

  // A form for an object schema, editing ``value`` in place; ``changed`` is called after
  // every change the person makes.
  function objectForm(schema, rootSchema, value, changed, compact) {
    var box = el("div", { className: "schema-object" + (compact ? " compact" : "") });
    var required = schema.required || [];
    Object.keys(schema.properties || {}).forEach(function (name) {
      var prop = resolveSchema(schema.properties[name], rootSchema);
      if (compact && prop.description) {  // in a row, the help is the label's tooltip
        prop = Object.assign({}, prop, { tooltip: prop.description });
        delete prop.description;
      }
      box.appendChild(fieldFor(name, prop, rootSchema, value, required.indexOf(name) >= 0,
                               changed));
    });
    return box;
  }

  function setValue(target, name, v) {
    if (v === undefined) { delete target[name]; } else { target[name] = v; }
  }

  function fieldFor(name, prop, rootSchema, value, required, changed) {
    var id = nextId();
    var title = prop.title || name;
    var help = prop.description || "";
    var current = value[name];
    var shown = current === undefined ? prop.default : current;
    var disabled = !editable;
    var describedBy = help ? id + "-help" : null;

    if (prop.enum) {
      var titles = prop["x-enum-titles"] || {};
      var select = el("select", { id: id, disabled: disabled, "aria-describedby": describedBy,
                                  "data-setting": name });
      if (!required && prop.default === undefined) {
        select.appendChild(el("option", { value: "", text: T.none }));
      }
      prop.enum.forEach(function (option) {
        select.appendChild(el("option", { value: String(option), text: titles[option] || String(option),
                                          selected: String(option) === String(shown) }));
      });
      select.addEventListener("change", function () {
        setValue(value, name, select.value === "" ? undefined : select.value);
        changed();
      });
      return labelled(id, title, select, help, required, prop.tooltip);
    }
    if (prop.type === "boolean") {
      var box = el("input", { id: id, type: "checkbox", role: "switch", disabled: disabled,
                              checked: !!shown, "data-setting": name });
      box.addEventListener("change", function () { setValue(value, name, box.checked); changed(); });
      return el("div", { className: "panel-field checkbox" }, [
        el("label", { "for": id, title: prop.tooltip || null }, [box, " " + title]),
        help ? el("small", { id: id + "-help", text: help }) : null
      ]);
    }
    if (prop.type === "integer" || prop.type === "number") {
      var number = el("input", { id: id, type: "number", disabled: disabled, min: prop.minimum,
                                 max: prop.maximum, step: prop.type === "integer" ? 1 : "any",
                                 value: shown === undefined || shown === null ? "" : shown,
                                 "aria-describedby": describedBy, "data-setting": name });
      number.addEventListener("change", function () {
        var text = number.value.trim();
        var parsed = prop.type === "integer" ? parseInt(text, 10) : parseFloat(text);
        setValue(value, name, text === "" || isNaN(parsed) ? (prop.nullable ? null : undefined) : parsed);
        changed();
      });
      return labelled(id, title, number, help, required, prop.tooltip);
    }
    if (prop.type === "string") {
      var long = (prop.maxLength || 0) > 300;
      var input = el(long ? "textarea" : "input", {
        id: id, disabled: disabled, maxlength: prop.maxLength, rows: long ? 2 : null,
        inputmode: prop.format === "decimal" ? "decimal" : null, autocomplete: "off",
        "aria-describedby": describedBy, "data-setting": name });
      input.value = shown === undefined || shown === null ? "" : String(shown);
      input.addEventListener("change", function () {
        var text = input.value.trim();
        setValue(value, name, text === "" ? (prop.nullable ? null : (required ? "" : undefined)) : text);
        changed();
      });
      return labelled(id, title, input, help, required, prop.tooltip);
    }
    if (prop.type === "array") {
      var items = resolveSchema(prop.items, rootSchema);
      if (items.type === "object" || items.properties) {
        return rowsFor(name, prop, items, rootSchema, value, required, changed);
      }
      var list = el("input", { id: id, disabled: disabled, autocomplete: "off", "data-list": "",
                               "aria-describedby": id + "-help", "data-setting": name });
      list.value = (Array.isArray(shown) ? shown : []).join(", ");
      list.addEventListener("change", function () {
        var parts = list.value.split(/[,，、\s]+/).map(function (p) { return p.trim(); })
          .filter(Boolean);
        if (items.type === "integer" || items.type === "number") {
          parts = parts.map(Number).filter(function (n) { return !isNaN(n); });
        }
        setValue(value, name, parts.length || required ? parts : undefined);
        changed();
      });
      return labelled(id, title, list, [help, prop.tooltip ? "" : T.list_help].filter(Boolean).join(" "),
                      required, [prop.tooltip, T.list_help].filter(Boolean).join(" "));
    }
    if (prop.type === "object" && prop.properties) {
      if (typeof value[name] !== "object" || value[name] === null) { value[name] = {}; }
      return el("fieldset", { className: "schema-nested" }, [
        el("legend", { text: title }), objectForm(prop, rootSchema, value[name], changed)]);
    }
    var json = el("textarea", { id: id, disabled: disabled, rows: 3, "data-setting": name });
    json.value = shown === undefined ? "" : JSON.stringify(shown);
    json.addEventListener("change", function () {
      try { setValue(value, name, json.value.trim() ? JSON.parse(json.value) : undefined); }
      catch (error) { return; }
      changed();
    });
    return labelled(id, title, json, help, required, prop.tooltip);
  }

  // Arrays of objects (a form's fields, a branch's cases): one card per row.
  function rowsFor(name, prop, items, rootSchema, value, required, changed) {
    var block = el("fieldset", { className: "schema-rows", "data-setting": name });
    function defaults() {
      var row = {};
      Object.keys(items.properties || {}).forEach(function (key) {
        var p = resolveSchema(items.properties[key], rootSchema);
        var empty = p.default === "" || (typeof p.default === "object" && p.default !== null
                                         && !Object.keys(p.default).length);
        if (p.default !== undefined && p.default !== null && !empty) { row[key] = clone(p.default); }
      });
      return row;
    }
    function draw() {
      var rows = Array.isArray(value[name]) ? value[name] : [];
      block.textContent = "";
      block.appendChild(el("legend", {}, [prop.title || name,
        required ? el("span", { className: "required", "aria-hidden": "true", text: " *" }) : null]));
      if (prop.description) { block.appendChild(el("small", { className: "rows-help", text: prop.description })); }
      rows.forEach(function (row, index) {
        var tools = editable ? el("span", { className: "row-tools" }, [
          el("button", { type: "button", className: "tool icon-only", title: T.move_up, "aria-label": T.move_up,
                         disabled: index === 0, text: "↑",
                         onclick: function () { rows.splice(index - 1, 0, rows.splice(index, 1)[0]); changed(); draw(); } }),
          el("button", { type: "button", className: "tool icon-only", title: T.move_down, "aria-label": T.move_down,
                         disabled: index === rows.length - 1, text: "↓",
                         onclick: function () { rows.splice(index + 1, 0, rows.splice(index, 1)[0]); changed(); draw(); } }),
          el("button", { type: "button", className: "tool icon-only danger", title: T.remove_row,
                         "aria-label": T.remove_row, text: "✕", "data-remove-row": index,
                         onclick: function () { rows.splice(index, 1); setValue(value, name, rows.length || required ? rows : undefined); changed(); draw(); } })
        ]) : null;
        block.appendChild(el("div", { className: "schema-row", "data-row": index }, [
          el("div", { className: "row-head" }, [el("span", { text: fmt(T.row, { number: index + 1 }) }), tools]),
          objectForm(items, rootSchema, row, changed, true)
        ]));
      });
      var max = prop.maxItems || 1000;
      if (editable && rows.length < max) {
        block.appendChild(el("button", { type: "button", className: "tool add-row", "data-add-row": name,
          text: "+ " + T.add_row + " · " + (prop.title || name),
          onclick: function () {
            var list = Array.isArray(value[name]) ? value[name] : [];
            list.push(defaults());
            value[name] = list;
            changed();
            draw();
            var inputs = block.querySelectorAll(".schema-row:last-of-type input, .schema-row:last-of-type select");
            if (inputs.length) { inputs[0].focus(); }
          } }));
      }
    }
    draw();
    return block;
  }

  function nodePanel(id) {
    var model = lf.getNodeModelById(id);
    if (!model) { return flowPanel(); }
    var props = model.properties || {};
    var type = types[props.nodeType];
    var labelId = nextId();
    var label = el("input", { id: labelId, value: props.label || "", maxlength: 200,
                              autocomplete: "off", disabled: !editable, "data-node-label": "" });
    label.addEventListener("change", function () {
      lf.setProperties(id, { label: label.value.trim() });
    });
    var parts = [
      el("div", { className: "panel-head" }, [
        el("span", { className: "palette-icon cat-" + (type ? type.category : "unknown") }, [svgIcon(type ? type.icon : "circle")]),
        el("div", {}, [el("h2", { text: type ? type.title : fmt(T.unknown_type, { type: props.nodeType }) }),
                       el("small", { className: "muted", text: T.node_id + ": " + id })])
      ]),
      type && type.description ? el("p", { className: "muted panel-description", text: type.description }) : null,
      labelled(labelId, T.node_label, label, "", false)
    ];
    if (type && type.schema) {
      var schema = type.schema;
      var main = resolveSchema(schema, schema);
      var settings = clone(props.settings || {}) || {};
      parts.push(el("h3", { text: T.settings }));
      parts.push(objectForm(main, schema, settings, function () {
        lf.setProperties(id, { settings: clone(settings) });
        loadOutcomes(id, 400);
      }));
    } else if (type) {
      parts.push(el("p", { className: "muted", text: T.no_settings }));
    }
    var outcomes = outcomesOf(id);
    if (outcomes && outcomes.length) {
      var edges = edgesFrom(id);
      parts.push(el("h3", { text: T.outcomes }));
      parts.push(el("ul", { className: "outcome-list" }, outcomes.map(function (outcome) {
        var edge = edges.filter(function (e) { return (e.properties || {}).outcome === outcome; })[0];
        return el("li", {}, [el("strong", { text: outcomeTitle(outcome) }), " " + T.leads_to + " ",
          edge ? el("button", { type: "button", className: "link-button", text: elementName("node", edge.targetNodeId),
                                onclick: function () { select("node", edge.targetNodeId, true); } })
               : el("em", { className: "muted", text: T.not_connected })]);
      })));
    }
    if (editable) {
      parts.push(el("button", { type: "button", className: "secondary danger panel-delete", text: T.delete_node,
                                onclick: function () { lf.deleteNode(id); showFlowPanel(); } }));
    }
    return parts;
  }

  function edgePanel(id) {
    var edge = lf.getEdgeModelById(id);
    if (!edge) { return flowPanel(); }
    var props = edge.properties || {};
    var outcomes = outcomesOf(edge.sourceNodeId) || [];
    var current = props.outcome || "next";
    var choices = outcomes.slice();
    if (choices.indexOf(current) < 0) { choices.push(current); }
    var selectId = nextId();
    var select = el("select", { id: selectId, disabled: !editable, "data-edge-outcome": id });
    choices.forEach(function (outcome) {
      select.appendChild(el("option", { value: outcome, text: outcomeTitle(outcome) + (outcomeTitle(outcome) !== outcome ? " (" + outcome + ")" : ""),
                                        selected: outcome === current }));
    });
    select.addEventListener("change", function () {
      lf.setProperties(id, { outcome: select.value });
      refreshEdgeTexts();
    });
    var several = outcomes.length > 1;
    var parts = [
      el("div", { className: "panel-head" }, [el("h2", { text: T.connection })]),
      el("dl", { className: "facts" }, [
        el("dt", { text: T.from }), el("dd", { text: elementName("node", edge.sourceNodeId) }),
        el("dt", { text: T.to }), el("dd", { text: elementName("node", edge.targetNodeId) })
      ]),
      several && editable ? el("p", { className: "notice info choose-outcome", text: T.choose_outcome }) : null,
      labelled(selectId, T.outcome, select, "", true)
    ];
    if (editable) {
      parts.push(el("button", { type: "button", className: "secondary danger panel-delete", text: T.delete_edge,
                                onclick: function () { lf.deleteEdge(id); showFlowPanel(); } }));
    }
    return parts;
  }

  function flowPanel() {
    var raw = lf.getGraphRawData();
    return [
      el("div", { className: "panel-head" }, [el("h2", { text: data.flow.name })]),
      el("p", { className: "muted", text: editable ? T.help : T.read_only }),
      el("dl", { className: "facts" }, [
        el("dt", { text: T.node }), el("dd", { text: String(raw.nodes.length) }),
        el("dt", { text: T.connection }), el("dd", { text: String(raw.edges.length) })
      ])
    ];
  }

  function render(parts) {
    panel.textContent = "";
    parts.forEach(function (part) { if (part) { panel.appendChild(part); } });
  }

  function showSelection() {
    var selected = state.selected;
    if (selected && selected.kind === "node" && lf.getNodeModelById(selected.id)) {
      render(nodePanel(selected.id));
      panel.setAttribute("data-selected-node", selected.id);
      panel.removeAttribute("data-selected-edge");
    } else if (selected && selected.kind === "edge" && lf.getEdgeModelById(selected.id)) {
      render(edgePanel(selected.id));
      panel.setAttribute("data-selected-edge", selected.id);
      panel.removeAttribute("data-selected-node");
    } else {
      showFlowPanel();
    }
  }

  function showFlowPanel() {
    state.selected = null;
    panel.removeAttribute("data-selected-node");
    panel.removeAttribute("data-selected-edge");
    render(flowPanel());
  }

  function select(kind, id, focus) {
    lf.clearSelectElements();
    lf.selectElementById(id);
    if (focus && kind === "node") { lf.focusOn(id); }
    state.selected = { kind: kind, id: id };
    showSelection();
  }

  // ------------------------------------------------------------------ palette (drag and drop)

  function newNodeId(key) {
    var base = String(key).replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 50) || "node";
    for (var n = 1; ; n++) {
      if (!lf.getNodeModelById(base + "-" + n)) { return base + "-" + n; }
    }
  }

  function nodeConfig(key) {
    var type = types[key];
    return { id: newNodeId(key), type: "jimu-node",
             properties: { nodeType: key, label: type.title, settings: {} } };
  }

  root.querySelectorAll("[data-node-type]").forEach(function (item) {
    var key = item.getAttribute("data-node-type");
    item.addEventListener("mousedown", function (event) {
      if (event.button !== 0) { return; }
      event.preventDefault();
      lf.dnd.startDrag(nodeConfig(key));
    });
    // Without a mouse (keyboard, or a click without dragging): place it in the middle.
    item.addEventListener("click", function () {
      var box = canvas.getBoundingClientRect();
      var point = lf.getPointByClient(box.left + box.width / 2, box.top + box.height / 2)
        .canvasOverlayPosition;
      var count = lf.graphModel.nodes.length;
      var config = nodeConfig(key);
      config.x = point.x + (count % 5) * 24;
      config.y = point.y + (count % 5) * 24;
      var model = lf.addNode(config);
      select("node", model.id, false);
    });
  });

  // ------------------------------------------------------------------ events

  lf.on("node:click", function (event) { select("node", event.data.id, false); });
  lf.on("node:dnd-add", function (event) {
    select("node", event.data.id, false);
    canvas.focus({ preventScroll: true });
  });
  lf.on("edge:click", function (event) { select("edge", event.data.id, false); });
  lf.on("blank:click", function () { showFlowPanel(); });
  lf.on("node:delete,edge:delete", function () {
    if (state.selected && !lf.getModelById(state.selected.id)) { showFlowPanel(); }
    refreshEdgeTexts();
  });
  lf.on("edge:add", function (event) {
    var edge = event.data;
    var free = freeOutcomes(edge.sourceNodeId, edge.id);
    var outcomes = outcomesOf(edge.sourceNodeId) || [];
    var outcome = (free && free[0]) || outcomes[0] || "next";
    lf.setProperties(edge.id, { outcome: outcome, label: "" });
    refreshEdgeTexts();
    if (outcomes.length > 1) {
      select("edge", edge.id, false);  // several ways out: the person picks which one this is
      var chooser = panel.querySelector("[data-edge-outcome]");
      if (chooser) { chooser.focus(); }
    } else if (state.selected && state.selected.kind === "node") {
      showSelection();
    }
  });
  lf.on("anchor:dragstart", function (event) { state.dragFrom = event.data; });
  lf.on("anchor:dragend", function () { state.dragFrom = null; });
  lf.on("connection:not-allowed", function (event) {
    if (event && event.msg) { say(event.msg); }
  });
  lf.on("history:change", function (event) {
    setToolState(event.data.undoAble, event.data.redoAble);
    updateDirty();
  });

  // ------------------------------------------------------------------ commands

  function fitView() {
    if (!lf.graphModel.nodes.length) { return; }
    lf.fitView(60, 60);
    if (lf.graphModel.transformModel.SCALE_X > 1) {
      lf.zoom(1);
      lf.translateCenter();
    }
  }

  function layout() {
    if (!lf.extension.dagre || !lf.graphModel.nodes.length) { return; }
    lf.extension.dagre.layout({ rankdir: "LR", align: undefined, nodesep: 50, ranksep: 80,
                                marginx: 60, marginy: 60 });
    refreshEdgeTexts();
    fitView();
  }

  function busy(text) {
    state.busy = !!text;
    root.classList.toggle("is-busy", state.busy);
    root.querySelectorAll("[data-command=save],[data-command=check],[data-command=publish]")
      .forEach(function (button) {
        button.disabled = state.busy;
        if (state.busy) { button.setAttribute("aria-busy", "true"); } else { button.removeAttribute("aria-busy"); }
      });
    if (text) { say(text); } else { updateDirty(); }
  }

  function markSaved(answer) {
    state.version = answer.version;
    state.status = answer.status;
    state.saved = snapshot();
    var badge = document.querySelector('[data-testid="version-status"]');
    if (badge) {
      badge.textContent = data.version_titles[answer.status] || answer.status;
      badge.className = "badge version-" + answer.status;
      var label = badge.parentNode.firstChild;
      if (label && label.nodeType === 3) { label.textContent = fmt(data.version_label, { version: answer.version }) + " "; }
    }
    var note = document.querySelector('[data-testid="new-draft-note"]');
    if (note) { note.remove(); }
  }

  // Save when there is something to save: changes, an explicit save, or publishing a version
  // that is not a draft (an edited copy of the live version becomes a new draft first).
  function saveIfNeeded(mode) {
    var needed = isDirty() || mode === "save" || (mode === "publish" && state.status !== "draft");
    if (!editable || !needed) { return Promise.resolve(state.version); }
    return api("PUT", data.urls.draft, { graph: fromLogicFlow() }).then(function (answer) {
      markSaved(answer);
      return answer.version;
    });
  }

  function save() {
    busy(T.saving);
    saveIfNeeded("save").then(function (version) {
      busy(null);
      hideReport();
      say(fmt(T.saved, { version: version }));
    }).catch(function (error) { busy(null); showFailure(error); });
  }

  function check() {
    busy(T.checking);
    saveIfNeeded("check").then(function (version) {
      return api("POST", url("check", { version: version }));
    }).then(function (answer) {
      busy(null);
      if (answer.ok) {
        showReport("ok", T.check_ok, []);
      } else {
        showReport("error", fmt(T.problems, { count: answer.problems.length }), answer.problems);
      }
    }).catch(function (error) { busy(null); showFailure(error); });
  }

  function publish() {
    busy(T.saving);
    saveIfNeeded("publish").then(function (version) {
      busy(null);
      if (!window.confirm(fmt(T.publish_confirm, { version: version }))) { return null; }
      busy(T.publishing);
      return api("POST", url("publish", { version: version })).then(function () {
        state.saved = snapshot();
        window.location.assign(data.urls.page + "?published=" + encodeURIComponent(version));
      });
    }).catch(function (error) { busy(null); showFailure(error); });
  }

  function undo() { lf.undo(); showFlowPanel(); refreshEdgeTexts(); }
  function redo() { lf.redo(); showFlowPanel(); refreshEdgeTexts(); }

  function deleteSelected() {
    var chosen = lf.getSelectElements(true);
    lf.clearSelectElements();
    chosen.edges.forEach(function (edge) { lf.deleteEdge(edge.id); });
    chosen.nodes.forEach(function (node) { lf.deleteNode(node.id); });
    showFlowPanel();
  }

  var commands = {
    "undo": undo, "redo": redo, "zoom-in": function () { lf.zoom(true); },
    "zoom-out": function () { lf.zoom(false); }, "fit": fitView, "layout": layout,
    "save": save, "check": check, "publish": publish
  };
  root.querySelectorAll("[data-command]").forEach(function (button) {
    button.addEventListener("click", function () { commands[button.getAttribute("data-command")](); });
  });

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (!editable) { return; }
    var key = (event.key || "").toLowerCase();
    var mod = event.ctrlKey || event.metaKey;
    if (mod && key === "s") {
      event.preventDefault();
      if (typing(event.target)) { event.target.blur(); }  // its change is saved too
      save();
      return;
    }
    if (typing(event.target)) { return; }
    if (mod && key === "z") { event.preventDefault(); if (event.shiftKey) { redo(); } else { undo(); } }
    else if (mod && key === "y") { event.preventDefault(); redo(); }
    else if ((key === "delete" || key === "backspace") && !mod && lf.getSelectElements(true).nodes.length + lf.getSelectElements(true).edges.length) {
      event.preventDefault();
      deleteSelected();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (isDirty() && !state.busy) { event.preventDefault(); event.returnValue = ""; }
  });

  // ------------------------------------------------------------------ start

  var graph = toLogicFlow(data.graph || {});
  var placed = graph.nodes.some(function (node) { return node.x || node.y; });
  lf.render(graph);
  graph.nodes.forEach(function (node) { loadOutcomes(node.id, 0); });
  refreshEdgeTexts();
  if (!placed && graph.nodes.length > 1) { layout(); } else { fitView(); }
  // What was loaded (and laid out) is the starting point of the history and of "unsaved".
  lf.history.undos = [];
  lf.history.redos = [];
  lf.history.watch(lf.graphModel);
  setToolState(false, false);
  state.saved = snapshot();
  updateDirty();
  say("");
  canvas.setAttribute("tabindex", "0");
  showFlowPanel();
  root.setAttribute("data-ready", "true");
})();
